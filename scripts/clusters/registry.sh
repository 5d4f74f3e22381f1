# A real OCI registry for the Helm release tests (oci:// charts): Debian's docker-registry
# (distribution 2.8), its own config, storage, htpasswd and pid under $REGISTRY_DIR, on
# 127.0.0.1:$REGISTRY_PORT. It requires credentials (htpasswd, bcrypt): user $REGISTRY_USER, a
# password generated once into $REGISTRY_DIR/password (mode 600), so the tests show real
# credentials reaching helm. Plain HTTP (helm's --plain-http): it listens on loopback only, where
# no one else sees the traffic, and TLS would add a CA every client must be given.
# Once up, the test chart (tests/blueprints/helm-release/resources/web-0.1.0.tgz) is pushed as
# $REGISTRY_CHART (helm push, logged in through a private registry config, not ~/.config/helm).
# Sourced by scripts/local-clusters (registry_up, registry_down, registry_status).

REGISTRY_DIR=$STATE_DIR/registry
REGISTRY_PORT=15000
REGISTRY_HOST=127.0.0.1:$REGISTRY_PORT
REGISTRY_USER=vnf-tests
REGISTRY_CHART=oci://$REGISTRY_HOST/charts/web:0.1.0
REGISTRY_BIN=/usr/bin/docker-registry

_registry_python() {
  local venv
  venv=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.venv/bin/python
  if [[ -x $venv ]]; then echo "$venv"; else command -v python3; fi
}

# A bcrypt htpasswd line for $REGISTRY_USER: python's bcrypt (paramiko's dependency, in the
# suite's virtualenv), else apache2-utils' htpasswd -B. The password goes through stdin only.
_registry_htpasswd() {
  local py; py=$(_registry_python)
  if "$py" -c 'import bcrypt' 2>/dev/null; then
    "$py" -c 'import bcrypt, sys
user, password = sys.argv[1], sys.stdin.read().encode()
print(user + ":" + bcrypt.hashpw(password, bcrypt.gensalt(10)).decode())' "$REGISTRY_USER" \
      <"$REGISTRY_DIR/password"
  else
    apt_install apache2-utils || die "could not install apache2-utils (htpasswd)"
    htpasswd -niB "$REGISTRY_USER" <"$REGISTRY_DIR/password"
  fi
}

_registry_config() {
  mkdir -p "$REGISTRY_DIR/data"; chmod 700 "$REGISTRY_DIR"
  if [[ ! -s $REGISTRY_DIR/password ]]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=\n' >"$REGISTRY_DIR/password")
  fi
  (umask 077; _registry_htpasswd >"$REGISTRY_DIR/htpasswd")
  [[ -s $REGISTRY_DIR/http_secret ]] ||
    (umask 077; head -c 24 /dev/urandom | base64 | tr -d '\n' >"$REGISTRY_DIR/http_secret")
  cat >"$REGISTRY_DIR/config.yml" <<CFG
version: 0.1
log:
  level: warn
  fields: {service: registry}
storage:
  filesystem: {rootdirectory: $REGISTRY_DIR/data}
  delete: {enabled: true}
http:
  addr: $REGISTRY_HOST
  secret: $(cat "$REGISTRY_DIR/http_secret")
auth:
  htpasswd: {realm: cloudify-vnf-local, path: $REGISTRY_DIR/htpasswd}
CFG
  chmod 600 "$REGISTRY_DIR/config.yml"
}

# The registry answers /v2/ with 401 (credentials required) without them, 200 with them.
registry_ok() {
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY_HOST/v2/") == 401 ]] &&
    [[ $(curl -s -o /dev/null -w '%{http_code}' -K - "http://$REGISTRY_HOST/v2/" \
          <<<"user = \"$REGISTRY_USER:$(cat "$REGISTRY_DIR/password")\"") == 200 ]]
}

# helm push of the test chart, logged in with a private registry config (removed after).
_registry_push_chart() {
  local home chart
  chart=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tests/blueprints/helm-release/resources/web-0.1.0.tgz
  home=$(mktemp -d)
  local -a flags=(--registry-config "$home/registry.json")
  HOME=$home HELM_CONFIG_HOME=$home/config HELM_CACHE_HOME=$home/cache HELM_DATA_HOME=$home/data \
    "$HELM_BIN" registry login "$REGISTRY_HOST" --plain-http --username "$REGISTRY_USER" \
    --password-stdin "${flags[@]}" <"$REGISTRY_DIR/password" >/dev/null 2>&1 &&
  HOME=$home HELM_CONFIG_HOME=$home/config HELM_CACHE_HOME=$home/cache HELM_DATA_HOME=$home/data \
    "$HELM_BIN" push "$chart" "oci://$REGISTRY_HOST/charts" --plain-http "${flags[@]}" >/dev/null
  local rc=$?
  rm -rf "$home"
  return $rc
}

registry_up() {
  apt_install docker-registry || die "could not install docker-registry"
  if ! (pid_alive registry && registry_ok); then
    _registry_config
    start_daemon registry "$REGISTRY_BIN" serve "$REGISTRY_DIR/config.yml"
    wait_for 30 "OCI registry on $REGISTRY_HOST" registry_ok ||
      die "the registry did not answer; see $LOG_DIR/registry.log"
  fi
  retry 3 _registry_push_chart || die "helm push of the test chart to $REGISTRY_HOST failed"
  log "chart pushed: $REGISTRY_CHART (user $REGISTRY_USER)"
}

registry_down() {
  stop_daemon registry
}

registry_status() {
  if pid_alive registry && registry_ok; then
    echo "registry:   up   oci://$REGISTRY_HOST (plain HTTP, loopback)  user $REGISTRY_USER  password in $REGISTRY_DIR/password  chart $REGISTRY_CHART"
  else
    echo "registry:   down"
  fi
}
