"""Sample a number (ready replicas, running tasks) in a thread while an operation runs."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class Watch:
    """Calls `sample` every `interval` seconds until the with-block ends; `seen` holds the
    values, `minimum` the lowest (e.g. the fewest ready replicas during a rolling update)."""

    def __init__(self, sample: Callable[[], int], interval: float = 0.1) -> None:
        self.sample, self.interval = sample, interval
        self.seen: list[int] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            self.seen.append(self.sample())
            time.sleep(self.interval)

    def __enter__(self) -> Watch:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop.set()
        self.thread.join()

    @property
    def minimum(self) -> int:
        return min(self.seen)
