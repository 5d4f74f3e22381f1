# Local images, made without a registry. Sourced by local-clusters.
#   local/busybox:1  a busybox rootfs (pause container, test workloads)
#   local/pause:1    the same rootfs, CMD sleeps forever (the kubelet's pod sandbox)
#   local/vnf:1      Debian bookworm with nginx-light, FRR, iproute2, curl (cached rootfs tarball)

VNF_TARBALL=$CACHE_DIR/images/vnf-bookworm.tar

image_present() { docker image inspect "$1" >/dev/null 2>&1; }

busybox_rootfs() {
  local dir=$1
  mkdir -p "$dir/bin" "$dir/tmp" "$dir/etc" "$dir/www" "$dir/proc" "$dir/sys" "$dir/dev"
  cp /bin/busybox "$dir/bin/busybox"
  local applet
  for applet in $("$dir/bin/busybox" --list); do
    [[ $applet == busybox ]] || ln -sf busybox "$dir/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
  echo 'nobody:x:65534:65534:nobody:/:/bin/false' >>"$dir/etc/passwd"
  echo 'root:x:0:' >"$dir/etc/group"
  echo 'nogroup:x:65534:' >>"$dir/etc/group"
}

build_busybox_images() {
  if image_present local/busybox:1 && image_present local/pause:1; then
    log "busybox images present"
    return 0
  fi
  local dir
  dir=$(mktemp -d)
  busybox_rootfs "$dir"
  tar -C "$dir" -c . | docker import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' - local/busybox:1 >/dev/null
  # PID 1 ignores signals it has no handler for: trap TERM so a pod sandbox stops at once.
  tar -C "$dir" -c . | docker import \
    --change 'CMD ["/bin/sh", "-c", "trap \"exit 0\" TERM INT; while :; do sleep 3600 & wait $!; done"]' \
    --change 'ENV PATH=/bin' - local/pause:1 >/dev/null
  rm -rf "$dir"
  log "built local/busybox:1 and local/pause:1"
}

# debootstrap_vnf DIR: a fresh Debian rootfs with the VNF's packages in DIR (emptied first, so a
# try cut short by the mirror can be made again).
debootstrap_vnf() {
  rm -rf "$1"; mkdir -p "$1"
  debootstrap --variant=minbase --include=nginx-light,frr,iproute2,curl,procps bookworm "$1" \
    >"$LOG_DIR/debootstrap.log" 2>&1
}

build_vnf_image() {
  if image_present local/vnf:1; then
    log "local/vnf:1 present"
    return 0
  fi
  if [[ ! -f $VNF_TARBALL ]]; then
    local dir=$CACHE_DIR/images/vnf-rootfs
    log "debootstrap of the VNF image (nginx-light, frr, iproute2, curl): about 3 minutes, once per machine"
    retry 3 debootstrap_vnf "$dir" || die "debootstrap failed; see $LOG_DIR/debootstrap.log"
    chroot "$dir" apt-get clean
    tar -C "$dir" -c . >"$VNF_TARBALL.tmp" && mv "$VNF_TARBALL.tmp" "$VNF_TARBALL"
    rm -rf "$dir"
  fi
  docker import --change 'CMD ["/bin/bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$VNF_TARBALL" local/vnf:1 >/dev/null
  log "imported local/vnf:1"
}

images_up() {
  mkdir -p "$CACHE_DIR/images"
  build_busybox_images
  build_vnf_image
}
