"""RestSource reads every page of a deployment's executions (the manager cuts lists at its
default_page_size), over a stand-in for cloudify_rest_client's executions API."""
from __future__ import annotations

from typing import Any

from cloudify_rest_client.responses import ListResponse

from cloudify_proxy.rest_source import RestSource


class PagedExecutions:
    def __init__(self, items: list[dict[str, Any]], page_size: int) -> None:
        self.items, self.page_size, self.offsets = items, page_size, []  # type: list[int]

    def list(self, _offset: int = 0, **_: Any) -> ListResponse:
        self.offsets.append(_offset)
        page = self.items[_offset:_offset + self.page_size]
        return ListResponse(page, {"pagination": {"total": len(self.items), "size": self.page_size,
                                                  "offset": _offset}})


class FakeClient:
    def __init__(self, executions: PagedExecutions) -> None:
        self.executions = executions
        self.deployments = type("Deployments", (),
                                {"get": staticmethod(lambda *a, **k: {"id": "up"})})()


def executions(count: int) -> list[dict[str, Any]]:
    return [{"id": f"e{i}", "workflow_id": "install", "status": "terminated",
             "created_at": f"2026-12-01T00:00:{i:02d}.000Z"} for i in range(count)]


def test_every_page_is_read_in_order() -> None:
    paged = PagedExecutions(executions(5), page_size=2)
    found = RestSource(FakeClient(paged), "test").executions("up")
    assert [e["id"] for e in found] == ["e0", "e1", "e2", "e3", "e4"]
    assert paged.offsets == [0, 2, 4]


def test_one_page_is_one_call() -> None:
    paged = PagedExecutions(executions(3), page_size=1000)
    assert len(RestSource(FakeClient(paged), "test").executions("up") or []) == 3
    assert paged.offsets == [0]


def test_no_executions() -> None:
    paged = PagedExecutions([], page_size=1000)
    assert RestSource(FakeClient(paged), "test").executions("up") == []
