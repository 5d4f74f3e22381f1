# A one-node Kubernetes $K8S_VERSION on 127.0.0.1: etcd, kube-apiserver (TLS + token, no insecure
# port), controller-manager, scheduler and a kubelet on dockershim. Sourced by local-clusters.

PKI=$STATE_DIR/pki
KUBECTL=$K8S_BIN/kubectl

k8s_node_ip() {
  # The docker bridge's address: a non-loopback address of this machine that the project owns,
  # so the kubelet has a usable node address without touching eth0.
  ip -4 -o addr show docker0 | awk '{print $4}' | cut -d/ -f1
}

k8s_pki() {
  [[ -f $PKI/token && -f $PKI/apiserver.crt && -f $PKI/sa.key ]] && return 0
  log "generating CA, apiserver certificate, service-account keys and admin token in $PKI"
  mkdir -p "$PKI"; chmod 700 "$PKI"
  (
    cd "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=local-clusters-ca" \
      -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
      -keyout apiserver.key -out apiserver.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile apiserver.ext -out apiserver.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >token
    printf '%s,admin,admin,system:masters\n' "$(cat token)" >tokens.csv
    chmod 600 ./*.key token tokens.csv
  )
}

k8s_kubeconfig() {
  umask 077
  cat >"$KUBECONFIG_PATH" <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: $PKI/ca.crt
users:
- name: admin
  user:
    token: $(cat "$PKI/token")
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
KCFG
}

k8s_api_ready() {
  curl -fsS --cacert "$PKI/ca.crt" -H "Authorization: Bearer $(cat "$PKI/token")" \
    https://127.0.0.1:6443/readyz >/dev/null
}

k8s_node_ready() {
  [[ $("$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" get node "$NODE_NAME" \
      -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}

# The kubelet's API rate limits are Kubernetes 1.27's defaults (kubernetes/kubernetes#116121),
# not 1.20's 5/s, burst 10, which throttled its pod status updates: 50 Deployments, each applied
# and waited for by kubectl 4 at a time, came up in 55.4 s with 1.20's and in 35.9 s with these.
# A kubelet already running with an older configuration is restarted (its pods' containers stay).
k8s_kubelet_config() {
  local file=$STATE_DIR/kubelet/config.yaml wanted
  mkdir -p "$STATE_DIR/kubelet"
  wanted=$(cat <<KCFG
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $(k8s_node_ip)
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 100
kubeAPIQPS: 50
kubeAPIBurst: 100
KCFG
)
  [[ -f $file && $(cat "$file") == "$wanted" ]] && return 0
  printf '%s\n' "$wanted" >"$file"
  if pid_alive kubelet; then
    log "kubelet configuration changed: restarting the kubelet"
    stop_daemon kubelet
  fi
}

k8s_up() {
  [[ -x $KUBECTL ]] || die "kubernetes binaries missing in $K8S_BIN (run build first)"
  k8s_pki
  k8s_kubeconfig
  mkdir -p "$STATE_DIR/etcd"
  start_daemon etcd etcd --name local --data-dir "$STATE_DIR/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster local=http://127.0.0.1:2380
  start_daemon kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:2379 --bind-address=127.0.0.1 --secure-port=6443 --insecure-port=0 \
    --advertise-address=127.0.0.1 \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" --token-auth-file="$PKI/tokens.csv" \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc --api-audiences=https://kubernetes.default.svc \
    --service-cluster-ip-range=10.0.0.0/24 --authorization-mode=Node,RBAC --allow-privileged=true \
    --enable-admission-plugins=NodeRestriction --kubelet-preferred-address-types=InternalIP,Hostname
  wait_for 120 "kube-apiserver /readyz" k8s_api_ready || die "kube-apiserver not ready; see $LOG_DIR/kube-apiserver.log"
  start_daemon kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$KUBECONFIG_PATH" --controllers='*,-nodeipam' --leader-elect=false \
    --port=0 --bind-address=127.0.0.1 \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --use-service-account-credentials=false
  start_daemon kube-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig="$KUBECONFIG_PATH" --leader-elect=false --port=0 --bind-address=127.0.0.1
  k8s_kubelet_config
  start_daemon kubelet "$K8S_BIN/kubelet" \
    --kubeconfig="$KUBECONFIG_PATH" --config="$STATE_DIR/kubelet/config.yaml" \
    --container-runtime=docker --pod-infra-container-image=local/pause:1 \
    --root-dir="$STATE_DIR/kubelet/root" --hostname-override="$NODE_NAME" \
    --node-ip="$(k8s_node_ip)" --node-labels=role=router
  wait_for 120 "node $NODE_NAME Ready" k8s_node_ready || die "node not Ready; see $LOG_DIR/kubelet.log"
  "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" label node "$NODE_NAME" role=router --overwrite >/dev/null
  wait_for 60 "default service account" \
    "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" get serviceaccount default -n default
}

k8s_down() {
  local d
  for d in kubelet kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_daemon "$d"; done
}

k8s_status() {
  if pid_alive kube-apiserver && k8s_api_ready; then
    echo "kubernetes: up   https://127.0.0.1:6443  kubeconfig $KUBECONFIG_PATH  kubectl $KUBECTL"
    "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" get nodes -L role 2>/dev/null | sed 's/^/            /'
  else
    echo "kubernetes: down"
  fi
}
