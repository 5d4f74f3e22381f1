"""An import resolver for offline runs (the `cfy` local profile and cloudify.workflows.local).

It rewrites two kinds of import and leaves every other import to Cloudify's default resolver:
- the official types URL (`http://cloudify.co/spec/cloudify/<version>/types.yaml`) -> a local file,
  by default the minimal types shipped beside this module;
- catalog plugin imports (`plugin:NAME` or `plugin:NAME?version=...`) -> a local plugin.yaml.

Configure it in `$CFY_WORKDIR/.cloudify/config.yaml` (see scripts/cfy-offline) or pass an instance
to `cloudify.workflows.local.init_env(resolver=...)`. No I/O beyond reading the mapped files.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dsl_parser.import_resolver.default_import_resolver import DefaultImportResolver

MINIMAL_TYPES = Path(__file__).with_name("types.yaml")
OFFICIAL_TYPES_PREFIX = "http://cloudify.co/spec/cloudify/"
PLUGIN_PREFIX = "plugin:"


def file_url(path: str | os.PathLike[str]) -> str:
    return "file:" + str(Path(path).resolve())


class OfflineImportResolver(DefaultImportResolver):
    """Resolve official types and `plugin:` imports from local files."""

    def __init__(
        self,
        types_file: str | None = None,
        plugins: dict[str, str] | None = None,
        rules: list[dict[str, str]] | None = None,
        fallback: bool = True,
    ) -> None:
        self.types_file = Path(types_file) if types_file else MINIMAL_TYPES
        self.plugins = {name: Path(path) for name, path in (plugins or {}).items()}
        super().__init__(rules=list(rules or []), fallback=fallback)

    def _local_path(self, import_url: str) -> Path | None:
        if import_url.startswith(OFFICIAL_TYPES_PREFIX) and import_url.endswith("types.yaml"):
            return self.types_file
        if import_url.startswith(PLUGIN_PREFIX):
            name = import_url[len(PLUGIN_PREFIX):].split("?", 1)[0]
            if name not in self.plugins:
                known = ", ".join(sorted(self.plugins)) or "none"
                raise ValueError(
                    f"import {import_url!r}: no local plugin.yaml is configured for {name!r} "
                    f"(configured: {known})"
                )
            return self.plugins[name]
        return None

    def fetch_import(self, import_url: str, **kwargs: Any) -> Any:
        path = self._local_path(import_url)
        if path is not None:
            return path.read_text()
        return super().fetch_import(import_url, **kwargs)

    def resolve(self, import_url: str) -> Any:
        path = self._local_path(import_url)
        if path is not None:
            return path.read_text()
        return super().resolve(import_url)

    def retrieve_plugin(self, import_url: str, **kwargs: Any) -> None:
        # Plugin metadata (labels, tags) comes from a manager's database; offline there is none.
        return None
