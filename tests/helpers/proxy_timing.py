"""Reading the moments the proxy tests measure: when a cfy workflow finished (from the CLI's
own millisecond-stamped log line) and when a proxy copied its outputs (its runtime property)."""
from __future__ import annotations

import re
from datetime import datetime

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
