"""A chart from a chart repository (an http(s) URL serving index.yaml, as `helm repo index`
makes it), fetched by us, not by helm: every URL is checked by the caller's `allow` (the
administrator's CLOUDIFY_VNF_ALLOWED_CHART_SOURCES on a manager) before it is used, the index's
own chart URL too (an index may name any host), redirects are refused (their target would go
unchecked), sizes are bounded, and the chart's digest in the index is checked. helm then
installs the fetched file and reaches no network but the cluster's.

repository_credentials go as HTTP basic authentication to the repository's own scheme, host
and port only (never to another host an index names); 401/403 name that property.
Only an exact version the index lists is taken (the same blueprint installs the same chart).
Errors by status code: 404/401/403/other 4xx and a wrong index or digest are UserErrors naming
the field; no answer, 408, 429 and 5xx are TransientErrors (retried). Adapter layer: no ctx.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from cloudify_kubernetes.helm_oci import Credentials
from cloudify_shared import limits
from cloudify_shared.errors import TransientError, UserError

TRANSIENT = {408, 425, 429}
CREDENTIALS_FIELD = "properties.repository_credentials"
MAX_VERSIONS_NAMED = 10
Allow = Callable[[str, str], object]  # (url, field) -> anything; raises UserError when refused


def check_repository(url: str, field: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"{field}: {url!r} is not a chart repository URL (http:// or https:// "
                        "and a host; oci:// registries are not supported yet)")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise UserError(f"{field}: a chart repository URL carries no credentials, query or "
                        "fragment (credentials: properties.repository_credentials)")
    return url.rstrip("/") + "/"


def fetch(url: str, field: str, timeout: float, auth: Credentials | None = None) -> bytes:
    """The body at `url`, at most CLOUDIFY_VNF_MAX_FILE_BYTES; no redirect followed; `auth`
    sent as HTTP basic authentication."""
    basic = (auth.username, auth.password) if auth else None
    try:
        with requests.get(url, timeout=(10, timeout), stream=True, allow_redirects=False,
                          auth=basic) as reply:
            if 300 <= reply.status_code < 400:
                raise UserError(f"{field}: {url} redirects to {reply.headers.get('Location')!r}: "
                                "redirects are not followed (name the final URL)")
            if reply.status_code >= 500 or reply.status_code in TRANSIENT:
                raise TransientError(f"{field}: {url} answered {reply.status_code}")
            if reply.status_code in (401, 403):
                raise UserError(f"{CREDENTIALS_FIELD}: {url} answered {reply.status_code} "
                                f"{reply.reason} ({'refused them' if auth else 'none given'})")
            if reply.status_code >= 400:
                raise UserError(f"{field}: {url} answered {reply.status_code} {reply.reason}")
            limit = limits.bound(limits.MAX_FILE_BYTES)
            body = bytearray()
            for chunk in reply.iter_content(64 * 1024):
                body += chunk
                if len(body) > limit:
                    limits.check_size(len(body), f"{field}: {url}")
            return bytes(body)
    except requests.RequestException as error:
        raise TransientError(f"{field}: {url}: no answer ({type(error).__name__})") from None


def chart_entry(index: Any, chart: str, version: str, where: str) -> dict[str, Any]:
    """The index's entry of `chart` at exactly `version`."""
    entries = index.get("entries") if isinstance(index, dict) else None
    if not isinstance(entries, dict):
        raise UserError(f"{where}: not a chart repository index (no entries)")
    versions = [e for e in entries.get(chart) or [] if isinstance(e, dict)]
    if not versions:
        raise UserError(f"{where}: no chart {chart!r} (properties.chart)")
    for entry in versions:
        if str(entry.get("version")) == version:
            urls = entry.get("urls")
            if not isinstance(urls, list) or not urls or not isinstance(urls[0], str):
                raise UserError(f"{where}: chart {chart} {version} has no URL")
            return entry
    listed = ", ".join(str(e.get("version")) for e in versions[:MAX_VERSIONS_NAMED])
    raise UserError(f"properties.chart_version: {version!r} is not a version of chart {chart} "
                    f"in {where} (it lists {listed})")


def same_origin(url: str, base: str) -> bool:
    one, two = urlsplit(url), urlsplit(base)
    return (one.scheme, one.hostname, one.port) == (two.scheme, two.hostname, two.port)


def fetch_chart(repository: str, chart: str, version: str, allow: Allow,
                timeout: float, credentials: Credentials | None = None) -> tuple[bytes, str]:
    """The packaged chart (its bytes) and the URL it came from. `credentials` go to the
    repository only: a chart URL of another scheme, host or port gets none."""
    field = "properties.repository"
    base = check_repository(repository, field)
    index_url = urljoin(base, "index.yaml")
    allow(index_url, field)
    where = f"{field} ({index_url})"
    index = limits.load_yaml(fetch(index_url, field, timeout, credentials), where)
    entry = chart_entry(index, chart, version, where)
    chart_url = urljoin(base, entry["urls"][0])
    chart_field = f"{field} (the chart URL its index names)"
    if urlsplit(chart_url).scheme not in ("http", "https"):
        raise UserError(f"{chart_field}: {chart_url!r} is not an http(s) URL")
    allow(chart_url, chart_field)
    data = fetch(chart_url, chart_field, timeout,
                 credentials if same_origin(chart_url, base) else None)
    digest = entry.get("digest")  # (all digits, YAML reads it as a number)
    if digest is not None and hashlib.sha256(data).hexdigest() != str(digest).lower().zfill(64):
        raise UserError(f"{chart_field}: {chart_url}: its sha256 is not the digest the index "
                        "gives")
    return data, chart_url
