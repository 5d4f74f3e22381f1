# Start and stop the manager's daemons, each recorded by pid in $PIDS. Sourced by
# scripts/real-manager. Start order: PostgreSQL (configure.sh), RabbitMQ, REST service, nginx,
# mgmtworker; stop order the reverse. Only processes this script started are ever stopped.

# RabbitMQ is up when its virtual hosts run. Judged by the health check, not by the management
# statistics (overview, queues): after heavy load those answered 500 (badkey rabbit@localhost)
# while the broker itself served the manager, and `up` then started a second RabbitMQ.
rabbit_up() { rabbit_api health/checks/virtual-hosts; }

start_rabbitmq() {
  if rabbit_up >/dev/null 2>&1; then return 0; fi
  if alive rabbitmq; then  # ours, but not answering: give it time, then restart it (never a second one)
    wait_until 30 "RabbitMQ (pid $(cat "$(pid_file rabbitmq)")) to answer" rabbit_up && return 0
    stop_rabbitmq
  fi
  cat >"$RABBIT/start.sh" <<EOF
#!/bin/sh
export HOME=$RABBIT/home RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_BASE=$RABBIT \\
  RABBITMQ_MNESIA_BASE=$RABBIT/mnesia RABBITMQ_LOG_BASE=$RABBIT/log \\
  RABBITMQ_CONFIG_FILE=$RABBIT/rabbitmq.config RABBITMQ_ENABLED_PLUGINS_FILE=$RABBIT/enabled_plugins \\
  RABBITMQ_PID_FILE=$RABBIT/rabbit.pid RABBITMQ_CONF_ENV_FILE=/dev/null \\
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="+S 2:2 +sbwt none +sbwtdcpu none +sbwtdio none"
exec /usr/lib/rabbitmq/bin/rabbitmq-server
EOF
  chmod +x "$RABBIT/start.sh" && chown rabbitmq: "$RABBIT/start.sh"
  su rabbitmq -s /bin/sh -c "setsid $RABBIT/start.sh >$RABBIT/log/stdout.log 2>&1 </dev/null &"
  wait_until 120 "RabbitMQ's health check" rabbit_up ||
    { tail -20 "$RABBIT/log/stdout.log"; die "RabbitMQ did not start"; }
  cp "$RABBIT/rabbit.pid" "$(pid_file rabbitmq)"
}

start_rest() {
  alive rest && return 0
  cat >"$MANAGER_STATE/start-rest.sh" <<EOF
#!/bin/sh
export MANAGER_REST_CONFIG_PATH=$MANAGER_REST_CONFIG_PATH MANAGER_REST_SECURITY_CONFIG_PATH=$MANAGER_REST_SECURITY_CONFIG_PATH
export SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONWARNINGS=ignore
cd /
exec $REST_VENV/bin/gunicorn --pid $(pid_file rest) --workers 2 --bind 127.0.0.1:$REST_PORT --timeout 300 \\
  --access-logfile $LOGS/rest-access.log manager_rest.wsgi:app
EOF
  chmod 700 "$MANAGER_STATE/start-rest.sh"
  setsid "$MANAGER_STATE/start-rest.sh" >"$LOGS/gunicorn.log" 2>&1 </dev/null &
  echo $! >"$(pid_file rest)"
}

# nginx: the REST service answers file downloads with X-Accel-Redirect, and the mgmtworker
# fetches blueprints and wagons from /resources (auth_request to the REST service first).
start_nginx() {
  alive nginx && return 0
  mkdir -p "$NGINX"/{logs,tmp}
  cat >"$NGINX/nginx.conf" <<EOF
# derived from cloudify-manager-install 7.0.5's nginx configuration (REST + file server only)
worker_processes 1;
pid $(pid_file nginx);
error_log $NGINX/logs/error.log;
events { worker_connections 256; }
http {
  access_log $NGINX/logs/access.log;
  client_body_temp_path $NGINX/tmp/body; proxy_temp_path $NGINX/tmp/proxy;
  fastcgi_temp_path $NGINX/tmp/fcgi; uwsgi_temp_path $NGINX/tmp/uwsgi; scgi_temp_path $NGINX/tmp/scgi;
  client_max_body_size 0m;
  upstream cloudify-rest { server 127.0.0.1:$REST_PORT; }
  server {
    listen 127.0.0.1:$HTTPS_PORT ssl;
    ssl_certificate     $SSL/cloudify_internal_cert.pem;
    ssl_certificate_key $SSL/cloudify_internal_key.pem;
    location /api/ {
      proxy_pass http://cloudify-rest; proxy_redirect off; proxy_read_timeout 300;
      proxy_buffering off; proxy_request_buffering off;
      proxy_set_header Host \$host; proxy_set_header X-Real-IP \$remote_addr;
      proxy_set_header X-Server-Port \$server_port; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
    location /resources {
      auth_request /resources-auth;
      proxy_pass http://cloudify-rest/api/v3.1/file-server-proxy;
      proxy_set_header X-Original-URI \$request_uri; proxy_set_header X-Original-Method \$request_method;
    }
    location /resources-local { internal; alias $RESOURCES; }
    location /resources-auth {
      internal;
      proxy_pass http://cloudify-rest/api/v3.1/file-server-auth;
      proxy_pass_request_body off; proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI \$request_uri; proxy_set_header X-Original-Method \$request_method;
    }
  }
}
EOF
  nginx -c "$NGINX/nginx.conf" -p "$NGINX" -e "$NGINX/logs/error.log"
}

# The mgmtworker consumes its workflow queue. Asked of the management API, and when that API's
# statistics fail (see rabbit_up), of rabbitmqctl, which reads the broker itself.
mgmtworker_consuming() {
  local answer
  if answer=$(rabbit_api queues/%2F/cloudify.management_workflow); then
    grep -q '"consumers":[1-9]' <<<"$answer"
  else
    su rabbitmq -s /bin/sh -c "HOME=$RABBIT/home /usr/lib/rabbitmq/bin/rabbitmqctl -q -n rabbit@localhost list_queues name consumers" 2>/dev/null |
      grep -Eq '^cloudify\.management_workflow[[:space:]]+[1-9]'
  fi
}

# The mgmtworker's start script, printed (the environment of cloudify-manager-install 7.0.5's
# cloudify-mgmtworker service, plus the suite's local-file policy setting: see ALLOWED_DIRS).
mgmtworker_script() {
  cat <<EOF
#!/bin/bash
# a daemon keeps no file its starter had open (a caller's flock would be held for its lifetime)
for fd in /proc/\$\$/fd/*; do n=\${fd##*/}; ((n > 2)) && exec {n}>&-; done
# environment of cloudify-manager-install 7.0.5's cloudify-mgmtworker service
export MGMTWORKER_HOME=$MW_HOME VIRTUALENV_DIR=$MW_VENV PATH=$MW_VENV/bin:\$PATH
export AGENT_WORK_DIR=$MW_HOME/work AGENT_LOG_DIR=$MW_HOME/log AGENT_LOG_LEVEL=INFO
export MANAGEMENT_USER=root MANAGER_NAME=cloudify-vnf-manager KERBEROS_ENV=false
export REST_HOST=127.0.0.1 REST_PORT=$HTTPS_PORT LOCAL_REST_CERT_FILE=$CA BROKER_SSL_CERT_PATH=$CA
export MANAGER_FILE_SERVER_URL=$REST_URL/resources MANAGER_FILE_SERVER_ROOT=$RESOURCES
export CFY_RESOURCES_ROOT=$RESOURCES MAX_WORKERS=2 MAX_OPERATION_WORKERS=4 PYTHONWARNINGS=ignore
# the host directories whose files blueprints may name on this manager (cloudify_shared/local_files.py)
export CLOUDIFY_VNF_ALLOWED_DIRS=$ALLOWED_DIRS
# the endpoints blueprints may reach from this manager (cloudify_shared/reach.py)
export CLOUDIFY_VNF_ALLOWED_DOCKER_HOSTS="$ALLOWED_DOCKER_HOSTS"
export CLOUDIFY_VNF_ALLOWED_KUBERNETES_APIS="$ALLOWED_KUBERNETES_APIS"
export CLOUDIFY_VNF_ALLOWED_SSH_HOSTS="$ALLOWED_SSH_HOSTS"
export CLOUDIFY_VNF_ALLOWED_MANAGERS="$ALLOWED_MANAGERS"
export CLOUDIFY_VNF_ALLOWED_CHART_SOURCES="$ALLOWED_CHART_SOURCES"
export CLOUDIFY_VNF_HELM=$(bash "$ROOT/scripts/clusters/helm.sh" path)  # the helm of a Helm release (scripts/clusters/helm.sh)
export ADMIN_API_TOKEN=\$(cat $MW_HOME/work/admin_token)
cd $MW_HOME
exec $MW_VENV/bin/python -m mgmtworker.worker --queue cloudify.management --max-workers 2 --hooks-queue cloudify-hooks
EOF
}

# Whether the start script on disk differs from what mgmtworker_script prints now.
mgmtworker_script_changed() {
  ! cmp -s <(mgmtworker_script) "$MANAGER_STATE/start-mgmtworker.sh"
}

# Start the mgmtworker; a running one whose settings changed is restarted (a no-op otherwise).
start_mgmtworker() {
  if alive mgmtworker; then
    mgmtworker_script_changed || return 0
    log "the mgmtworker's settings changed (its CLOUDIFY_VNF_ALLOWED_* allowlists): restarting it"
    stop_pid mgmtworker
  fi
  mkdir -p "$MW_HOME"/{work,log}
  (umask 077; "$REST_VENV/bin/python" -m manager_rest.configure_manager --create-admin-token "$MW_HOME/work/admin_token" \
     >"$LOGS/admin-token.log" 2>&1) || { tail -5 "$LOGS/admin-token.log"; die "could not create the mgmtworker's token"; }
  mgmtworker_script >"$MANAGER_STATE/start-mgmtworker.sh"
  chmod 700 "$MANAGER_STATE/start-mgmtworker.sh"
  setsid "$MANAGER_STATE/start-mgmtworker.sh" >"$MW_HOME/log/stdout.log" 2>&1 </dev/null &
  echo $! >"$(pid_file mgmtworker)"
}

stop_rabbitmq() {
  alive rabbitmq || { rm -f "$(pid_file rabbitmq)"; return 0; }
  stop_pid rabbitmq
  # the Erlang VM started epmd for this node: stop it only when it serves no other node
  local epmd; epmd=$(pgrep -u rabbitmq -x epmd || true)
  if [[ -n $epmd ]] && ! epmd -names 2>/dev/null | grep -q '^name '; then
    kill "$epmd" 2>/dev/null && log "stopped epmd ($epmd)"
  fi
}

stop_postgres() {
  [[ -e $MANAGER_STATE/pg/data/postmaster.pid ]] || { rm -f "$(pid_file postgresql)"; return 0; }
  pg "$PG_BIN/pg_ctl -D $MANAGER_STATE/pg/data -m fast stop" >/dev/null && log "stopped postgresql"
  rm -f "$(pid_file postgresql)"
}
