"""The local clusters started by scripts/local-clusters are real and do what the suite needs.

These use the raw clients (docker-py, kubectl), not the plugins: they prove the ground the
plugins' own integration tests stand on.
"""
from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

import docker.types
import pytest

from tests.helpers import clusters

HTTPD = ("trap 'exit 0' TERM; mkdir -p /www; echo {text} > /www/index.html; httpd -f -p {port} -h "
         "/www & wait")


def eventually(check: Callable[[], Any], timeout: float = 90, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except Exception:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=3) as response:
        return response.read().decode()


@pytest.mark.usefixtures("swarm")
def test_swarm_service_from_local_image_answers_on_host_port() -> None:
    client = clusters.docker_client()
    name, token = f"lc-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    service = client.services.create(
        "local/busybox:1", name=name,
        command=["/bin/sh", "-c", HTTPD.format(text=token, port=80)],
        endpoint_spec=docker.types.EndpointSpec(ports=[{"TargetPort": 80, "PublishedPort": 18931,
                                                         "PublishMode": "host"}]),
    )
    try:
        eventually(lambda: any(t["Status"]["State"] == "running" for t in service.tasks()),
                   what="task running")
        assert eventually(lambda: http_get("http://127.0.0.1:18931/"),
                          what="HTTP answer").strip() == token
    finally:
        service.remove()
        eventually(lambda: not client.containers.list(
                       all=True, filters={"label": f"com.docker.swarm.service.name={name}"}),
                   what="containers gone")
        client.close()


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: web
        image: local/busybox:1
        imagePullPolicy: Never
        command: ["/bin/sh", "-c", "trap 'exit 0' TERM; mkdir -p /www; """ \
"""echo ok > /www/index.html; httpd -f -p 8080 -h /www & wait"]
        readinessProbe: {{httpGet: {{path: /, port: 8080}}, periodSeconds: 1}}
"""

PRIVILEGED_POD = """
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  hostNetwork: true
  nodeSelector: {{role: router}}
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: local/busybox:1
    imagePullPolicy: Never
    env: [{{name: MARKER, value: "{marker}"}}]
    command: ["/bin/sh", "-c", "trap 'exit 0' TERM; echo MARKER=$MARKER; ip link show lo; """ \
"""while :; do sleep 1 & wait $!; done"]
    securityContext: {{privileged: true}}
    readinessProbe:  # an exec into a privileged container: the runtime wrapper must allow it
      exec: {{command: ["true"]}}
      periodSeconds: 1
"""


@pytest.mark.usefixtures("kube")
def test_kubernetes_deployment_from_local_image_becomes_ready() -> None:
    name = f"lc-{uuid.uuid4().hex[:6]}"
    manifest = DEPLOYMENT.format(name=name)
    clusters.kubectl("apply", "-f", "-", input=manifest)
    try:
        clusters.kubectl("rollout", "status", f"deployment/{name}", "--timeout=120s")
        status = json.loads(clusters.kubectl("get", "deployment", name, "-o",
                                             "json").stdout)["status"]
        assert status["readyReplicas"] == 2
    finally:
        clusters.kubectl("delete", "-f", "-", "--wait=true", input=manifest)


@pytest.mark.usefixtures("kube")
def test_privileged_host_network_pod_runs_on_labelled_node() -> None:
    name, marker = f"lc-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    manifest = PRIVILEGED_POD.format(name=name, marker=marker)
    clusters.kubectl("apply", "-f", "-", input=manifest)
    try:
        clusters.kubectl("wait", "--for=condition=Ready", f"pod/{name}", "--timeout=120s")
        pod = json.loads(clusters.kubectl("get", "pod", name, "-o", "json").stdout)
        assert pod["spec"]["nodeName"] == "node1"
        assert pod["status"]["podIP"] == pod["status"]["hostIP"]  # host network
        logs = eventually(lambda: clusters.kubectl("logs", name).stdout, what="pod logs")
        assert f"MARKER={marker}" in logs
    finally:
        clusters.kubectl("delete", "-f", "-", "--wait=true", input=manifest)
