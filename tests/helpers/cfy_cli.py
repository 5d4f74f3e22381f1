"""Drive the real `cfy` CLI (local profile) in a working directory of its own.

Uses scripts/cfy-offline, which writes the offline import-resolver configuration into
$CFY_WORKDIR/.cloudify/config.yaml and runs .venv/bin/cfy.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers.paths import ROOT

CFY_OFFLINE = ROOT / "scripts" / "cfy-offline"


@dataclass
class CfyResult:
    args: list[str]
    returncode: int
    output: str

    def check(self) -> CfyResult:
        if self.returncode != 0:
            raise AssertionError(f"cfy {' '.join(self.args)} exited {self.returncode}:\n{self.output}")
        return self


class CfyCli:
    def __init__(self, workdir: Path, retries: int = 3, retry_interval: int = 1) -> None:
        self.workdir = workdir
        self.retries, self.retry_interval = retries, retry_interval

    def env(self) -> dict[str, str]:
        env = dict(os.environ, CFY_WORKDIR=str(self.workdir), PYTHONWARNINGS="ignore")
        env["CFY"] = str(Path(sys.executable).with_name("cfy"))
        return env

    def run(self, *args: str, timeout: float = 900) -> CfyResult:
        proc = subprocess.run([str(CFY_OFFLINE), *args], env=self.env(), capture_output=True,
                              text=True, timeout=timeout, check=False)
        return CfyResult(list(args), proc.returncode, proc.stdout + proc.stderr)

    def retry_flags(self) -> list[str]:
        return ["--task-retries", str(self.retries), "--task-retry-interval", str(self.retry_interval)]

    def install_args(self, blueprint: Path, deployment_id: str,
                     inputs: dict[str, Any] | None = None) -> list[str]:
        args = ["install", str(blueprint), "-b", deployment_id, *self.retry_flags()]
        return args + (["-i", json.dumps(inputs)] if inputs else [])

    def install(self, blueprint: Path, deployment_id: str, inputs: dict[str, Any] | None = None) -> CfyResult:
        return self.run(*self.install_args(blueprint, deployment_id, inputs))

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Run cfy in the background, in a process group of its own (so it can be killed whole);
        `finish` collects it."""
        return subprocess.Popen([str(CFY_OFFLINE), *args], env=self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)

    @staticmethod
    def finish(proc: subprocess.Popen[str], timeout: float = 900) -> CfyResult:
        output, _ = proc.communicate(timeout=timeout)
        return CfyResult([str(a) for a in proc.args][1:], proc.returncode, output)  # type: ignore[union-attr]

    def uninstall(self, deployment_id: str) -> CfyResult:
        return self.run("uninstall", "-b", deployment_id, *self.retry_flags())

    def execute(self, workflow: str, deployment_id: str, parameters: dict[str, Any] | None = None) -> CfyResult:
        args = ["executions", "start", workflow, "-b", deployment_id, *self.retry_flags()]
        if parameters:
            args += ["-p", json.dumps(parameters)]
        return self.run(*args)

    def outputs(self, deployment_id: str) -> dict[str, Any]:
        result = self.run("deployments", "outputs", "-b", deployment_id).check()
        text = result.output
        return json.loads(text[text.index("{"):text.rindex("}") + 1])

    def node_instances(self, deployment_id: str) -> list[dict[str, Any]]:
        folder = self.profile_dir / "deployments" / deployment_id / "node-instances"
        return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]

    @property
    def profile_dir(self) -> Path:
        return self.workdir / ".cloudify" / "profiles" / "local"
