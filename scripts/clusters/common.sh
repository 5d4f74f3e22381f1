# Shared settings and helpers for the local-clusters scripts. Sourced, not run.
# Runtime state (pids, certificates, kubeconfig, logs) lives in STATE_DIR;
# things that are slow to make (Kubernetes binaries, images) live in CACHE_DIR.
# Neither is inside the work tree.

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"   # retry, apt_install

STATE_DIR=${LOCAL_CLUSTERS_STATE:-/var/lib/cloudify-vnf-local}
CACHE_DIR=${LOCAL_CLUSTERS_CACHE:-/var/cache/cloudify-vnf}
K8S_VERSION=1.20.2
# Bump K8S_BUILD when the build changes (patches, flags): binaries cached by an older build
# (recorded in $K8S_BIN/BUILD) are rebuilt.
K8S_BUILD=$K8S_VERSION-p1
K8S_BIN=$CACHE_DIR/kubernetes-$K8S_VERSION/bin
KUBECONFIG_PATH=$STATE_DIR/kubeconfig
DOCKER_SOCK=/var/run/docker.sock
LOG_DIR=$STATE_DIR/logs
NODE_NAME=node1

log() { printf '[local-clusters %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND until it succeeds, logging progress.
wait_for() {
  local limit=$1 what=$2; shift 2
  local start=$SECONDS next_report=$((SECONDS + 10))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS - start >= limit)); then
      log "gave up waiting for $what after $((SECONDS - start))s"
      return 1
    fi
    if ((SECONDS >= next_report)); then
      log "still waiting for $what ($((SECONDS - start))s)"
      next_report=$((SECONDS + 10))
    fi
    sleep 0.5
  done
  log "$what: ready after $((SECONDS - start))s"
}

# pid_alive NAME: true when the daemon we started under NAME is still running: its recorded pid
# is alive and still runs the program we started (after a reboot or a crash the pid may be
# another process's; the program is checked in its command line, setsid's or the daemon's own).
pid_alive() {
  local f=$STATE_DIR/pids/$1.pid program pid
  [[ -f $f ]] || return 1
  pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null || return 1
  [[ -f $STATE_DIR/pids/$1.program ]] || return 0   # recorded by an older start_daemon
  program=$(cat "$STATE_DIR/pids/$1.program")
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$program"
}

# start_daemon NAME COMMAND...: start COMMAND in the background unless already running.
start_daemon() {
  local name=$1; shift
  mkdir -p "$STATE_DIR/pids" "$LOG_DIR"
  if pid_alive "$name"; then
    log "$name already running (pid $(cat "$STATE_DIR/pids/$name.pid"))"
    return 0
  fi
  log "starting $name"
  printf '%s\n' "$1" >"$STATE_DIR/pids/$name.program"
  (close_inherited_fds; exec setsid "$@") >"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE_DIR/pids/$name.pid"
}

# close_inherited_fds: close every descriptor above 2 that this shell inherited, so that a daemon
# does not hold what its caller had open: `flock LOCK scripts/local-clusters up` would otherwise
# leave the lock held by the daemon for as long as it runs (seen: a restarted kubelet kept the
# tests' cluster lock). 255 is bash's own script descriptor, closed on exec anyway.
close_inherited_fds() {
  local fd
  for fd in $(ls /proc/$BASHPID/fd); do
    ((fd > 2 && fd != 255)) && eval "exec $fd>&-"
  done
  return 0
}

# stop_daemon NAME: stop what start_daemon started, by its recorded pid only.
stop_daemon() {
  local name=$1 f=$STATE_DIR/pids/$1.pid pid
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  if pid_alive "$name"; then   # never a process that merely took over the recorded pid
    log "stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f" "$STATE_DIR/pids/$name.program"
}
