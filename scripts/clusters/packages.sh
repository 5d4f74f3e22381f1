#!/usr/bin/env bash
# Install the Debian packages the local clusters need. Idempotent: does nothing when all are present.
set -euo pipefail
source "$(dirname "$0")/common.sh"

PACKAGES=(docker.io etcd-server golang-go rsync jq busybox-static debootstrap openssl dpkg-dev make xz-utils
          openssh-server openssh-client iproute2 curl ca-certificates conntrack iptables
          ethtool socat procps)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  log "system packages present"
  exit 0
fi
log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
log "system packages installed"
