# Docker Engine + single-node Swarm on 127.0.0.1. Sourced by local-clusters.

docker_ok() { docker -H "unix://$DOCKER_SOCK" info >/dev/null 2>&1; }

docker_up() {
  # dockerd runs the wrapper from this path for every container: keep it current even when
  # dockerd is already up.
  mkdir -p "$STATE_DIR/bin"
  install -m 0755 "$SCRIPT_DIR/clusters/runc-wrapper" "$STATE_DIR/bin/runc-wrapper"
  if docker_ok; then
    log "dockerd answering on $DOCKER_SOCK"
  else
    pid_alive dockerd && die "dockerd (pid $(cat "$STATE_DIR/pids/dockerd.pid")) runs but does not answer; see $LOG_DIR/dockerd.log"
    start_daemon dockerd dockerd --host "unix://$DOCKER_SOCK" --storage-driver=vfs \
      --add-runtime "sandbox-runc=$STATE_DIR/bin/runc-wrapper" --default-runtime=sandbox-runc
    wait_for 60 "dockerd" docker_ok || die "dockerd did not start; see $LOG_DIR/dockerd.log"
  fi
  if [[ $(docker info --format '{{.Swarm.LocalNodeState}}') != active ]]; then
    log "initialising swarm on 127.0.0.1"
    docker swarm init --advertise-addr 127.0.0.1 >/dev/null
  fi
  local node
  node=$(docker info --format '{{.Swarm.NodeID}}')
  docker node update --label-add role=router "$node" >/dev/null
}

docker_down() {
  stop_daemon dockerd
}

docker_status() {
  if docker_ok; then
    echo "docker:     up   endpoint unix://$DOCKER_SOCK  swarm=$(docker info --format '{{.Swarm.LocalNodeState}}') ($(docker version --format '{{.Server.Version}}'))"
  else
    echo "docker:     down"
  fi
}
