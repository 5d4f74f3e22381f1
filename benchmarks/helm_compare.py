"""A Helm chart (tests/blueprints/helm-release: a Deployment, a Service, a ConfigMap) installed
until ready and uninstalled until gone: this suite's HelmRelease (LocalDeployment, API mode)
next to the raw helm, `helm upgrade --install --wait` and `helm uninstall --wait`, interleaved,
with the same helm binary (CLOUDIFY_VNF_HELM, else the one scripts/clusters/helm.sh caches).
Also how long each side takes to report a chart whose container exits at once (a crash loop):
ours fails on the pod's reason; helm's --wait waits its whole --timeout (CRASH_TIMEOUT).

    .venv/bin/python -m benchmarks.helm_compare [RUNS]   (or python -m benchmarks --only helm)

Prints every run and the medians; asserts nothing (speed is measured, never asserted).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from cloudify.exceptions import WorkflowFailed

from benchmarks.common import (
    Figure,
    cleanup_on_failure,
    install_then_uninstall,
    render_table,
    retried,
)
from tests.helpers.clusters import kubectl
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import KUBECONFIG, LOCAL_API, TEST_BLUEPRINTS

BLUEPRINT = TEST_BLUEPRINTS / "helm-release" / "blueprint.yaml"
CHART = BLUEPRINT.parent / "resources" / "web-0.1.0.tgz"
CACHE = os.environ.get("LOCAL_CLUSTERS_CACHE", "/var/cache/cloudify-vnf")
HELM = os.environ.get("CLOUDIFY_VNF_HELM") or f"{CACHE}/helm-4.1.4/helm"
CRASH_TIMEOUT = 60  # helm's --timeout for the crash-looping chart (the example)


def helm(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HELM, *args, "--namespace", "default", "--kubeconfig", str(KUBECONFIG)],
                          capture_output=True, text=True, timeout=timeout, check=check)


def release_gone(name: str) -> None:
    """Until no pod of the release is left (helm uninstall --wait returns when its objects are
    gone; the pods of a Deployment go after it)."""
    while kubectl("get", "pods", "-l", f"app.kubernetes.io/instance={name}", "-o",
                  "name").stdout.strip():
        time.sleep(0.05)


def ours(name: str, **inputs: object) -> LocalDeployment:
    os.environ["CLOUDIFY_VNF_HELM"] = HELM
    return LocalDeployment(BLUEPRINT, {"api": LOCAL_API, "release_name": name, **inputs},
                           name=name, retries=0)


def our_run() -> tuple[float, float]:
    name = f"bh-{uuid.uuid4().hex[:6]}"
    installed, uninstalled = install_then_uninstall(ours(name))  # until every object is gone
    start = time.monotonic()
    release_gone(name)
    return installed, uninstalled + time.monotonic() - start


def helm_run() -> tuple[float, float]:
    name = f"bh-{uuid.uuid4().hex[:6]}"
    start = time.monotonic()
    with cleanup_on_failure(lambda: helm("uninstall", name, "--ignore-not-found", check=False)):
        helm("upgrade", "--install", name, str(CHART), "--wait", "--timeout", "120s")
    installed = time.monotonic() - start
    start = time.monotonic()
    helm("uninstall", name, "--wait", "--timeout", "120s")
    release_gone(name)
    return installed, time.monotonic() - start


def our_crash_report() -> float:
    """Seconds until our install fails on the crash loop (its reason in the error)."""
    name = f"bc-{uuid.uuid4().hex[:6]}"
    deployment = ours(name, set={"mode": "crash"}, timeout=CRASH_TIMEOUT)
    start = time.monotonic()
    try:
        deployment.install()
    except WorkflowFailed:
        return time.monotonic() - start
    finally:
        release_gone(name)
    deployment.uninstall()
    raise AssertionError("a crash-looping chart installed")


def helm_crash_report() -> float:
    """Seconds until helm upgrade --install --wait returns on the crash loop."""
    name = f"bc-{uuid.uuid4().hex[:6]}"
    start = time.monotonic()
    result = helm("upgrade", "--install", name, str(CHART), "--set", "mode=crash", "--wait",
                  "--timeout", f"{CRASH_TIMEOUT}s", check=False, timeout=CRASH_TIMEOUT + 60)
    took = time.monotonic() - start
    helm("uninstall", name, "--wait", "--ignore-not-found", check=False)
    release_gone(name)
    if result.returncode == 0:
        raise AssertionError("helm installed a crash-looping chart")
    return took


def helm_version() -> str:
    return str(json.loads(subprocess.run([HELM, "version", "--template", '{"v":"{{.Version}}"}'],
                                         capture_output=True, text=True, check=True).stdout)["v"])


def measure(runs: int = 5) -> list[Figure]:
    version = helm_version()
    install = Figure("helm chart install->ready (Deployment, Service, ConfigMap)", "s",
                     group="helm",
                     raw_label=f"helm {version} upgrade --install --wait", target="<= 1.10x")
    uninstall = Figure("helm chart uninstall->gone (pods included)", "s", group="helm",
                       raw_label=f"helm {version} uninstall --wait (+ pods gone)",
                       target="<= 1.10x")
    crash = Figure("helm chart whose container crash-loops: failure reported", "s", group="helm",
                   raw_label=f"helm upgrade --install --wait --timeout {CRASH_TIMEOUT}s",
                   target="ours < 15 s", note="ours names the pod and CrashLoopBackOff")
    for index in range(runs):
        sides = ("ours", "helm") if index % 2 == 0 else ("helm", "ours")
        for side in sides:
            up, down = retried(our_run if side == "ours" else helm_run, f"helm {side}")
            (install.ours if side == "ours" else install.raw).append(up)
            (uninstall.ours if side == "ours" else uninstall.raw).append(down)
        print(f"  helm run {index + 1}/{runs}: ours {install.ours[-1]:.2f}/{uninstall.ours[-1]:.2f}"
              f"  helm {install.raw[-1]:.2f}/{uninstall.raw[-1]:.2f}", flush=True)
    for index in range(min(runs, 2)):  # helm's side takes its whole timeout each time
        crash.ours.append(retried(our_crash_report, "helm crash ours"))
        crash.raw.append(retried(helm_crash_report, "helm crash raw"))
        print(f"  helm crash loop {index + 1}: ours {crash.ours[-1]:.2f} s, helm "
              f"{crash.raw[-1]:.2f} s", flush=True)
    return [install, uninstall, crash]


if __name__ == "__main__":
    if not Path(HELM).exists():
        sys.exit(f"no helm at {HELM}: run scripts/local-clusters up")
    print(render_table(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 5)))
