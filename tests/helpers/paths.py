"""Where things are, for tests."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_YAML = ROOT / "plugin.yaml"
EXAMPLES = ROOT / "examples" / "blueprints"
TEST_BLUEPRINTS = ROOT / "tests" / "blueprints"
OFFICIAL_TYPES_DIR = Path(os.environ.get("CLOUDIFY_OFFICIAL_TYPES", ROOT.parent / "shared" / "cloudify-types"))
STATE_DIR = Path(os.environ.get("LOCAL_CLUSTERS_STATE", "/var/lib/cloudify-vnf-local"))
KUBECONFIG = STATE_DIR / "kubeconfig"
K8S_CA = STATE_DIR / "pki" / "ca.crt"
K8S_TOKEN_FILE = STATE_DIR / "pki" / "token"
KUBECTL = Path(os.environ.get("LOCAL_CLUSTERS_CACHE", "/var/cache/cloudify-vnf")) / "kubernetes-1.20.2" / "bin" / "kubectl"
DOCKER_HOST = "unix:///var/run/docker.sock"
