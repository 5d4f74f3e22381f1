"""Fault injection on the real local clusters: restart a daemon, drop SSH sessions, wait for a
condition. Used by tests/integration/reliability/test_faults.py."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

from tests.helpers import clusters
from tests.helpers.paths import ROOT, STATE_DIR

LOCAL_CLUSTERS = ROOT / "scripts" / "local-clusters"


def restart(daemon: str, pause: float = 0) -> str:
    """`local-clusters restart DAEMON PAUSE`: stop it, wait, start it and wait until it answers."""
    done = subprocess.run([str(LOCAL_CLUSTERS), "restart", daemon, str(pause)], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, f"restart {daemon} failed:\n{done.stdout}{done.stderr}"
    return done.stdout + done.stderr


def drop_ssh_sessions() -> int:
    """Kill every session of the local sshd (not the listener): open connections drop, new ones
    are accepted. Returns how many sessions were killed."""
    listener = int((STATE_DIR / "pids" / "sshd.pid").read_text())
    found = subprocess.run(["pgrep", "-P", str(listener)], capture_output=True, text=True,
                           check=False)
    sessions = [int(pid) for pid in found.stdout.split()]
    for pid in sessions:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(sessions)


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 120.0,
             interval: float = 0.2) -> Any:
    """Poll until `condition()` is truthy; returns it, or fails saying what it waited for."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"gave up after {timeout:g}s waiting for {what}")


def wait_healthy(timeout: float = 180.0) -> None:
    """Both clusters answer again and the Kubernetes node is Ready (after a restart)."""
    wait_for(clusters.swarm_up, "the Swarm to be active", timeout, 1.0)
    wait_for(clusters.kubernetes_up, "the Kubernetes node to be Ready", timeout, 1.0)


def k8s_objects(deployment_id: str, kind: str) -> list[str]:
    return [name for name in clusters.kubernetes_leftovers(deployment_id)
            if name.startswith(f"{kind}/")]


def swarm_services(deployment_id: str) -> list[str]:
    return [name for name in clusters.docker_leftovers(deployment_id)
            if name.startswith("service/")]
