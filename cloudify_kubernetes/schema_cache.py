"""The server's OpenAPI v2 schema, kept on disk between operations (issue 28: on a manager
every operation is a new process, and /openapi/v2 is several MB).

One file per API server and version (the name is a hash of both), holding the stripped document
(openapi_schema.strip_document: a tenth of the size, parsed in milliseconds) and the server's
ETag. An operation reads the file and asks the server nothing more while every object's kind is
in it and no field is found unknown; a kind it lacks (a CRD applied since) or an unknown field
(a CRD's schema may have grown) makes it ask again once, with If-None-Match where the backend
can send it (API: a 304 costs one round trip; kubectl over SSH fetches the whole document).
Written as a temporary file then renamed into place, so two processes writing at once leave one
whole file; a file that cannot be read or parsed is fetched again. I/O (files, the source); no ctx.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cloudify_kubernetes.openapi_schema import Schema, strip_document
from cloudify_shared.errors import UserError

CACHE_ENV = "CLOUDIFY_VNF_SCHEMA_CACHE"
FORMAT = 1  # of the cache file; another value is fetched again


class SchemaSource(Protocol):
    """What a backend offers to fetch the schema (both ClusterBackend adapters have it)."""

    def server_endpoint(self) -> str:
        """Where the API server is reached (names the cache file)."""

    def server_version(self) -> str:
        """The API server's gitVersion (v1.20.2)."""

    def openapi_v2(self, etag: str | None) -> tuple[bytes | None, str | None]:
        """The /openapi/v2 document and its ETag; (None, etag) when `etag` is still current."""


def default_directory() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "cloudify-vnf-suite" / "openapi"


@dataclass(frozen=True)
class Cached:
    schema: Schema
    etag: str | None
    fetched: bool  # from the server in this call (not from the file)


class SchemaCache:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_directory()

    def path(self, endpoint: str, version: str) -> Path:
        digest = hashlib.sha256(f"{endpoint}\n{version}".encode()).hexdigest()[:32]
        return self.directory / f"openapi-v2-{digest}.json"

    def load(self, source: SchemaSource, version: str) -> Cached:
        """The schema from the file, or from the server (then written) when there is none."""
        path = self.path(source.server_endpoint(), version)
        stored = self._read(path)
        if stored is not None:
            return Cached(Schema.of(stored), stored.get("etag"), fetched=False)
        return self.refresh(source, version, None)

    def refresh(self, source: SchemaSource, version: str, current: Cached | None) -> Cached:
        """Ask the server again (conditionally, with the ETag of `current`)."""
        etag = current.etag if current else None
        body, new_etag = source.openapi_v2(etag)
        if body is None and current is not None:
            return Cached(current.schema, etag, fetched=True)
        try:
            stripped = strip_document(json.loads(body or b"{}"))
        except ValueError as error:
            raise UserError(f"the API server's /openapi/v2 is not JSON: {error}") from None
        self._write(self.path(source.server_endpoint(), version),
                    {"format": FORMAT, "endpoint": source.server_endpoint(), "version": version,
                     "etag": new_etag, **stripped})
        return Cached(Schema.of(stripped), new_etag, fetched=True)

    @staticmethod
    def _read(path: Path) -> dict[str, Any] | None:
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("format") == FORMAT else None

    def _write(self, path: Path, data: dict[str, Any]) -> None:
        """Temp file in the same folder, then rename: a reader sees the old file or the new one.
        A folder that cannot be written only costs the next operation a fetch."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            handle, temp = tempfile.mkstemp(dir=self.directory, prefix=".openapi-", suffix=".tmp")
        except OSError:
            return
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(data, stream, separators=(",", ":"))
            os.replace(temp, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temp)
