#!/usr/bin/env bash
# Build Kubernetes $K8S_VERSION from Debian's source package, once per machine.
# The five binaries land in $K8S_BIN and are reused by every later run.
set -euo pipefail
source "$(dirname "$0")/common.sh"

BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)

have_all() {
  local b
  for b in "${BINARIES[@]}"; do [[ -x $K8S_BIN/$b ]] || return 1; done
}

if have_all; then
  log "kubernetes $K8S_VERSION binaries cached in $K8S_BIN"
  exit 0
fi

work=$CACHE_DIR/kubernetes-$K8S_VERSION/build
mkdir -p "$work"
cd "$work"

if ! ls kubernetes_*.dsc >/dev/null 2>&1; then
  src=/etc/apt/sources.list.d/debian.sources
  if ! grep -q '^Types: deb deb-src' "$src"; then
    log "enabling deb-src in $src"
    sed -i 's/^Types: deb$/Types: deb deb-src/' "$src"
  fi
  apt-get update -qq
  log "downloading Debian's kubernetes source package"
  apt-get source --download-only kubernetes >/dev/null
fi
if [[ ! -d src ]]; then
  dpkg-source -x --no-check kubernetes_*.dsc src >/dev/null
fi

mkdir -p .go/src/k8s.io
ln -sfn "$work/src" .go/src/k8s.io/kubernetes
export GOPATH=$work/.go CGO_ENABLED=0 GOFLAGS=-mod=vendor GO111MODULE=on
cd .go/src/k8s.io/kubernetes
log "building ${BINARIES[*]} (about 15 minutes on 2 cores, once per machine)"
start=$SECONDS
what=$(printf 'cmd/%s ' "${BINARIES[@]}")
make WHAT="${what% }" >"$work/make.log" 2>&1 || { tail -40 "$work/make.log" >&2; die "kubernetes build failed (log: $work/make.log)"; }
mkdir -p "$K8S_BIN"
for b in "${BINARIES[@]}"; do
  install -m 0755 "_output/local/go/bin/$b" "$K8S_BIN/$b" 2>/dev/null \
    || install -m 0755 "_output/bin/$b" "$K8S_BIN/$b"
done
log "kubernetes built in $((SECONDS - start))s"
# The source tree and Go caches are large; the binaries are all we keep.
cd "$CACHE_DIR" && rm -rf "$work" "${HOME:-/root}/.cache/go-build"
