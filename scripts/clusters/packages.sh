#!/usr/bin/env bash
# Install the Debian packages the local clusters need. Idempotent: does nothing when all are present.
set -euo pipefail
source "$(dirname "$0")/common.sh"

PACKAGES=(docker.io etcd-server golang-go rsync jq busybox-static debootstrap openssl dpkg-dev make xz-utils
          openssh-server openssh-client iproute2 curl ca-certificates conntrack iptables
          ethtool socat procps)

if apt_install "${PACKAGES[@]}"; then
  log "system packages present"
else
  die "could not install the system packages (see above)"
fi
