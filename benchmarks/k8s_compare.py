"""Install->ready and uninstall->gone for a 2-replica busybox Deployment: this plugin
(LocalDeployment of tests/blueprints/k8s-config, API mode) next to `kubectl apply` +
`kubectl rollout status` and `kubectl delete --wait`, interleaved, on this machine. Also the lag
between the API first showing the Deployment ready (seen by a watch) and install returning.

    .venv/bin/python -m benchmarks.k8s_compare [RUNS]   (or python -m benchmarks --only k8s)

Prints every run and the medians; asserts nothing (speed is measured, never asserted).
"""
from __future__ import annotations

import sys
import threading
import time
import uuid

import kubernetes

from benchmarks.common import Figure, cleanup_on_failure, render_table, retried
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
                                       field_selector=f"metadata.name={self.name}",
                                       timeout_seconds=120):
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
    with cleanup_on_failure(deployment.uninstall):
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
    manifest = MANIFEST.replace("name: web", "name: web-raw").replace("replicas: 1",
                                                                      "replicas: 2") \
        .replace("app: web", "app: web-raw")
    start = time.monotonic()
    with cleanup_on_failure(lambda: kubectl("delete", "deployment", "web-raw",
                                            "--ignore-not-found")):
        kubectl("apply", "-f", "-", input=manifest)
        kubectl("rollout", "status", "deployment/web-raw", "--timeout=120s")
    installed = time.monotonic() - start
    start = time.monotonic()
    kubectl("delete", "deployment", "web-raw", "--wait=true", f"--cascade={cascade}")
    deleted = time.monotonic() - start
    pods_gone("app=web-raw")
    return installed, deleted, time.monotonic() - start


def measure(runs: int = 5) -> list[Figure]:
    """Figures 1 (install, uninstall; group "k8s") and 3 (readiness lag; group "readiness")."""
    install = Figure("k8s install->ready, 2-replica Deployment", "s", group="k8s",
                     raw_label="kubectl apply + rollout status", target="<= 1.10x")
    uninstall = Figure("k8s uninstall->gone (pods included)", "s",
                       raw_label="kubectl delete --wait",
                       group="k8s",
                       note="raw returns when the Deployment object is gone; pods may still run")
    foreground = Figure("k8s uninstall->gone vs kubectl foreground delete", "s", group="k8s",
                        raw_label="kubectl delete --cascade=foreground --wait (+ pods gone)",
                        note="same semantics as ours: foreground cascade, pods included")
    lag = Figure("k8s readiness lag: install returned after the API showed ready", "s",
                 group="readiness", target="<= 0.5 s",
                 note="watch on the Deployment; includes the workflow's tail")
    for index in range(runs):
        order = ("ours", "raw", "fg") if index % 2 == 0 else ("fg", "raw", "ours")
        for side in order:
            if side == "ours":
                up, down = retried(lambda: plugin_run(lag.ours), "k8s ours")
                install.ours.append(up)
                uninstall.ours.append(down)
                foreground.ours.append(down)
            elif side == "fg":
                foreground.raw.append(retried(lambda: kubectl_run("foreground"), "k8s fg")[2])
            else:
                up, down, _pods = retried(kubectl_run, "k8s kubectl")
                install.raw.append(up)
                uninstall.raw.append(down)
        print(f"  k8s run {index + 1}/{runs}: ours {install.ours[-1]:.2f}/{uninstall.ours[-1]:.2f} "
              " "
              f"kubectl {install.raw[-1]:.2f}/{uninstall.raw[-1]:.2f} "
              f"(foreground {foreground.raw[-1]:.2f}; lag "
              f"{lag.ours[-1] if lag.ours else float('nan'):.2f})",
              flush=True)
    return [install, uninstall, foreground, lag]


if __name__ == "__main__":
    print(render_table(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 5)))
