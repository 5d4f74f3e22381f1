"""Where things are, for tests."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_YAML = ROOT / "plugin.yaml"
EXAMPLES = ROOT / "examples" / "blueprints"
TEST_BLUEPRINTS = ROOT / "tests" / "blueprints"
OFFICIAL_TYPES_DIR = Path(os.environ.get("CLOUDIFY_OFFICIAL_TYPES",
                                         ROOT.parent / "shared" / "cloudify-types"))
STATE_DIR = Path(os.environ.get("LOCAL_CLUSTERS_STATE", "/var/lib/cloudify-vnf-local"))
KUBECONFIG = STATE_DIR / "kubeconfig"
K8S_CA = STATE_DIR / "pki" / "ca.crt"
K8S_TOKEN_FILE = STATE_DIR / "pki" / "token"
KUBECTL = Path(os.environ.get("LOCAL_CLUSTERS_CACHE",
                              "/var/cache/cloudify-vnf")) / "kubernetes-1.20.2" / "bin" / "kubectl"
DOCKER_HOST = "unix:///var/run/docker.sock"
SSH_DIR = STATE_DIR / "ssh"
SSH_CLIENT_KEY = SSH_DIR / "client_key"

# How the plugins reach the local clusters, as the Master node's `api` and `ssh` properties.
LOCAL_API = {"host": "https://127.0.0.1:6443", "token_file": str(K8S_TOKEN_FILE),
             "ca_file": str(K8S_CA)}
LOCAL_SSH = {"host": "127.0.0.1", "port": 2222, "user": "root", "key_file": str(SSH_CLIENT_KEY),
             "known_hosts": str(SSH_DIR / "known_hosts"), "kubectl": str(KUBECTL),
             "kubeconfig": str(KUBECONFIG)}
