# Helpers shared by the project's shell scripts. Sourced, not run.

# retry TRIES COMMAND...: run COMMAND until it succeeds, at most TRIES times, waiting 10 s, 20 s,
# 40 s ... between tries. For steps that reach a package registry, which sometimes refuses
# connections for a minute or two ("No route to host"). A user error fails every try the same
# way, so the last try's output is the one that is seen.
retry() {
  local tries=$1 pause=10 n=1; shift
  until "$@"; do
    if ((n >= tries)); then
      printf '[retry] giving up after %d tries: %s\n' "$n" "$*" >&2
      return 1
    fi
    printf '[retry] try %d of %d failed; again in %ds: %s\n' "$n" "$tries" "$pause" "$*" >&2
    sleep "$pause"; n=$((n + 1)); pause=$((pause * 2))
  done
}

# apt_install PACKAGE...: install the Debian packages not yet installed (apt-get update first),
# with retries. Does nothing when all are present.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  printf '[apt] installing: %s\n' "${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  retry 5 apt-get update -qq
  retry 5 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
