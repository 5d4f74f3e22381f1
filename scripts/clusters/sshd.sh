# A local SSH "master" for the Kubernetes plugin's kubectl-over-SSH mode: sshd on 127.0.0.1:2222
# with its own host key, config and pid under $STATE_DIR/ssh, key-only login for root with a
# generated client key, and a known_hosts file that pins the host key. Sourced by local-clusters.
#   client key   $SSH_DIR/client_key        known_hosts  $SSH_DIR/known_hosts
SSH_DIR=$STATE_DIR/ssh
SSH_PORT=2222

ssh_ok() {
  ssh -F /dev/null -p "$SSH_PORT" -i "$SSH_DIR/client_key" -o BatchMode=yes \
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$SSH_DIR/known_hosts" \
    -o ConnectTimeout=5 root@127.0.0.1 true
}

ssh_keys() {
  mkdir -p "$SSH_DIR"; chmod 700 "$SSH_DIR"
  [[ -f $SSH_DIR/host_ed25519_key ]] || ssh-keygen -q -t ed25519 -N '' -C local-master -f "$SSH_DIR/host_ed25519_key"
  [[ -f $SSH_DIR/client_key ]] || ssh-keygen -q -t ed25519 -N '' -C cloudify-vnf-tests -f "$SSH_DIR/client_key"
  cp "$SSH_DIR/client_key.pub" "$SSH_DIR/authorized_keys"; chmod 600 "$SSH_DIR/authorized_keys"
  echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$SSH_DIR/host_ed25519_key.pub")" >"$SSH_DIR/known_hosts"
  cat >"$SSH_DIR/sshd_config" <<CFG
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $SSH_DIR/host_ed25519_key
PidFile $SSH_DIR/sshd.pid
AuthorizedKeysFile $SSH_DIR/authorized_keys
AllowUsers root
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
X11Forwarding no
AllowTcpForwarding no
CFG
}

ssh_up() {
  if pid_alive sshd && ssh_ok; then
    log "sshd answering on 127.0.0.1:$SSH_PORT"
    return 0
  fi
  ssh_keys
  mkdir -p /run/sshd
  /usr/sbin/sshd -t -f "$SSH_DIR/sshd_config" || die "sshd config invalid ($SSH_DIR/sshd_config)"
  start_daemon sshd /usr/sbin/sshd -D -e -f "$SSH_DIR/sshd_config"
  wait_for 30 "sshd on 127.0.0.1:$SSH_PORT" ssh_ok || die "sshd did not answer; see $LOG_DIR/sshd.log"
}

ssh_down() {
  stop_daemon sshd
}

ssh_status() {
  if pid_alive sshd && ssh_ok; then
    echo "ssh:        up   root@127.0.0.1:$SSH_PORT  key $SSH_DIR/client_key  known_hosts $SSH_DIR/known_hosts"
  else
    echo "ssh:        down"
  fi
}
