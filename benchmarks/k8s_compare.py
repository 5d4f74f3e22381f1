"""Install->ready and uninstall->gone for a 2-replica busybox Deployment: this plugin
(LocalDeployment of tests/blueprints/k8s-config, API mode) next to `kubectl apply` +
`kubectl rollout status` and `kubectl delete --wait`, interleaved, on this machine. Also the lag
between the API first showing the Deployment ready (seen by a watch) and install returning.

    .venv/bin/python -m benchmarks.k8s_compare [RUNS]

Prints every run and the medians; asserts nothing (speed is measured, never asserted).
"""
from __future__ import annotations

import sys
import threading
import time
import uuid

import kubernetes

from benchmarks.common import Figure, render_table, write_results
from tests.helpers.clusters import kube_api_client, kubectl, kubernetes_leftovers
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import K8S_CA, K8S_TOKEN_FILE, TEST_BLUEPRINTS

BLUEPRINT = TEST_BLUEPRINTS / "k8s-config" / "blueprint.yaml"
MANIFEST = (TEST_BLUEPRINTS / "k8s-config" / "resources" / "web.yaml").read_text()
API = {"host": "https://127.0.0.1:6443", "token_file": str(K8S_TOKEN_FILE), "ca_file": str(K8S_CA)}


class ReadyWatch(threading.Thread):
    """Records when the API first shows Deployment `name` fully rolled out (2 available)."""

    def __init__(self, name: str) -> None:
        super().__init__(daemon=True)
        self.name, self.ready_at = name, 0.0
        self.watch = kubernetes.watch.Watch()

    def run(self) -> None:
        apps = kubernetes.client.AppsV1Api(kube_api_client())
        for event in self.watch.stream(apps.list_namespaced_deployment, "default",
                                       field_selector=f"metadata.name={self.name}", timeout_seconds=120):
            obj = event["object"]
            status = obj.status
            if (status.observed_generation or 0) >= (obj.metadata.generation or 0) \
                    and status.updated_replicas == 2 and status.available_replicas == 2 \
                    and (status.replicas or 0) == 2:
                self.ready_at = time.monotonic()
                self.watch.stop()
                return


def pods_gone(selector: str) -> None:
    while kubectl("get", "pods", "-l", selector, "-o", "name").stdout.strip():
        time.sleep(0.05)


def plugin_run(lags: list[float]) -> tuple[float, float]:
    name = f"bench-{uuid.uuid4().hex[:6]}"
    deployment = LocalDeployment(BLUEPRINT, {"api": API, "config_files": [
        {"file": "resources/web.yaml", "overrides": ["['spec']['replicas']=2"]}]}, name=name)
    watch = ReadyWatch("web")
    watch.start()
    start = time.monotonic()
    deployment.install()
    done = time.monotonic()
    watch.join(5)
    if watch.ready_at:
        lags.append(done - watch.ready_at)
    start_delete = time.monotonic()
    deployment.uninstall()  # returns once the Deployment and its pods are gone
    removed = time.monotonic() - start_delete
    assert not kubernetes_leftovers(name), kubernetes_leftovers(name)
    return done - start, removed


def kubectl_run(cascade: str = "background") -> tuple[float, float, float]:
    manifest = MANIFEST.replace("name: web", "name: web-raw").replace("replicas: 1", "replicas: 2") \
        .replace("app: web", "app: web-raw")
    start = time.monotonic()
    kubectl("apply", "-f", "-", input=manifest)
    kubectl("rollout", "status", "deployment/web-raw", "--timeout=120s")
    installed = time.monotonic() - start
    start = time.monotonic()
    kubectl("delete", "deployment", "web-raw", "--wait=true", f"--cascade={cascade}")
    deleted = time.monotonic() - start
    pods_gone("app=web-raw")
    return installed, deleted, time.monotonic() - start


def main(runs: int) -> None:
    install = Figure("k8s install->ready, 2-replica Deployment", "s",
                     raw_label="kubectl apply + rollout status", target="<= 1.10x")
    uninstall = Figure("k8s uninstall->gone (pods included)", "s", raw_label="kubectl delete --wait",
                       note="raw returns when the Deployment object is gone; pods may still run")
    raw_pods = Figure("k8s kubectl delete --wait, then until pods gone", "s",
                      note="raw tool only, same runs")
    foreground = Figure("k8s uninstall->gone vs kubectl foreground delete", "s",
                        raw_label="kubectl delete --cascade=foreground --wait (+ pods gone)",
                        note="same semantics as ours: foreground cascade, pods included")
    lags: list[float] = []
    for index in range(runs):
        order = ("ours", "raw", "fg") if index % 2 == 0 else ("fg", "raw", "ours")
        for side in order:
            if side == "ours":
                up, down = plugin_run(lags)
                install.ours.append(up)
                uninstall.ours.append(down)
                foreground.ours.append(down)
            elif side == "fg":
                foreground.raw.append(kubectl_run("foreground")[2])
            else:
                up, down, pods = kubectl_run()
                install.raw.append(up)
                uninstall.raw.append(down)
                raw_pods.ours.append(pods)
        print(f"  run {index + 1}/{runs}: ours {install.ours[-1]:.2f}/{uninstall.ours[-1]:.2f}  "
              f"kubectl {install.raw[-1]:.2f}/{uninstall.raw[-1]:.2f} (pods gone {raw_pods.ours[-1]:.2f}; "
              f"foreground {foreground.raw[-1]:.2f})",
              flush=True)
    lag = Figure("k8s install returned after the API showed ready", "s", ours=lags,
                 note="watch on the Deployment; includes the workflow's tail", target="<= 0.5")
    figures = [install, uninstall, raw_pods, foreground, lag]
    try:
        print(write_results(figures, "k8s_compare"))
    except ImportError:  # no matplotlib: the table and JSON are written before the plot
        print(render_table(figures))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
