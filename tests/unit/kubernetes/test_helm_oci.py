"""A chart of an OCI registry: the reference and its settings checked, the credentials masked
from the moment they are read, the registry config helm gets, helm pull's failures named."""
from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from cloudify_kubernetes.helm_cli import HelmCli, pull_error
from cloudify_kubernetes.helm_oci import parse_credentials, registry_config, registry_of
from cloudify_kubernetes.helm_values import parse_settings
from cloudify_shared.errors import TransientError, UserError
from cloudify_shared.redaction import redact

REF = "oci://registry.example.net:5000/charts/web"


def test_an_oci_chart_needs_its_exact_version_and_takes_credentials() -> None:
    settings = parse_settings({"chart": REF, "chart_version": "0.1.0", "plain_http": True,
                               "registry_credentials": {"username": "u", "password": "pw-oci-1"}})
    assert (settings.chart_version, settings.plain_http) == ("0.1.0", True)
    assert settings.registry_credentials is not None
    assert "pw-oci-1" not in repr(settings)  # the dataclass's repr never shows it
    with pytest.raises(UserError, match=r"properties.chart_version: required with a repository "
                                        r"or an oci:// chart"):
        parse_settings({"chart": REF})
    with pytest.raises(UserError, match=r"properties.repository: not with an oci:// chart"):
        parse_settings({"chart": REF, "chart_version": "1", "repository": "http://h"})
    with pytest.raises(UserError, match=r"properties.registry_credentials: only for an oci://"):
        parse_settings({"chart": "c.tgz",
                        "registry_credentials": {"username": "u", "password": "p"}})
    with pytest.raises(UserError, match=r"properties.plain_http: only for an oci://"):
        parse_settings({"chart": "c.tgz", "plain_http": True})
    with pytest.raises(UserError, match=r"properties.chart_version: '1 2' is not a chart version"):
        parse_settings({"chart": REF, "chart_version": "1 2"})


@pytest.mark.parametrize("reference, message", [
    ("oci://h/charts/web:0.1.0", "no tag or digest"),
    ("oci://h/charts/web@sha256:ab", "no tag or digest"),
    ("oci://u:p@h/charts/web", "carries no credentials"),
    ("oci://h/Charts/Web", "lower-case names"),
    ("oci:///charts/web", "is not an oci:// chart reference"),
    ("oci://h:x/web", "the port is not a number"),
])
def test_oci_references_refused_naming_why(reference: str, message: str) -> None:
    with pytest.raises(UserError, match=rf"properties.chart: .*{message}"):
        parse_settings({"chart": reference, "chart_version": "0.1.0"})


def test_registry_of_a_reference() -> None:
    assert registry_of(REF, "f") == "registry.example.net:5000"
    assert registry_of("oci://ghcr.io/a/b", "f") == "ghcr.io"


def test_credentials_masked_before_any_check_and_keys_checked() -> None:
    with pytest.raises(UserError, match=r"unknown key\(s\) token") as refused:
        parse_credentials({"username": "u", "password": "pw-early-1", "token": "x"}, "f")
    assert "pw-early-1" not in str(refused.value)
    assert redact("pw-early-1") == "***"  # registered before the refusal
    with pytest.raises(UserError, match=r"f.password: required"):
        parse_credentials({"username": "u", "password": ""}, "f")
    with pytest.raises(UserError, match=r"f.username: may not contain ':'"):
        parse_credentials({"username": "a:b", "password": "pw-colon-1"}, "f")
    assert parse_credentials({}, "f") is None


def test_the_registry_config_holds_the_credentials_for_that_registry_only() -> None:
    credentials = parse_credentials({"username": "vnf", "password": "pw-config-1"}, "f")
    config = json.loads(registry_config("127.0.0.1:15000", credentials))
    assert list(config["auths"]) == ["127.0.0.1:15000"]
    token = config["auths"]["127.0.0.1:15000"]["auth"]
    assert base64.b64decode(token) == b"vnf:pw-config-1"
    assert redact(token) == "***"
    assert json.loads(registry_config("h", None)) == {"auths": {}}


def test_helm_pull_failures_named_by_the_field_to_fix() -> None:
    refused = pull_error(REF, "0.1.0", 'Error: failed to perform "FetchReference" on source: GET '
                         '"http://h/v2/charts/web/manifests/0.1.0": response status code 401: '
                         'unauthorized: authentication required')
    assert isinstance(refused, UserError)
    assert str(refused).startswith(f"properties.registry_credentials: the registry of {REF} "
                                   "refused them")
    missing = pull_error(REF, "0.9.0", 'Error: failed to perform "FetchReference" on source: '
                         'h/charts/web:0.9.0: not found')
    assert isinstance(missing, UserError) and "properties.chart_version: '0.9.0'" in str(missing)
    down = pull_error(REF, "0.1.0", "Error: dial tcp 127.0.0.1:5000: connect: connection refused")
    assert isinstance(down, TransientError) and "cannot reach the registry" in str(down)


def test_pull_passes_credentials_only_as_a_file(tmp_path: Path) -> None:
    """A fake helm records its arguments: the reference, the version, the private registry
    config and --plain-http, and no secret; the chart it writes is returned."""
    record = tmp_path / "args"
    fake = tmp_path / "helm"
    fake.write_text(f'#!/bin/sh\necho "$@" > {record}\n'
                    'while [ "$1" != --destination ]; do shift; done\n'
                    'touch "$2/web-0.1.0.tgz"\n')
    fake.chmod(0o755)
    helm = HelmCli(str(fake), "")
    try:
        config = tmp_path / "registry.json"
        config.write_bytes(registry_config("h", parse_credentials(
            {"username": "u", "password": "pw-argv-1"}, "f")))
        path = helm.pull(REF, "0.1.0", str(config), True, 30)
        assert os.path.basename(path) == "web-0.1.0.tgz" and path.startswith(helm.home)
        args = record.read_text().split()
        assert args[:4] == ["pull", REF, "--version", "0.1.0"]
        assert ["--registry-config", str(config)] == args[6:8] and "--plain-http" in args
        assert "pw-argv-1" not in record.read_text()
    finally:
        helm.close()
