#!/usr/bin/env bash
# Build Kubernetes $K8S_VERSION from Debian's source package, once per machine.
# The five binaries land in $K8S_BIN and are reused by every later run.
#
# Patches in patches/ are applied to the source first. Debian 12 has Go 1.19 only, and
# Kubernetes 1.20 vendors modern-go/reflect2 1.0.1, whose map iteration breaks on Go >= 1.18
# (reflect.mapiterinit changed signature): kube-apiserver then dies with "unexpected fault
# address" in mapiterinit under load. reflect2-go1.18-mapiterinit.patch is the 1.0.2 fix.
set -euo pipefail
source "$(dirname "$0")/common.sh"

BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)

have_all() {
  local b
  [[ $(cat "$K8S_BIN/BUILD" 2>/dev/null) == "$K8S_BUILD" ]] || return 1
  for b in "${BINARIES[@]}"; do [[ -x $K8S_BIN/$b ]] || return 1; done
}

if have_all; then
  log "kubernetes $K8S_BUILD binaries cached in $K8S_BIN"
  exit 0
fi

work=$CACHE_DIR/kubernetes-$K8S_VERSION/build
PATCHES=$(cd "$(dirname "$0")" && pwd)/patches
mkdir -p "$work"
cd "$work"

if ! ls kubernetes_*.dsc >/dev/null 2>&1; then
  src=/etc/apt/sources.list.d/debian.sources
  if ! grep -q '^Types: deb deb-src' "$src"; then
    log "enabling deb-src in $src"
    sed -i 's/^Types: deb$/Types: deb deb-src/' "$src"
  fi
  retry 5 apt-get update -qq
  log "downloading Debian's kubernetes source package"
  retry 5 apt-get source --download-only kubernetes >/dev/null
fi
if [[ ! -d src ]]; then
  dpkg-source -x --no-check kubernetes_*.dsc src.tmp >/dev/null
  for patch in "$PATCHES"/*.patch; do
    log "applying $(basename "$patch")"
    patch -d src.tmp -p1 --quiet <"$patch"
  done
  mv src.tmp src
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
echo "$K8S_BUILD" >"$K8S_BIN/BUILD"
log "kubernetes built in $((SECONDS - start))s"
# The source tree and Go caches are large; the binaries are all we keep.
cd "$CACHE_DIR" && rm -rf "$work" "${HOME:-/root}/.cache/go-build"
