"""Drive a real Cloudify manager with the real `cfy` CLI: the suite's wagon, blueprints,
deployments and executions, the way a user does it.

By default the manager is the one `scripts/real-manager up` runs on this machine (its REST URL,
CA and admin password file under MANAGER_STATE); REAL_MANAGER_HOST / _PORT / _CA /
_PASSWORD_FILE / _TENANT point it elsewhere. The password goes to cfy through its environment
(CLOUDIFY_PASSWORD), never on a command line or into a log.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STATE = Path(os.environ.get("REAL_MANAGER_STATE", "/var/lib/cloudify-vnf-manager"))
PLUGIN_PACKAGE = "cloudify-vnf-suite"
# Cloudify picks one by the blueprint's DSL version: plugin.yaml serves 1.3 (and anything older).
PLUGIN_YAMLS = (ROOT / "plugin.yaml", ROOT / "plugin_1_4.yaml", ROOT / "plugin_1_5.yaml")
WAGON_SOURCES = ("setup.py", "plugin.yaml", "plugin_1_4.yaml", "plugin_1_5.yaml",
                 "constraints.txt", "cloudify_shared", "cloudify_kubernetes", "cloudify_swarm",
                 "cloudify_proxy")


class CfyFailed(Exception):
    """A cfy command exited non-zero; the message holds the command and its output's tail."""


@dataclass(frozen=True)
class ManagerAccess:
    host: str = "127.0.0.1"
    port: int = 18443
    ca_cert: Path = STATE / "ssl" / "cloudify_internal_ca_cert.pem"
    username: str = "admin"
    password_file: Path = STATE / "secrets" / "admin_password"
    tenant: str = "default_tenant"

    @classmethod
    def from_env(cls) -> ManagerAccess:
        env = os.environ
        return cls(host=env.get("REAL_MANAGER_HOST", cls.host),
                   port=int(env.get("REAL_MANAGER_PORT", cls.port)),
                   ca_cert=Path(env.get("REAL_MANAGER_CA", str(cls.ca_cert))),
                   password_file=Path(env.get("REAL_MANAGER_PASSWORD_FILE",
                                              str(cls.password_file))),
                   tenant=env.get("REAL_MANAGER_TENANT", cls.tenant))

    @property
    def password(self) -> str:
        return self.password_file.read_text().strip()

    def as_proxy_settings(self, **extra: Any) -> dict[str, Any]:
        """A DeploymentProxy `manager` property reaching this manager over https with its CA."""
        return {"host": self.host, "port": self.port, "protocol": "https", "tenant": self.tenant,
                "ca_cert": str(self.ca_cert), **extra}

    def client(self, **overrides: Any) -> Any:
        from cloudify_rest_client import CloudifyClient
        settings = {"host": self.host, "port": self.port, "protocol": "https",
                    "cert": str(self.ca_cert), "username": self.username,
                    "password": self.password, "tenant": self.tenant, **overrides}
        return CloudifyClient(**settings)

    def answers(self) -> bool:
        import requests
        from cloudify_rest_client.exceptions import CloudifyClientError
        try:
            self.client().manager.get_version()
        except (CloudifyClientError, requests.RequestException, OSError):
            return False
        return True


@dataclass
class ManagerCfy:
    """The cfy CLI with a profile for one manager, in a CFY_WORKDIR of its own."""

    workdir: Path
    access: ManagerAccess = field(default_factory=ManagerAccess.from_env)
    cfy_path: Path = field(default_factory=lambda: Path(sys.executable).with_name("cfy"))
    _profile_ready: bool = False

    def env(self) -> dict[str, str]:
        return dict(os.environ, CFY_WORKDIR=str(self.workdir), PYTHONWARNINGS="ignore",
                    CLOUDIFY_USERNAME=self.access.username, CLOUDIFY_PASSWORD=self.access.password,
                    CLOUDIFY_TENANT=self.access.tenant)

    def run(self, *args: str, timeout: float = 1200, check: bool = True) -> str:
        if not self._profile_ready:
            self._profile_ready = True
            self.workdir.mkdir(parents=True, exist_ok=True)
            # no -u/-p/-t: the credentials come from the environment and are not stored
            self.run("profiles", "use", self.access.host, "--ssl",
                     "--rest-port", str(self.access.port),
                     "--rest-certificate", str(self.access.ca_cert))
        proc = subprocess.run([str(self.cfy_path), *args], env=self.env(), capture_output=True,
                              text=True, timeout=timeout, check=False)
        output = (proc.stdout + proc.stderr).replace("\r", "\n")
        if check and proc.returncode != 0:
            tail = "\n".join(output.strip().splitlines()[-30:])
            raise CfyFailed(f"cfy {' '.join(args[:4])} exited {proc.returncode}:\n{tail}")
        return output

    # ---- plugin ------------------------------------------------------------------------------

    def ensure_plugin(self, wagon: Path, plugin_yamls: tuple[Path, ...] = PLUGIN_YAMLS) -> str:
        """Upload the wagon with its plugin yamls, one per DSL version (visible to every tenant),
        unless this exact wagon and these yamls are already the manager's; returns its id. An
        older build of the suite (same package name) is deleted first."""
        digest = hashlib.sha256(
            wagon.read_bytes() + b"".join(p.read_bytes() for p in plugin_yamls)).hexdigest()
        client = self.access.client()
        plugins = [p for p in client.plugins.list(package_name=PLUGIN_PACKAGE)]
        for plugin in plugins:
            if (plugin.get("title") or "") == digest[:32] and plugin.get("visibility") == "global":
                return str(plugin.id)
        for plugin in plugins:
            client.plugins.delete(plugin.id, force=True)
        yaml_args = [arg for path in plugin_yamls for arg in ("-y", str(path))]
        self.run("plugins", "upload", str(wagon), *yaml_args, "--title", digest[:32],
                 "--visibility", "global")
        found = [p for p in client.plugins.list(package_name=PLUGIN_PACKAGE)
                 if (p.get("title") or "") == digest[:32]]
        if not found:
            raise CfyFailed(f"{wagon.name} uploaded, but the manager does not list it")
        return str(found[0].id)

    # ---- blueprints, deployments, executions ---------------------------------------------------

    def upload_blueprint(self, path: Path, blueprint_id: str) -> None:
        self.run("blueprints", "upload", str(path), "-b", blueprint_id)

    def create_deployment(self, blueprint_id: str, deployment_id: str,
                          inputs: dict[str, Any] | None = None) -> None:
        args = ["deployments", "create", "-b", blueprint_id, deployment_id]
        self.run(*args, *(["-i", json.dumps(inputs)] if inputs else []))

    def execute(self, workflow: str, deployment_id: str, parameters: dict[str, Any] | None = None,
                timeout: float = 1200, check: bool = True) -> str:
        args = ["executions", "start", workflow, "-d", deployment_id,
                "--timeout", str(int(timeout))]
        if parameters:
            args += ["-p", json.dumps(parameters)]
        return self.run(*args, timeout=timeout + 60, check=check)

    def install(self, path: Path, deployment_id: str, inputs: dict[str, Any] | None = None,
                check: bool = True) -> str:
        """Upload the blueprint (under the deployment's id), create the deployment, run install."""
        self.upload_blueprint(path, deployment_id)
        self.create_deployment(deployment_id, deployment_id, inputs)
        return self.execute("install", deployment_id, check=check)

    def uninstall(self, deployment_id: str) -> None:
        """Uninstall, delete the deployment and its blueprint; a no-op for what does not exist."""
        client = self.access.client()
        if self.deployment_exists(deployment_id):
            instances = client.node_instances.list(deployment_id=deployment_id, _include=["state"])
            if any(i.state not in ("uninitialized", "deleted") for i in instances):
                self.execute("uninstall", deployment_id)  # (not available when nothing is live)
            self.run("deployments", "delete", deployment_id)
            wait_deleted(client, deployment_id)
        if any(b.id == deployment_id for b in client.blueprints.list(_include=["id"])):
            self.run("blueprints", "delete", deployment_id)

    def deployment_exists(self, deployment_id: str) -> bool:
        client = self.access.client()
        return any(d.id == deployment_id for d in client.deployments.list(_include=["id"]))

    def outputs(self, deployment_id: str) -> dict[str, Any]:
        return dict(self.access.client().deployments.outputs.get(deployment_id).outputs)

    def executions(self, deployment_id: str) -> list[Any]:
        return list(self.access.client().executions.list(deployment_id=deployment_id,
                                                          sort="created_at"))

    def events(self, execution_id: str) -> str:
        """Everything `cfy events list` shows for one execution (logs included)."""
        return self.run("events", "list", execution_id, "--include-logs")


def wait_deleted(client: Any, deployment_id: str, timeout: float = 120) -> None:
    """Deployment deletion runs as a workflow; wait until the deployment is gone."""
    import time
    deadline = time.monotonic() + timeout
    while any(d.id == deployment_id for d in client.deployments.list(_include=["id"])):
        if time.monotonic() > deadline:
            raise CfyFailed(f"deployment {deployment_id} still exists {timeout:.0f}s after delete")
        time.sleep(0.5)


def wagon_digest(root: Path = ROOT, sources: Iterable[str] = WAGON_SOURCES) -> str:
    """A digest of what goes into the wagon (tracked source files), to rebuild only on change."""
    digest = hashlib.sha256()
    for name in sources:
        path = root / name
        files = sorted(p for p in ([path] if path.is_file() else path.rglob("*.py")) if p.is_file())
        for item in files:
            digest.update(str(item.relative_to(root)).encode() + b"\0" + item.read_bytes())
    return digest.hexdigest()


def ensure_wagon(root: Path = ROOT) -> Path:
    """dist/'s wagon, built with scripts/build-wagon when the sources changed since it was made."""
    dist, want = root / "dist", wagon_digest(root)
    stamp = dist / ".source-digest"
    wagons = sorted(dist.glob("*.wgn"))
    if wagons and stamp.exists() and stamp.read_text().strip() == want:
        return wagons[-1]
    proc = subprocess.run(["bash", str(root / "scripts" / "build-wagon")], capture_output=True,
                          text=True, check=False, timeout=900)
    if proc.returncode != 0:
        raise CfyFailed(f"scripts/build-wagon exited {proc.returncode}:\n"
                        f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    stamp.write_text(want + "\n")
    return sorted(dist.glob("*.wgn"))[-1]
