# Install what the manager runs from: Debian packages, the pinned Cloudify source, and the two
# Python virtualenvs (REST service; mgmtworker with cloudify-agent). Sourced by scripts/real-manager.
# Each step is done once and skipped when what it made is still current (stamps keyed by checksums).

MANAGER_PACKAGES=(postgresql rabbitmq-server nginx-light libpq-dev gcc python3-venv python3-dev
                  openssl curl)

install_packages() {
  apt_install "${MANAGER_PACKAGES[@]}" || die "could not install ${MANAGER_PACKAGES[*]}"
  # Debian's postinst may start the system-wide services; this manager runs its own instances,
  # on its own ports and data directories, so the system ones are not needed (and not touched).
}

# The source: a tarball (CLOUDIFY_SOURCE) holding cloudify-manager and cloudify-agent at the
# commits named in its VENDOR-MANIFEST (made by shared/real-manager/make-vendor-tarball.sh).
install_source() {
  [[ -f $CLOUDIFY_SOURCE ]] || die "no Cloudify source at $CLOUDIFY_SOURCE (set CLOUDIFY_SOURCE to the cloudify-$CLOUDIFY_VERSION-src.tar.gz tarball)"
  local sum; sum=$(sha256sum "$CLOUDIFY_SOURCE" | cut -d' ' -f1)
  if stamped source "$sum" && [[ -d $MANAGER_SRC/rest-service ]]; then return 0; fi
  rm -rf "$SRC" && mkdir -p "$SRC"
  tar -xzf "$CLOUDIFY_SOURCE" -C "$SRC"
  [[ -d $MANAGER_SRC/rest-service && -d $AGENT_SRC ]] || die "$CLOUDIFY_SOURCE lacks cloudify-manager/rest-service or cloudify-agent"
  # Upstream's rabbitmq.config has a syntax error (['tlsv1.2',]) that RabbitMQ 3.10 refuses.
  sed -i "s/\['tlsv1.2',\]/['tlsv1.2']/" "$MANAGER_SRC/service_containers/rabbitmq/config/rabbitmq.config"
  stamp source "$sum"
  log "source unpacked: $(head -c 200 "$SRC/VENDOR-MANIFEST" | tr '\n' ' ')"
}

# quiet_pip VENV ARGS...: pip install, without the warning about a missing local index folder that
# this machine's pip configuration prints for every package (errors still show).
quiet_pip() {
  local dir=$1; shift
  "$dir/bin/pip" install -q --disable-pip-version-check "$@" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}

# make_venv DIR REQUIREMENTS SOURCE_DIRS...: a virtualenv with the pinned requirements, then the
# given source trees without dependencies. Rebuilt only when the requirements or source change.
make_venv() {
  local dir=$1 reqs=$2; shift 2
  local want; want=$( (cat "$reqs"; cat "$STAMPS/source" 2>/dev/null) | sha256sum | cut -d' ' -f1)
  if stamped "venv-$(basename "$dir")" "$want" && [[ -x $dir/bin/python ]]; then return 0; fi
  log "virtualenv $dir (pinned: $(basename "$reqs"))"
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir"
  retry 5 quiet_pip "$dir" 'pip>=23' 'setuptools<81' wheel
  retry 5 quiet_pip "$dir" -r "$reqs"
  quiet_pip "$dir" --no-deps "$@"
  stamp "venv-$(basename "$dir")" "$want"
}

install_venvs() {
  local here; here=$ROOT/scripts/manager
  make_venv "$REST_VENV" "$here/rest-requirements.txt" "$MANAGER_SRC/rest-service"
  "$REST_VENV/bin/python" -c 'import manager_rest, gunicorn' || die "REST venv broken"
  make_venv "$MW_VENV" "$here/mgmtworker-requirements.txt" "$AGENT_SRC" "$MANAGER_SRC/mgmtworker"
  "$MW_VENV/bin/python" -c 'import mgmtworker, cloudify_agent' || die "mgmtworker venv broken"
}
