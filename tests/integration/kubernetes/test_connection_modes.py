"""Every API connection form reaches the real local cluster: URL + token file + CA file,
URL + inline token + CA PEM (its temporary file removed on close), kubeconfig file, kubeconfig
content; TLS stays verified in all of them."""
from __future__ import annotations

import glob
import tempfile
from typing import Any

import pytest
import yaml

from cloudify_kubernetes.api_backend import ApiBackend, open_api_client
from cloudify_kubernetes.backend import ObjectRef
from cloudify_kubernetes.connection import from_info, parse_api, public_info
from tests.helpers.paths import K8S_CA, K8S_TOKEN_FILE, KUBECONFIG

pytestmark = [pytest.mark.kubernetes, pytest.mark.usefixtures("kube")]
HOST = "https://127.0.0.1:6443"


def read(path: str) -> str:
    with open(path) as handle:
        return handle.read()


@pytest.mark.parametrize("form",
                         ["token_file+ca_file", "token+ca_pem", "kubeconfig", "kubeconfig_content"])
def test_connection_form_reaches_the_cluster(form: str) -> None:
    token = K8S_TOKEN_FILE.read_text().strip()
    api: dict[str, Any] = {
        "token_file+ca_file": {"host": HOST, "token_file": str(K8S_TOKEN_FILE),
                               "ca_file": str(K8S_CA)},
        "token+ca_pem": {"host": HOST, "token": token, "ca_pem": K8S_CA.read_text()},
        "kubeconfig": {"kubeconfig": str(KUBECONFIG)},
        "kubeconfig_content": {"kubeconfig_content": yaml.safe_load(KUBECONFIG.read_text())},
    }[form]
    settings = parse_api(api, "api")
    info = public_info(settings)
    assert token not in str(info)
    rebuilt = from_info(info, "kubernetes_info", inline=api)
    temp_before = set(glob.glob(f"{tempfile.gettempdir()}/*.crt"))
    backend = ApiBackend(open_api_client(rebuilt, read))
    try:
        assert backend.api_client.configuration.verify_ssl is True
        namespace = backend.get(ObjectRef("v1", "Namespace", "default"))
        assert namespace and namespace["status"]["phase"] == "Active"
    finally:
        backend.close()
    assert set(glob.glob(f"{tempfile.gettempdir()}/*.crt")) <= temp_before
