"""How fast a waiting DeploymentProxy reacts when its upstream's install ends.

Absolute figures (the older proxies polled every 5 s, so they reacted 0-5 s late; the goal
here is under 1 s):
- local profile: two real `cfy` processes in one CFY_WORKDIR; the downstream's proxy is
  already waiting when the upstream is installed. Delay = the CLI's 'install workflow
  execution succeeded' log line of the upstream -> the downstream's 'Task succeeded
  proxy_create' line (both millisecond stamps from the CLI).
- manager mode: the proxy (run by cloudify.workflows.local) polls the fake Cloudify REST manager
  (tests/helpers/fake_manager.py) through the real cloudify_rest_client; delay = the
  execution's ended_at -> the proxy's outputs_copied_at.

Run: .venv/bin/python -m benchmarks.proxy_reaction [RUNS]
"""
from __future__ import annotations

import sys
import tempfile
import threading
import uuid
from datetime import datetime
from functools import partial
from pathlib import Path

from benchmarks.common import Figure, render_table, retried
from tests.helpers import proxy_timing
from tests.helpers.cfy_cli import CfyCli
from tests.helpers.fake_manager import FakeManager, serving
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import TEST_BLUEPRINTS

UPSTREAM = TEST_BLUEPRINTS / "proxy-upstream" / "blueprint.yaml"
OUTPUTS = {"vm_info": {"ips": ["10.20.0.2"], "subnet": "10.20.0.0/24"}}


def local_profile_delay(workdir: Path) -> float:
    cfy = CfyCli(workdir)
    up, down = f"bench-up-{uuid.uuid4().hex[:6]}", f"bench-down-{uuid.uuid4().hex[:6]}"
    waiting = proxy_timing.Background(cfy, down, up, wait_for={"missing_deployment": "wait"},
                                      timeout=240)
    proxy_timing.wait_until_proxy_is_creating(cfy, down)
    upstream = cfy.install(UPSTREAM, up).check()
    result = waiting.join().check()
    return proxy_timing.delay_seconds(proxy_timing.install_finished_at(upstream.output),
                                      proxy_timing.proxy_create_succeeded_at(result.output))


def rest_delay(wait_before_end: float = 1.5) -> float:
    fake = FakeManager()
    fake.add_deployment("up", OUTPUTS)
    execution = fake.start_execution("up")
    ended: list[str] = []
    with serving(fake) as port:
        settings = {"host": "127.0.0.1", "port": port, "protocol": "http", "token": fake.token}
        deployment = LocalDeployment(TEST_BLUEPRINTS / "proxy-downstream" / "blueprint.yaml",
                                     {"upstream": "up", "manager": settings},
                                     name=f"bench-{uuid.uuid4().hex[:6]}")
        threading.Timer(wait_before_end,
                        lambda: ended.append(fake.end_execution(execution))).start()
        deployment.install()
    copied = datetime.fromisoformat(
        deployment.runtime_properties("kubernetes_proxy")["outputs_copied_at"])
    return (copied - datetime.fromisoformat(ended[0].replace("Z", "+00:00"))).total_seconds()


def measure(runs: int = 5) -> list[Figure]:
    local = Figure("proxy reaction, cfy local profile", "s", target="< 1 s (older proxies: 0-5 s)",
                   group="proxy",
                   note="upstream install end -> proxy create completed")
    rest = Figure("proxy reaction, REST (fake manager)", "s", target="< 1 s (older proxies: 0-5 s)",
                  group="proxy",
                  note="execution ended_at -> outputs_copied_at")
    with tempfile.TemporaryDirectory() as folder:
        for index in range(runs):
            workdir = Path(tempfile.mkdtemp(dir=folder))
            local.ours.append(retried(partial(local_profile_delay, workdir), "proxy local"))
            rest.ours.append(retried(rest_delay, "proxy rest"))
            print(f"  proxy run {index + 1}/{runs}: local {local.ours[-1]:.3f}s, "
                  f"rest {rest.ours[-1]:.3f}s", flush=True)
    return [local, rest]


if __name__ == "__main__":
    print(render_table(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 5)))
