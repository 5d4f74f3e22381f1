"""Driving the proxy's local-profile runs and reading the moments they measure: when a cfy
workflow finished (from the CLI's own millisecond-stamped log line) and when a proxy copied its
outputs (its runtime property) or its create operation completed."""
from __future__ import annotations

import re
import threading
import time
from datetime import datetime
from typing import Any

from tests.helpers.cfy_cli import CfyCli, CfyResult
from tests.helpers.paths import TEST_BLUEPRINTS

DOWNSTREAM = TEST_BLUEPRINTS / "proxy-downstream" / "blueprint.yaml"

FINISHED = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\s+CFY <[^>]+> "
                      r"'install' workflow execution (succeeded|failed)", re.MULTILINE)


def install_finished_at(cfy_output: str) -> datetime:
    """When the install workflow ended, as the cfy CLI logged it (local time, ms)."""
    match = FINISHED.search(cfy_output)
    assert match, f"no 'install workflow execution' line in:\n{cfy_output[-2000:]}"
    return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S.%f").astimezone()


def copied_at(runtime_properties: dict) -> datetime:
    return datetime.fromisoformat(runtime_properties["outputs_copied_at"])


def delay_seconds(finished: datetime, copied: datetime) -> float:
    return (copied - finished).total_seconds()


TASK_SUCCEEDED = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\s+CFY <[^>]+> \[[^\]]+\] "
                            r"Task succeeded '[\w.]*proxy_create'", re.MULTILINE)


def proxy_create_succeeded_at(cfy_output: str) -> datetime:
    """When the proxy's create operation completed, as the cfy CLI logged it."""
    match = TASK_SUCCEEDED.search(cfy_output)
    assert match, f"no proxy_create 'Task succeeded' line in:\n{cfy_output[-2000:]}"
    return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S.%f").astimezone()


def instance(cfy: CfyCli, deployment_id: str, node_id: str) -> dict[str, Any]:
    (found,) = [i for i in cfy.node_instances(deployment_id) if i["node_id"] == node_id]
    return found


def install_down(cfy: CfyCli, down: str, up: str, **inputs: Any) -> CfyResult:
    return cfy.install(DOWNSTREAM, down, {"upstream": up, **inputs})


class Background:
    """The downstream's cfy install run in a thread, so that the test can act while it waits."""

    def __init__(self, cfy: CfyCli, down: str, up: str, **inputs: Any) -> None:
        self.result: CfyResult | None = None
        self.thread = threading.Thread(target=self._run, args=(cfy, down, up, inputs),
                                       daemon=True)
        self.thread.start()

    def _run(self, cfy: CfyCli, down: str, up: str, inputs: dict[str, Any]) -> None:
        self.result = install_down(cfy, down, up, **inputs)

    def join(self, timeout: float = 300) -> CfyResult:
        self.thread.join(timeout)
        assert self.result is not None, "the background cfy install did not finish"
        return self.result


def wait_until_proxy_is_creating(cfy: CfyCli, down: str, timeout: float = 120) -> None:
    """The downstream's proxy create operation has started (its instance is 'creating')."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        folder = cfy.profile_dir / "deployments" / down / "node-instances"
        if folder.exists():
            try:
                if instance(cfy, down, "kubernetes_proxy")["state"] == "creating":
                    return
            except (ValueError, KeyError):  # a file being written, or not there yet
                pass
        time.sleep(0.1)
    raise AssertionError(f"the proxy of {down} never started creating")
