"""helm_repo without a network: the index's entry of an exact version, every URL through the
caller's allow (the index's chart URL too, wherever it points), the digest checked."""
from __future__ import annotations

import hashlib
from typing import Any

import pytest

from cloudify_kubernetes import helm_repo
from cloudify_shared.errors import UserError
from cloudify_shared.reach import CHARTS, ReachPolicy, parse_entries

CHART = b"the packaged chart"


def index(url: str, digest: str = hashlib.sha256(CHART).hexdigest()) -> bytes:
    return (f"apiVersion: v1\nentries:\n  web:\n  - name: web\n    version: 0.1.0\n"
            f"    digest: {digest}\n    urls: [{url}]\n").encode()


def serve(monkeypatch: pytest.MonkeyPatch, pages: dict[str, bytes]) -> list[str]:
    fetched: list[str] = []

    def fetch(url: str, field: str, timeout: float, auth: Any = None) -> bytes:
        fetched.append(url + (f" as {auth.username}" if auth else ""))
        return pages[url]
    monkeypatch.setattr(helm_repo, "fetch", fetch)
    return fetched


def manager_allowing(entries: str) -> Any:
    allowed, _ = parse_entries(entries)
    policy = ReachPolicy(True, {CHARTS.setting: allowed}, {},
                         resolver=lambda host: (), own_address=lambda address: False)
    return lambda url, field: policy.check(CHARTS, url, field)


def test_a_chart_of_an_allowed_repository_is_fetched_with_its_digest_checked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    fetched = serve(monkeypatch, {"https://charts.example.net/r/index.yaml": index("web-0.1.0.tgz"),
                                  "https://charts.example.net/r/web-0.1.0.tgz": CHART})
    data, url = helm_repo.fetch_chart("https://charts.example.net/r", "web", "0.1.0",
                                      manager_allowing("https://charts.example.net"), 10)
    assert (data, url) == (CHART, "https://charts.example.net/r/web-0.1.0.tgz")
    assert fetched == ["https://charts.example.net/r/index.yaml", url]


def test_the_chart_url_an_index_names_elsewhere_is_checked_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fetched = serve(monkeypatch, {"https://charts.example.net/index.yaml":
                                  index("http://10.0.0.9/web-0.1.0.tgz")})
    with pytest.raises(UserError, match=r"properties.repository \(the chart URL its index names\): "
                       r"'http://10.0.0.9/web-0.1.0.tgz' .* CLOUDIFY_VNF_ALLOWED_CHART_SOURCES"):
        helm_repo.fetch_chart("https://charts.example.net", "web", "0.1.0",
                              manager_allowing("https://charts.example.net"), 10)
    assert fetched == ["https://charts.example.net/index.yaml"]  # never fetched


def test_a_repository_not_allowed_is_never_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    fetched = serve(monkeypatch, {})
    with pytest.raises(UserError, match="properties.repository: 'https://evil.example/index.yaml'"):
        helm_repo.fetch_chart("https://evil.example", "web", "0.1.0",
                              manager_allowing("https://charts.example.net"), 10)
    assert fetched == []


def test_a_wrong_digest_an_unknown_version_or_chart_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    serve(monkeypatch, {"http://h/index.yaml": index("web-0.1.0.tgz", "ab" * 32),
                        "http://h/web-0.1.0.tgz": CHART})
    allow = manager_allowing("http://h")
    with pytest.raises(UserError, match="its sha256 is not the digest the index gives"):
        helm_repo.fetch_chart("http://h", "web", "0.1.0", allow, 10)
    with pytest.raises(UserError, match=r"chart_version: '0.1' is not a version of chart web .* "
                                        r"\(it lists 0.1.0\)"):
        helm_repo.fetch_chart("http://h", "web", "0.1", allow, 10)
    with pytest.raises(UserError, match="no chart 'db'"):
        helm_repo.fetch_chart("http://h", "db", "0.1.0", allow, 10)


@pytest.mark.parametrize("url", ["oci://registry/charts", "ftp://h/x", "https://u:p@h/x",
                                 "https://h/x?token=1", "h/x"])
def test_only_a_plain_http_url_names_a_repository(url: str) -> None:
    with pytest.raises(UserError, match="properties.repository"):
        helm_repo.check_repository(url, "properties.repository")


def test_repository_credentials_go_to_the_repository_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from cloudify_kubernetes.helm_oci import Credentials
    login = Credentials("u", "pw-repo-1")
    fetched = serve(monkeypatch, {"http://h/c/index.yaml": index("web-0.1.0.tgz"),
                                  "http://h/c/web-0.1.0.tgz": CHART})
    helm_repo.fetch_chart("http://h/c", "web", "0.1.0", lambda u, f: None, 10, login)
    assert fetched == ["http://h/c/index.yaml as u", "http://h/c/web-0.1.0.tgz as u"]
    fetched = serve(monkeypatch, {"http://h/c/index.yaml": index("http://other:80/web.tgz"),
                                  "http://other:80/web.tgz": CHART})
    helm_repo.fetch_chart("http://h/c", "web", "0.1.0", lambda u, f: None, 10, login)
    assert fetched == ["http://h/c/index.yaml as u", "http://other:80/web.tgz"]  # none elsewhere


def test_repository_credentials_only_with_a_repository() -> None:
    from cloudify_kubernetes.helm_values import parse_settings
    with pytest.raises(UserError,
                       match=r"properties.repository_credentials: only with a repository"):
        parse_settings({"chart": "c.tgz",
                        "repository_credentials": {"username": "u", "password": "pw-x-1"}})
    settings = parse_settings({"chart": "web", "repository": "http://h", "chart_version": "1",
                               "repository_credentials": {"username": "u", "password": "pw-x-2"}})
    assert settings.repository_credentials is not None
