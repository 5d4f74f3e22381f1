"""Where a test run's time went, from the JUnit file scripts/run-tests writes.

    .venv/bin/python -m tests.helpers.run_times [.test-results/integration.xml] [TOP]

Prints a table of the folders (tests/integration/<folder>; files directly in it as `(top)`):
tests, seconds, share of the run; then the TOP slowest tests (default 15). Reads only.
"""
from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path


def case_times(path: Path) -> list[tuple[str, float]]:
    """(test id, seconds) for every test case of the JUnit file at `path`."""
    root = ElementTree.parse(path).getroot()
    return [(f"{case.get('classname', '')}::{case.get('name', '')}", float(case.get("time", 0)))
            for case in root.iter("testcase")]


def folder_of(test_id: str) -> str:
    parts = test_id.split("::", 1)[0].split(".")
    return parts[2] if len(parts) > 3 and parts[:2] == ["tests", "integration"] else "(top)"


def report(times: list[tuple[str, float]], top: int) -> str:
    total = sum(seconds for _, seconds in times) or 1.0
    folders: dict[str, list[float]] = defaultdict(list)
    for test_id, seconds in times:
        folders[folder_of(test_id)].append(seconds)
    lines = ["| folder | tests | s | share |", "| --- | --- | --- | --- |"]
    for name, values in sorted(folders.items(), key=lambda item: -sum(item[1])):
        lines.append(f"| {name} | {len(values)} | {sum(values):.0f} | "
                     f"{100 * sum(values) / total:.0f} % |")
    lines.append(f"| all | {len(times)} | {total:.0f} | 100 % |")
    lines += ["", f"The {top} slowest:", ""]
    lines += [f"{seconds:7.1f} s  {test_id}"
              for test_id, seconds in sorted(times, key=lambda item: -item[1])[:top]]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else Path(".test-results/integration.xml")
    top = int(argv[1]) if len(argv) > 1 else 15
    print(report(case_times(path), top))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
