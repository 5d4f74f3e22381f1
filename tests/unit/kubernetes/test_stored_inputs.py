"""inputs_used never holds a value that may be secret (issue 17): env values, Secret data and
env/Secret overrides are stored as a marker, and a later operation takes them from the live
object (or fails naming the object and field when it is gone); values read are registered."""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from cloudify_kubernetes.credentials import register_inline_credentials
from cloudify_kubernetes.drift import drift
from cloudify_kubernetes.stored_inputs import NOT_STORED, restore, stored
from cloudify_shared.errors import UserError
from cloudify_shared.redaction import redact
from tests.unit.kubernetes.test_engine import FakeBackend


def web(env: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i",
                                                           "env": env}]}}}}


def secret(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, **fields}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_stored_inputs_keep_names_and_structure_but_no_secret_value() -> None:
    inputs = {"env": {"DB_PASSWORD": "pw-input-1234"},
              "config": [secret(stringData={"token": "tok-input-5678"},
                                data={"k": b64("data-input-90")}),
                         web([{"name": "API_KEY", "value": "key-input-abcd"},
                              {"name": "FROM",
                               "valueFrom": {"secretKeyRef": {"name": "s", "key": "token"}}}])],
              "overrides": [{"path": ["spec", "replicas"], "value": 3},
                            {"path": "spec.template.spec.containers.0.env.0.value",
                             "value": "ovr-input-ef01"},
                            "['data']['k']='ovr-string-2345'"],
              "config_files": [{"file": "app.yaml"}], "env_containers": ["c"]}
    kept = stored(inputs)
    text = json.dumps(kept)
    for value in ("pw-input-1234", "tok-input-5678", b64("data-input-90"), "key-input-abcd",
                  "ovr-input-ef01", "ovr-string-2345"):
        assert value not in text
    assert kept["env"] == {"DB_PASSWORD": NOT_STORED}
    # a reference: kept
    assert kept["config"][1]["spec"]["template"]["spec"]["containers"][0]["env"][1] == \
        inputs["config"][1]["spec"]["template"]["spec"]["containers"][0]["env"][1]
    assert kept["overrides"][0] == {"path": ["spec", "replicas"], "value": 3}
    assert kept["overrides"][2] == {"path": ["data", "k"], "value": NOT_STORED}
    assert kept["config_files"] == inputs["config_files"] and kept["env_containers"] == ["c"]
    assert stored(kept) == kept  # storing again changes nothing


def test_restore_takes_the_masked_values_from_the_live_objects() -> None:
    backend = FakeBackend()
    backend.apply({**secret(data={"token": b64("live-token-1234"), "k": b64("live-k-5678")}),
                   "metadata": {"name": "s", "namespace": "default"}})
    live_web = web([{"name": "OTHER", "value": "x"}, {"name": "API_KEY", "value": "live-key-abcd"}])
    live_web["metadata"]["namespace"] = "default"
    backend.apply(live_web)
    rendered = [secret(stringData={"token": NOT_STORED}, data={"k": NOT_STORED}),
                web([{"name": "API_KEY", "value": NOT_STORED}, {"name": "PLAIN", "value": "p"}])]
    secret_now, web_now = restore(backend, rendered, "default")
    assert secret_now["stringData"] == {"token": "live-token-1234"}
    assert secret_now["data"] == {"k": b64("live-k-5678")}
    assert web_now["spec"]["template"]["spec"]["containers"][0]["env"] == [
        {"name": "API_KEY", "value": "live-key-abcd"}, {"name": "PLAIN", "value": "p"}]
    assert redact("live-token-1234 live-key-abcd live-k-5678") == "*** *** ***"


def test_a_masked_value_the_live_object_lacks_fails_naming_object_and_field() -> None:
    with pytest.raises(UserError) as error:
        restore(FakeBackend(), [web([{"name": "API_KEY", "value": NOT_STORED}])], "default")
    message = str(error.value)
    assert "Deployment default/web" in message
    assert "spec.template.spec.containers[0].env[0].value came from an operation input" in message
    lenient = restore(FakeBackend(), [web([{"name": "API_KEY", "value": NOT_STORED}])], "default",
                      strict=False)
    assert lenient[0]["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] == NOT_STORED


def test_a_drift_check_reports_a_deleted_object_with_masked_values_as_missing() -> None:
    objects = restore(FakeBackend(), [secret(stringData={"token": NOT_STORED})], "default",
                      strict=False)
    assert drift(FakeBackend(), objects, "default") == ["Secret default/s: missing"]


def test_objects_without_markers_are_not_read_and_their_secret_data_is_registered() -> None:
    backend = FakeBackend()
    objects = [secret(stringData={"password": "descriptor-pw-77"})]
    assert restore(backend, objects, "default") == objects
    assert backend.calls == []
    assert redact("descriptor-pw-77") == "***"


def test_inline_credentials_registered_from_a_kubeconfig_given_as_yaml_text() -> None:
    content = ("apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n"
               "    token: yaml-kube-token-0042\n    client-key-data: a2V5LWRhdGEtMDA0Mg==\n")
    register_inline_credentials({"kubeconfig_content": content, "token": "inline-token-0043"})
    assert redact("yaml-kube-token-0042 a2V5LWRhdGEtMDA0Mg== inline-token-0043") == "*** *** ***"
    register_inline_credentials(
        {"kubeconfig_content": {"users": [{"user": {"password": "dict-pw-0044"}}]}})
    assert redact("dict-pw-0044") == "***"
