# Configure the manager's parts once: secrets, certificates, the two hard-coded symlinks, the
# PostgreSQL cluster, the RabbitMQ definitions, the REST configuration and schema, and the types
# the import resolver serves offline. Sourced by scripts/real-manager; every step is idempotent.

make_secrets() {
  mkdir -p "$SECRETS" && chmod 700 "$SECRETS"
  local f
  for f in "$ADMIN_PASSWORD_FILE" "$RABBIT_PASSWORD_FILE"; do
    [[ -s $f ]] || (umask 077; "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(18))' >"$f")
  done
  if [[ ! -s $OPT/rest-security.conf ]]; then
    mkdir -p "$OPT"
    # encryption_key: 64 random bytes, urlsafe base64 (cloudify's Fernet256; 32 bytes fail)
    (umask 077; "$PYTHON" -c 'import base64, json, os, secrets; print(json.dumps({
        "secret_key": secrets.token_hex(16), "hash_salt": secrets.token_hex(16),
        "encryption_key": base64.urlsafe_b64encode(os.urandom(64)).decode()}))' >"$OPT/rest-security.conf")
  fi
}

make_certificates() {
  [[ -s $CA && -s $SSL/cloudify_internal_cert.pem && -s $SSL/rabbitmq-cert.pem ]] && return 0
  mkdir -p "$SSL" && cd "$SSL"
  openssl req -x509 -newkey rsa:2048 -nodes -batch -sha256 -days 3650 -subj '/CN=cloudify-vnf-test-ca' \
    -keyout cloudify_internal_ca_key.pem -out cloudify_internal_ca_cert.pem \
    -addext 'basicConstraints=critical,CA:true' -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null
  local name key cert
  for name in internal rabbitmq; do
    key=cloudify_${name}_key.pem cert=cloudify_${name}_cert.pem
    [[ $name == rabbitmq ]] && key=rabbitmq-key.pem cert=rabbitmq-cert.pem
    openssl req -newkey rsa:2048 -nodes -batch -sha256 -keyout "$key" -out "$name.csr" -subj '/CN=localhost' 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >"$name.ext"
    openssl x509 -req -in "$name.csr" -CA cloudify_internal_ca_cert.pem -CAkey cloudify_internal_ca_key.pem \
      -CAcreateserial -sha256 -days 3650 -extfile "$name.ext" -out "$cert" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
  done
  chmod 644 ./*_cert.pem rabbitmq-cert.pem; chmod 600 ./*key.pem
  chown rabbitmq: rabbitmq-key.pem
  cd - >/dev/null
}

# /opt/manager and /etc/cloudify are hard-coded in cloudify-common and the REST service.
# Refuses to replace anything that is not already our own symlink.
make_symlinks() {
  mkdir -p "$OPT" "$ETC" "$RESOURCES"
  local link target
  for link in /opt/manager /etc/cloudify; do
    target=$OPT; [[ $link == /etc/cloudify ]] && target=$ETC
    if [[ -e $link || -L $link ]] && [[ $(readlink "$link") != "$target" ]]; then
      die "$link exists and is not this manager's symlink (to $target); refusing to replace it"
    fi
    ln -sfn "$target" "$link"
  done
  ln -sfn "$SSL" "$ETC/ssl"
  ln -sfn "$RESOURCES" "$OPT/resources"
}

pg() { su postgres -s /bin/sh -c "$*"; }
psql_admin() { psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }

start_postgres() {
  mkdir -p "$MANAGER_STATE/pg" && chown postgres: "$MANAGER_STATE/pg"
  [[ -e $MANAGER_STATE/pg/data/PG_VERSION ]] || pg "$PG_BIN/initdb -D $MANAGER_STATE/pg/data -U postgres --auth=trust -E UTF8" >/dev/null
  if ! pg "$PG_BIN/pg_ctl -D $MANAGER_STATE/pg/data status" >/dev/null 2>&1; then
    pg "$PG_BIN/pg_ctl -D $MANAGER_STATE/pg/data -l $MANAGER_STATE/pg/postgresql.log -w -o '-p $PG_PORT -k $MANAGER_STATE/pg -c listen_addresses=127.0.0.1' start" >/dev/null
    head -1 "$MANAGER_STATE/pg/data/postmaster.pid" >"$(pid_file postgresql)"
  fi
  psql_admin -tc "select 1 from pg_roles where rolname='cloudify'" | grep -q 1 ||
    psql_admin -c "CREATE USER cloudify WITH PASSWORD 'cloudify' SUPERUSER" -c "CREATE DATABASE cloudify_db OWNER cloudify"
}

write_rabbit_config() {
  mkdir -p "$RABBIT"/{home,mnesia,log}
  local upstream=$MANAGER_SRC/service_containers/rabbitmq
  sed -e "s#/etc/cloudify/ssl#$SSL#g" -e "s#/etc/cloudify/rabbitmq/definitions.json#$RABBIT/definitions.json#" \
    "$upstream/config/rabbitmq.config" >"$RABBIT/rabbitmq.config"
  echo '[rabbitmq_management].' >"$RABBIT/enabled_plugins"
  if [[ ! -s $RABBIT/definitions.json ]]; then
    cp "$upstream/config/definitions.json" "$RABBIT/definitions.json"
    RABBITMQ_USERNAME=cloudify RABBITMQ_PASSWORD=$(cat "$RABBIT_PASSWORD_FILE") \
      "$REST_VENV/bin/python" - "$upstream/script" "$RABBIT/definitions.json" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import configure_definitions
definitions = configure_definitions.Definitions()
definitions.file_path = sys.argv[2]
definitions.configure()
PY
  fi
  chown -R rabbitmq: "$RABBIT"
}

write_rest_config() {
  cat >"$OPT/cloudify-rest.conf" <<EOF
postgresql_db_name: cloudify_db
postgresql_host: 127.0.0.1:$PG_PORT
postgresql_username: cloudify
postgresql_password: cloudify
file_server_type: local
file_server_root: $RESOURCES
EOF
  # The import resolver maps the official types URLs onto the types this manager serves, with no
  # fallback to the network: an unknown version fails at once instead of hanging offline.
  local rules="" prefix
  for prefix in http://www.getcloudify.org http://www.cloudify.co http://getcloudify.org http://cloudify.co \
                https://www.getcloudify.org https://www.cloudify.co https://getcloudify.org https://cloudify.co; do
    rules+="        - {$prefix/spec: file:///opt/manager/resources/spec}"$'\n'
  done
  (umask 077; cat >"$OPT/config.yaml" <<EOF
manager:
  hostname: cloudify-vnf-manager
  private_ip: 127.0.0.1
  public_ip: 127.0.0.1
  file_server_type: local
  file_server_root: $RESOURCES
  file_server_url: $REST_URL/resources
  internal_rest_port: $HTTPS_PORT
  security: {admin_username: admin, admin_password: "$(cat "$ADMIN_PASSWORD_FILE")"}
rabbitmq:
  ca_path: $CA
  username: cloudify
  password: "$(cat "$RABBIT_PASSWORD_FILE")"
  cluster_members: {rabbitmq: {networks: {default: localhost}}}
provider_context:
  cloudify:
    import_resolver:
      parameters:
        fallback: false
        rules:
$rules
EOF
  )
}

# Schema and configure_manager run once per database (configure_manager resets DB config rows):
# skipped when the database already has its manager row.
configure_database() {
  local managers
  managers=$(psql -qtA -h 127.0.0.1 -p "$PG_PORT" -U cloudify cloudify_db -c 'select count(*) from managers' 2>/dev/null || true)
  [[ ${managers:-0} -ge 1 ]] && return 0
  (cd "$MANAGER_SRC/rest-service/migrations" && "$REST_VENV/bin/alembic" upgrade head >"$LOGS/alembic.log" 2>&1) ||
    { tail -20 "$LOGS/alembic.log"; die "alembic upgrade failed"; }
  "$REST_VENV/bin/python" -m manager_rest.configure_manager -c "$OPT/config.yaml" >"$LOGS/configure_manager.log" 2>&1 ||
    { tail -20 "$LOGS/configure_manager.log"; die "configure_manager failed"; }
  # configure_manager writes /var/log/cloudify and /opt/manager/maintenance paths into the DB,
  # whose values override the conf file.
  psql -q -h 127.0.0.1 -p "$PG_PORT" -U cloudify cloudify_db <<EOF
update config set value='"$LOGS/cloudify-rest-service.log"' where name='rest_service_log_path';
update config set value='"$LOGS/cloudify-api-service.log"' where name='api_service_log_path';
update config set value='"$OPT/maintenance"' where name='maintenance_folder';
EOF
}

# Types: `cloudify/types/types.yaml` (Cloudify 7's short import form) and the resolver's spec tree
# (the version cache the source ships, plus this version's own files under 7.0.0 and 7.0.5, as
# the blueprints import http://cloudify.co/spec/cloudify/7.0.0/types.yaml and its _1_3/_1_4 forms).
install_types() {
  local types=$MANAGER_SRC/resources/rest-service/cloudify/types version
  mkdir -p "$RESOURCES/cloudify" "$RESOURCES/spec/cloudify"
  rm -rf "$RESOURCES/cloudify/types" && cp -r "$types" "$RESOURCES/cloudify/"
  cp -r "$types/cache/." "$RESOURCES/spec/cloudify/"
  for version in 7.0.0 "$CLOUDIFY_VERSION"; do
    mkdir -p "$RESOURCES/spec/cloudify/$version"
    cp "$types"/types*.yaml "$RESOURCES/spec/cloudify/$version/"
  done
}
