"""The machine's busy CPU in the benchmarks (issue 28): read from /proc/stat, and printed with
the cores it kept busy over a run."""
from __future__ import annotations

import os

from benchmarks.common import busy_cpu_seconds
from benchmarks.operation_breakdown import cpu_text


def test_busy_cpu_grows_with_work_done_here() -> None:
    before = busy_cpu_seconds()
    start = os.times()
    while os.times().user - start.user < 0.2:  # 0.2 s of this process's own CPU
        pass
    assert busy_cpu_seconds() - before >= 0.15


def test_cpu_text_gives_the_cores_kept_busy() -> None:
    text = cpu_text({"wall": 10.0, "busy_cpu": 15.0})
    assert text == f"machine CPU busy 15.0 s = 1.50 of {os.cpu_count()} cores"
    assert cpu_text({"wall": 10.0}) == "machine CPU not measured"
