"""Rendering: multi-document files, env injection into every (or named) container of every pod
template, ownership labels on objects and pod templates, clear errors for bad files."""
from __future__ import annotations

import pytest

from cloudify_kubernetes.manifests import build_objects, inject_env, load_sources
from cloudify_shared.errors import UserError

FILE = """
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: router}
spec:
  template:
    metadata: {labels: {app: r}}
    spec:
      containers:
      - {name: router, image: i, env: [{name: ROUTES, value: old}, {name: KEEP, value: k}]}
      - {name: sidecar, image: i}
---
apiVersion: batch/v1beta1
kind: CronJob
metadata: {name: cron}
spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: job, image: i}]}}}}}
"""
LABELS = {"cloudify.co/deployment": "d", "cloudify.co/node-instance": "n"}


def render(env: dict, containers: list | None = None, text: str = FILE) -> list[dict]:
    sources = load_sources([{"file": "app.yaml"}], None, lambda path: text)
    return build_objects(sources, env, containers or [], LABELS)


def env_of(obj: dict, index: int = 0) -> list:
    return obj["spec"]["template"]["spec"]["containers"][index].get("env")


def test_env_goes_into_every_container_and_replaces_same_name() -> None:
    objects = render({"ROUTES": "10.1.0.0/24 10.2.0.0/24", "N": 3})
    assert env_of(objects[1]) == [{"name": "KEEP", "value": "k"},
                                  {"name": "ROUTES", "value": "10.1.0.0/24 10.2.0.0/24"},
                                  {"name": "N", "value": "3"}]
    assert env_of(objects[1], 1) == [{"name": "ROUTES", "value": "10.1.0.0/24 10.2.0.0/24"},
                                     {"name": "N", "value": "3"}]
    cron = objects[2]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert cron["env"][0]["name"] == "ROUTES"
    assert "spec" not in objects[0]


def test_env_only_into_named_containers() -> None:
    objects = render({"ROUTES": "x"}, ["router"])
    assert env_of(objects[1], 1) is None and env_of(objects[1])[-1] == {"name": "ROUTES",
                                                                        "value": "x"}
    with pytest.raises(UserError, match="no container named nope"):
        render({"ROUTES": "x"}, ["nope"])


def test_pod_env_and_labels() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "a", "image": "i"}]}}
    assert inject_env(pod, {"A": "1"},
                      [])["spec"]["containers"][0]["env"] == [{"name": "A", "value": "1"}]
    objects = render({})
    assert all(o["metadata"]["labels"].items() >= LABELS.items() for o in objects)
    assert objects[1]["spec"]["template"]["metadata"]["labels"] == {"app": "r", **LABELS}


@pytest.mark.parametrize("text, message", [
    ("a: [b", "malformed YAML"),
    ("kind: Pod\nmetadata: {name: p}", "'apiVersion' is required"),
    ("apiVersion: v1\nkind: Pod", "'metadata.name' is required"),
    ("- 1\n- 2", "expected a mapping"),
    ("", "no documents"),
])
def test_bad_files_name_the_file(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message) as caught:
        render({}, text=text)
    assert "config_files[0] (file app.yaml)" in str(caught.value)


def test_env_must_be_scalars() -> None:
    with pytest.raises(UserError, match=r"properties.env.X: expected a scalar"):
        render({"X": {"a": 1}})
