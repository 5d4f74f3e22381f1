"""The hybrid VNF service chain on the local clusters, with the real cfy CLI: in the local
profile, or (--manager) on the real Cloudify manager that `scripts/real-manager up` runs.

    python -m examples.demo up [--manager] [--helm]
                                              install k8s-cluster, swarm-cluster and service;
                                              prove the chain (--helm: the backends from the
                                              k8s-cluster-helm blueprint, a Helm chart)
    python -m examples.demo down [--manager]  uninstall all three

`scripts/demo` (and `make demo`) first installs what is needed and brings the clusters up.
Each step prints what it does and how long it took; a failure names the step and why.
"""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from examples.host_routes import SubnetInUse, check_subnet, free_subnet
from examples.manager import CfyFailed, ManagerCfy, ensure_wagon

ROOT = Path(__file__).resolve().parents[1]
BLUEPRINTS = ROOT / "examples" / "blueprints"
CFY_OFFLINE = ROOT / "scripts" / "cfy-offline"
KUBECTL = Path("/var/cache/cloudify-vnf/kubernetes-1.20.2/bin/kubectl")
HELM = Path("/var/cache/cloudify-vnf/helm-4.1.4/helm")  # scripts/clusters/helm.sh installs it
KUBECONFIG = Path("/var/lib/cloudify-vnf-local/kubeconfig")
DEPLOYMENTS = ("k8s-cluster", "swarm-cluster", "service")
RETRY_FLAGS = ["--task-retries", "5", "--task-retry-interval", "2"]


class StepFailed(Exception):
    pass


@dataclass
class Chain:
    """Where the demo keeps its cfy state and which deployment ids and port it uses."""

    workdir: Path
    prefix: str = ""
    lb_port: int = 18080
    # the blueprint of the k8s-cluster deployment (or k8s-cluster-helm)
    kubernetes: str = "k8s-cluster"

    def deployment(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def blueprint(self, name: str) -> Path:
        """The blueprint deployment `name` installs: the k8s-cluster deployment's is the
        chosen Kubernetes upstream (`kubernetes`), the others' their own."""
        return BLUEPRINTS / (self.kubernetes if name == "k8s-cluster" else name) / "blueprint.yaml"

    def cfy(self, *args: str, timeout: float = 1200) -> str:
        env = dict(os.environ, CFY_WORKDIR=str(self.workdir), PYTHONWARNINGS="ignore")
        env.setdefault("CFY", str(Path(sys.executable).with_name("cfy")))
        env.setdefault("CLOUDIFY_VNF_HELM", str(HELM))  # the HelmRelease of k8s-cluster-helm
        proc = subprocess.run([str(CFY_OFFLINE), *args], env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
            raise StepFailed(f"cfy {' '.join(args[:3])} exited {proc.returncode}:\n{tail}")
        return proc.stdout

    def outputs(self, name: str) -> dict[str, Any]:
        text = self.cfy("deployments", "outputs", "-b", self.deployment(name))
        outputs: dict[str, Any] = json.loads(text[text.index("{"):text.rindex("}") + 1])
        return outputs

    def installed(self, name: str) -> bool:
        return (self.workdir / ".cloudify" / "profiles" / "local" / "deployments"
                / self.deployment(name)).exists()

    def install(self, name: str, inputs: dict[str, Any] | None = None) -> None:
        args = ["install", str(self.blueprint(name)), "-b", self.deployment(name),
                *RETRY_FLAGS]
        self.cfy(*args, *(["-i", json.dumps(inputs)] if inputs else []))

    def uninstall(self, name: str) -> None:
        if self.installed(name):
            self.cfy("uninstall", "-b", self.deployment(name), *RETRY_FLAGS)


@dataclass
class ManagerChain(Chain):
    """The same chain on a real manager: the suite's wagon uploaded (built when the sources
    changed), each blueprint uploaded unchanged under its deployment's id, and the workflows
    run by the manager's mgmtworker."""

    def __post_init__(self) -> None:
        self.manager = ManagerCfy(self.workdir)
        self.prepared = False

    def prepare(self) -> None:
        if self.prepared:
            return
        self.prepared = True
        wagon = step("build the wagon (skipped when the sources did not change)",
                     lambda: self.unless_cfy_failed(ensure_wagon))
        step(f"upload {wagon.name} to the manager (skipped when it is there)",
             lambda: self.unless_cfy_failed(lambda: self.manager.ensure_plugin(wagon)))

    @staticmethod
    def unless_cfy_failed(action: Callable[[], Any]) -> Any:
        try:
            return action()
        except CfyFailed as error:
            raise StepFailed(str(error)) from None

    def outputs(self, name: str) -> dict[str, Any]:
        return self.manager.outputs(self.deployment(name))

    def installed(self, name: str) -> bool:
        return self.manager.deployment_exists(self.deployment(name))

    def install(self, name: str, inputs: dict[str, Any] | None = None) -> None:
        self.unless_cfy_failed(lambda: self.manager.install(
            self.blueprint(name), self.deployment(name), inputs))

    def uninstall(self, name: str) -> None:
        self.unless_cfy_failed(lambda: self.manager.uninstall(self.deployment(name)))


def step(title: str, action: Callable[[], Any]) -> Any:
    print(f"==> {title}", flush=True)
    start = time.monotonic()
    try:
        result = action()
    except StepFailed as error:
        print(f"FAILED: {title} ({time.monotonic() - start:.1f}s)\n{error}", flush=True)
        raise
    print(f"    done in {time.monotonic() - start:.1f}s", flush=True)
    return result


def http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # loopback only
        return str(response.read().decode()).strip()


def kubectl_json(*args: str) -> Any:
    proc = subprocess.run([str(KUBECTL), "--kubeconfig", str(KUBECONFIG), *args, "-o", "json"],
                          capture_output=True, text=True, check=True, timeout=60)
    return json.loads(proc.stdout)


def prove_load_balancing(url: str, backends: int = 2, requests: int = 8) -> list[str]:
    """Requests to nginx on 127.0.0.1 come back from every backend in turn."""
    answers = [http_get(url) for _ in range(requests)]
    if len(set(answers)) < backends:
        raise StepFailed(f"{url} answered from {sorted(set(answers))}, "
                         f"expected {backends} backends")
    if any(a == b for a, b in zip(answers, answers[1:], strict=False)):
        raise StepFailed(f"{url} did not alternate between backends: {answers}")
    return answers


def prove_router(routes: str, namespace: str = "default") -> dict[str, Any]:
    """The router pod runs on the node labelled role=router and its routes are installed."""
    pods = kubectl_json("get", "pods", "-n", namespace, "-l", "app=vnf-router")["items"]
    running = [p for p in pods if p["status"].get("phase") == "Running"]
    if len(running) != 1:
        raise StepFailed("expected one running router pod, "
                         f"found {[p['metadata']['name'] for p in pods]}")
    pod = running[0]
    node = kubectl_json("get", "node", pod["spec"]["nodeName"])
    if node["metadata"]["labels"].get("role") != "router":
        raise StepFailed(f"router pod runs on {pod['spec']['nodeName']}, "
                         "which is not labelled role=router")
    table = subprocess.run(["ip", "route", "show", routes], capture_output=True, text=True,
                           check=True).stdout
    if "via 198.51.100.2 dev vnf-rt0" not in table:
        raise StepFailed(f"route {routes} via the router's test link is missing: {table!r}")
    return {"pod": pod["metadata"]["name"], "node": pod["spec"]["nodeName"], "route": table.strip()}


def up(chain: Chain) -> dict[str, Any]:
    if isinstance(chain, ManagerChain):
        chain.prepare()
    subnet = step("choose a backend subnet the host does not reach (the router routes it)",
                  backend_subnet)
    print(f"    {subnet}")
    step("install k8s-cluster (backends on Kubernetes, from "
         f"{chain.blueprint('k8s-cluster').parent.name})",
         lambda: chain.install("k8s-cluster", {"backend_subnet": subnet}))
    step("install swarm-cluster", lambda: chain.install("swarm-cluster"))
    step("install service (router on Kubernetes, nginx on Swarm, wired by proxies)",
         lambda: chain.install("service", {
             "kubernetes_deployment": chain.deployment("k8s-cluster"),
             "swarm_deployment": chain.deployment("swarm-cluster"), "lb_port": chain.lb_port}))
    outputs = {name: step(f"outputs of {name}", functools.partial(chain.outputs, name))
               for name in DEPLOYMENTS}
    for name, values in outputs.items():
        print(f"--- {chain.deployment(name)} outputs\n{json.dumps(values, indent=2)[:1500]}")
    url = outputs["service"]["load_balancer_url"]
    answers = step(f"prove: {url} answers from both backends in turn",
                   lambda: prove_load_balancing(url))
    print("    " + "\n    ".join(answers))
    router = step("prove: router on the role=router node with its routes",
                  lambda: prove_router(outputs["service"]["routes"]))
    print(f"    {router}")
    return {"outputs": outputs, "answers": answers, "router": router}


def backend_subnet() -> str:
    """DEMO_BACKEND_SUBNET if it captures none of the host's traffic, else the first free
    candidate (examples/host_routes.py); a StepFailed naming what it would capture."""
    try:
        wanted = os.environ.get("DEMO_BACKEND_SUBNET")
        if wanted:
            check_subnet(wanted)
            return wanted
        return free_subnet()
    except SubnetInUse as error:
        raise StepFailed(str(error)) from None


def down(chain: Chain) -> None:
    for name in reversed(DEPLOYMENTS):
        step(f"uninstall {name}", functools.partial(chain.uninstall, name))


def main(argv: list[str]) -> int:
    args = [a for a in argv[1:] if a not in ("--manager", "--helm")]
    command = args[0] if args else "up"
    if "--manager" in argv:
        chain: Chain = ManagerChain(
            Path(os.environ.get("CFY_WORKDIR", ROOT / ".cfy-work" / "demo-manager")))
    else:
        chain = Chain(Path(os.environ.get("CFY_WORKDIR", ROOT / ".cfy-work" / "demo")))
    if "--helm" in argv:
        chain.kubernetes = "k8s-cluster-helm"
    try:
        if command == "up":
            up(chain)
            print("\nThe chain is up. Tear it down with: scripts/demo down  (or make demo-down)")
        elif command == "down":
            down(chain)
        else:
            print(__doc__)
            return 2
    except StepFailed:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
