"""A task whose container ended says how (issue 25): exit code, command, and its last output."""
from __future__ import annotations

from typing import Any

from cloudify_swarm.convergence import describe_task
from cloudify_swarm.services import last_output


def task(state: str, code: int | None, command: list[str] | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"State": state, "Message": "finished"}
    if code is not None:
        status["ContainerStatus"] = {"ContainerID": "c0ffee" * 8, "ExitCode": code}
    return {"ID": "t1", "Status": status, "Spec": {"ContainerSpec": {"Command": command or []}}}


def test_a_task_that_ended_at_once_names_its_code_and_command() -> None:
    text = describe_task(task("complete", 0, ["start.sh"]))
    assert text == ("task t1 complete: finished (the container exited at once with code 0; "
                    "command: start.sh)")
    assert "command: the image's entry point" in describe_task(task("failed", 3))
    assert describe_task(task("running", None)) == "task t1 running: finished"


class Logs:
    def __init__(self, text: str) -> None:
        self.text = text
        self.asked: list[tuple[str, int]] = []

    def container_logs(self, container_id: str, tail: int) -> str:
        self.asked.append((container_id, tail))
        return self.text


def test_the_last_output_of_the_first_failed_container_is_shown() -> None:
    engine = Logs("one\ntwo\n")
    text = last_output(engine, [task("complete", None), task("complete", 0)])  # type: ignore[arg-type]
    assert text == "\n  last output lines of container c0ffeec0ffee:\n  one\n  two"
    assert engine.asked == [("c0ffee" * 8, 10)]
    assert last_output(Logs(""), [task("complete", 0)]) == ""  # type: ignore[arg-type]
