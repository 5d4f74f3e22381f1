"""Waiting for the upstream deployment and copying its outputs (and capabilities): the proxy's
service layer.

Polls a DeploymentSource with capped exponential backoff (first 50 ms, capped at the
`poll_interval`, 0.5 s by default, so a finished upstream is seen within about half a second),
judges each snapshot with verdicts.judge and logs progress. Transient failures (connection
refused, 5xx, a half-written file) only mean "not yet" while there is time left. No ctx here.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from cloudify_proxy import currency
from cloudify_proxy.config import CAPABILITY, ProxyConfig
from cloudify_proxy.mapping import (
    Changes,
    check_overlap,
    copied_from,
    diff,
    proxy_properties,
    select_outputs,
)
from cloudify_proxy.source import DeploymentSource
from cloudify_proxy.verdicts import Snapshot, install_verdict, judge
from cloudify_shared.errors import NotFound
from cloudify_shared.waiting import Backoff, Verdict, wait_until

FIRST_POLL = 0.05


def take_snapshot(source: DeploymentSource, config: ProxyConfig) -> Snapshot:
    """What the source shows now; outputs (and capabilities, when the proxy copies some) are
    read only once the install part holds."""
    deployment_id = config.deployment_id
    try:
        executions = source.executions(deployment_id)
        if executions is None:
            return Snapshot(deployment_id, exists=False)
        snapshot = Snapshot(deployment_id, True, tuple(executions))
        if config.wait_for.install and not install_verdict(snapshot).is_done:
            return snapshot
        outputs = source.outputs(deployment_id)
        capabilities = (source.capabilities(deployment_id) if config.wants_capabilities
                        else None)
        return replace(snapshot, outputs=outputs, capabilities=capabilities)
    except NotFound:  # deleted between two calls
        return Snapshot(deployment_id, exists=False)


def checker(source: DeploymentSource, config: ProxyConfig) -> Callable[[], Verdict]:
    """The check handed to wait_until (which rides out TransientErrors until its timeout)."""
    def check() -> Verdict:
        snapshot = take_snapshot(source, config)
        verdict = judge(snapshot, config.wait_for, config.log_values_of)
        return Verdict(verdict.state, verdict.message, snapshot)
    return check


def wait_for_upstream(source: DeploymentSource, config: ProxyConfig, logger: logging.Logger,
                      sleep: Callable[[float], None] = time.sleep,
                      clock: Callable[[], float] = time.monotonic) -> Snapshot:
    """The first snapshot that satisfies config.wait_for; raises WorkloadFailed / WaitTimeout
    (TransientError when the source was still unreachable at the end)."""
    what = (f"deployment '{config.deployment_id}' on {source.describe()} "
            f"({config.wait_for.describe()})")
    backoff = Backoff(first=min(FIRST_POLL, config.poll_interval), factor=1.5,
                      cap=config.poll_interval)
    verdict = wait_until(checker(source, config), what, config.timeout, logger, backoff, sleep,
                         clock)
    snapshot: Snapshot = verdict.detail
    return snapshot


def copy_outputs(snapshot: Snapshot, config: ProxyConfig) -> dict[str, Any]:
    """The runtime properties for a ready snapshot: selected outputs and capabilities + id +
    timestamp. A named capability the upstream lacks is a UserError, as a named output is."""
    copied = select_outputs(snapshot.outputs or {}, config.selection, config.deployment_id)
    capabilities: dict[str, Any] = {}
    if config.wants_capabilities:
        capabilities = select_outputs(snapshot.capabilities or {}, config.capabilities,
                                      config.deployment_id, CAPABILITY)
        check_overlap(copied, capabilities, config.selection, config.capabilities)
    return proxy_properties(config.deployment_id, copied, capabilities=capabilities)


def find_problems(source: DeploymentSource, config: ProxyConfig,
                  runtime: Mapping[str, Any]) -> list[str]:
    """One look at the upstream, no waiting: what makes the proxy's copy not current (names
    only, never values); empty when it is current."""
    snapshot = take_snapshot(source, config)
    return currency.problems(snapshot, config, runtime, source.describe())


def refresh_outputs(source: DeploymentSource, config: ProxyConfig,
                    current: Mapping[str, Any], logger: logging.Logger,
                    ) -> tuple[dict[str, Any], Changes]:
    """Re-read the upstream: the new runtime properties and what changed in the copied outputs
    and capabilities."""
    snapshot = wait_for_upstream(source, config, logger)
    new = copy_outputs(snapshot, config)
    return new, diff(copied_from(current), copied_from(new))
