# Settings and helpers for scripts/real-manager. Sourced, not run.
#
# Everything the manager writes lives in MANAGER_STATE (default /var/lib/cloudify-vnf-manager),
# plus two symlinks the Cloudify code hard-codes: /opt/manager and /etc/cloudify. Ports are the
# manager's own (the local clusters use 6443, 2222 and 18080):
#   18443 nginx (https: REST API and file server), 18100 gunicorn (REST service, loopback only),
#   15432 PostgreSQL, 5671/15671/25672 RabbitMQ (AMQPS, management, distribution; epmd 4369).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/scripts/lib.sh"

MANAGER_STATE=${MANAGER_STATE:-/var/lib/cloudify-vnf-manager}
CLOUDIFY_SOURCE=${CLOUDIFY_SOURCE:-$ROOT/../shared/real-manager/cloudify-7.0.5-src.tar.gz}
CLOUDIFY_VERSION=7.0.5
HTTPS_PORT=${MANAGER_HTTPS_PORT:-18443}
REST_PORT=${MANAGER_REST_PORT:-18100}
PG_PORT=${MANAGER_PG_PORT:-15432}
PG_BIN=/usr/lib/postgresql/15/bin
PYTHON=${PYTHON:-python3}

SRC=$MANAGER_STATE/src
MANAGER_SRC=$SRC/cloudify-manager
AGENT_SRC=$SRC/cloudify-agent
REST_VENV=$MANAGER_STATE/rest-venv
MW_VENV=$MANAGER_STATE/mgmtworker-venv
SSL=$MANAGER_STATE/ssl
CA=$SSL/cloudify_internal_ca_cert.pem
RESOURCES=$MANAGER_STATE/resources
OPT=$MANAGER_STATE/opt-manager
ETC=$MANAGER_STATE/etc-cloudify
RABBIT=$MANAGER_STATE/rabbitmq
NGINX=$MANAGER_STATE/nginx
MW_HOME=$MANAGER_STATE/mgmtworker
SECRETS=$MANAGER_STATE/secrets
ADMIN_PASSWORD_FILE=$SECRETS/admin_password
RABBIT_PASSWORD_FILE=$SECRETS/rabbitmq_password
PIDS=$MANAGER_STATE/pids
LOGS=$MANAGER_STATE/logs
STAMPS=$MANAGER_STATE/stamps
REST_URL=https://127.0.0.1:$HTTPS_PORT
# What a manager administrator allows blueprints to read from the host (CLOUDIFY_VNF_ALLOWED_DIRS
# of the mgmtworker, os.pathsep-separated; cloudify_shared/local_files.py): here only the local
# clusters' pki directory, whose token and CA the manager tests name by host path.
ALLOWED_DIRS=${MANAGER_ALLOWED_DIRS:-${LOCAL_CLUSTERS_STATE:-/var/lib/cloudify-vnf-local}/pki}
# What it allows blueprints to reach (the mgmtworker's CLOUDIFY_VNF_ALLOWED_* settings,
# cloudify_shared/reach.py; unset on a manager: nothing). Exactly the endpoints the manager tests
# use: the local Docker socket and the tests' mutual-TLS Engine (tests/helpers/tls_engine.py), the
# local Kubernetes API, the local sshd of the kubectl-over-SSH tests, this manager's own REST
# API for the DeploymentProxy tests that name it, and the local OCI registry of the Helm test that
# pulls a chart with credentials from a Cloudify secret (scripts/clusters/registry.sh; no chart
# repository: the test of one shows its refusal). Each MANAGER_ALLOWED_* variable overrides one.
TLS_ENGINE_PORT=${MANAGER_TLS_ENGINE_PORT:-12376}
ALLOWED_DOCKER_HOSTS=${MANAGER_ALLOWED_DOCKER_HOSTS-unix:///var/run/docker.sock tcp://127.0.0.1:$TLS_ENGINE_PORT}
ALLOWED_KUBERNETES_APIS=${MANAGER_ALLOWED_KUBERNETES_APIS-https://127.0.0.1:6443}
ALLOWED_SSH_HOSTS=${MANAGER_ALLOWED_SSH_HOSTS-127.0.0.1:2222}
ALLOWED_MANAGERS=${MANAGER_ALLOWED_MANAGERS-https://127.0.0.1:$HTTPS_PORT}
ALLOWED_CHART_SOURCES=${MANAGER_ALLOWED_CHART_SOURCES-oci://127.0.0.1:15000}

export MANAGER_REST_CONFIG_PATH=$OPT/cloudify-rest.conf
export MANAGER_REST_SECURITY_CONFIG_PATH=$OPT/rest-security.conf
export SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONWARNINGS=ignore

log() { printf '[real-manager %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# timed TITLE COMMAND...: run one step, logging its duration.
timed() {
  local title=$1 start=$SECONDS; shift
  "$@"
  log "$title: $((SECONDS - start))s"
}

# wait_until SECONDS WHAT COMMAND...: poll COMMAND, logging what it waits for and for how long.
wait_until() {
  local limit=$1 what=$2 start=$SECONDS next=$((SECONDS + 10)); shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS - start < limit)) || { log "gave up waiting for $what after $((SECONDS - start))s"; return 1; }
    if ((SECONDS >= next)); then log "still waiting for $what ($((SECONDS - start))s)"; next=$((SECONDS + 10)); fi
    sleep 0.5
  done
}

# A daemon started by this script: its pid file, and whether it is alive.
pid_file() { echo "$PIDS/$1.pid"; }
alive() { local f; f=$(pid_file "$1"); [[ -s $f ]] && kill -0 "$(cat "$f")" 2>/dev/null; }

# stop_pid NAME: stop the process recorded under NAME (TERM, then KILL after 15 s); nothing else.
stop_pid() {
  local name=$1 f pid; f=$(pid_file "$1")
  [[ -s $f ]] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    log "stopped $name (pid $pid)"
  fi
  rm -f "$f"
}

# stamp NAME VALUE / stamped NAME VALUE: a step done once for VALUE (e.g. a file's checksum).
stamp() { mkdir -p "$STAMPS"; echo "$2" >"$STAMPS/$1"; }
stamped() { [[ -f $STAMPS/$1 && $(cat "$STAMPS/$1") == "$2" ]]; }

version_answers() {
  curl -sf --max-time 5 --cacert "$CA" -u "admin:$(cat "$ADMIN_PASSWORD_FILE")" "$REST_URL/api/v3.1/version"
}

rabbit_api() {  # rabbit_api PATH: GET on the RabbitMQ management API
  curl -sf --max-time 5 --cacert "$CA" -u "cloudify:$(cat "$RABBIT_PASSWORD_FILE")" "https://localhost:15671/api/$1"
}
