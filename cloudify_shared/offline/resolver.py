"""An import resolver for offline runs (the `cfy` local profile and cloudify.workflows.local).

It rewrites two kinds of import and leaves every other import to Cloudify's default resolver:
- the official types URL (`http://cloudify.co/spec/cloudify/<version>/types.yaml`, and its
  `types_1_3.yaml` / `types_1_4.yaml` forms) and the short form `cloudify/types/types.yaml` (which
  the parser tries as `types_<dsl version>.yaml` first, as on a manager) -> the same-named local
  file, by default the minimal types shipped beside this module;
- catalog plugin imports (`plugin:NAME` or `plugin:NAME?version=...`) -> a local plugin.yaml, or
  its `plugin_1_4.yaml` / `plugin_1_5.yaml` sibling, chosen by the blueprint's DSL version by the
  manager's own rule.

Configure it in `$CFY_WORKDIR/.cloudify/config.yaml` (see scripts/cfy-offline) or pass an instance
to `cloudify.workflows.local.init_env(resolver=...)`. No I/O beyond reading the mapped files.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from dsl_parser.import_resolver.default_import_resolver import DefaultImportResolver

MINIMAL_TYPES = Path(__file__).with_name("types.yaml")
OFFICIAL_TYPES_PREFIX = "http://cloudify.co/spec/cloudify/"
PLUGIN_PREFIX = "plugin:"
# types.yaml, types_1_3.yaml, types_1_4.yaml: under the official URL, or Cloudify 7's short form
# `cloudify/types/types.yaml` (which the parser also tries as `..._<dsl version>.yaml` first)
TYPES_NAME = re.compile(r"^types(_\d_\d+)?\.yaml$")
SHORT_TYPES = re.compile(r"^(resource:)?cloudify/types/(?P<name>types(_\d_\d+)?\.yaml)$")
VERSIONED_YAML = re.compile(r"_(\d_\d+)\.yaml$")


def file_url(path: str | os.PathLike[str]) -> str:
    return "file:" + str(Path(path).resolve())


def plugin_yaml_for(plugin_yaml: Path, dsl_version: str | None) -> Path:
    """The yaml a manager would pick among `plugin_yaml` and its `<stem>_<d>_<d>.yaml` siblings
    for a blueprint of `dsl_version` ("1_3"): the exact version, else the newest older one, else
    the unversioned file (manager_rest.storage.resource_models.Plugin.yaml_file_path)."""
    versioned = {}
    for sibling in plugin_yaml.parent.glob(f"{plugin_yaml.stem}_*.yaml"):
        match = VERSIONED_YAML.search(sibling.name)
        if match:
            versioned[match.group(1)] = sibling
    if dsl_version in versioned:
        return versioned[dsl_version]
    older = {v: path for v, path in versioned.items() if dsl_version and v <= dsl_version}
    return older[max(older)] if older else plugin_yaml


class OfflineImportResolver(DefaultImportResolver):  # type: ignore[misc]  # dsl_parser: untyped
    """Resolve official types and `plugin:` imports from local files."""

    def __init__(
        self,
        types_file: str | None = None,
        plugins: dict[str, str] | None = None,
        rules: list[dict[str, str]] | None = None,
        fallback: bool = True,
    ) -> None:
        # types_file is the newest version's file; its per-version siblings (types_1_3.yaml,
        # types_1_4.yaml) sit beside it, as they do in the official tree
        self.types_file = Path(types_file) if types_file else MINIMAL_TYPES
        self.plugins = {name: Path(path) for name, path in (plugins or {}).items()}
        super().__init__(rules=list(rules or []), fallback=fallback)

    def _types_path(self, import_url: str, dsl_version: str | None = None) -> Path | None:
        name = None
        if import_url.startswith(OFFICIAL_TYPES_PREFIX):
            name = import_url.rsplit("/", 1)[-1]
            name = name if TYPES_NAME.match(name) else None
            if name == "types.yaml" and dsl_version in ("1_3", "1_4"):
                # a manager refuses this too (the official types.yaml uses 1.5 features)
                raise ValueError(
                    f"import {import_url!r}: types.yaml is for cloudify_dsl_1_5 blueprints; a "
                    f"cloudify_dsl_{dsl_version} blueprint imports types_{dsl_version}.yaml from "
                    f"the same place, or the short form cloudify/types/types.yaml (every version)")
        elif (short := SHORT_TYPES.match(import_url)) is not None:
            name = short.group("name")
        if name is None:
            return None
        path = self.types_file.with_name(name) if name != "types.yaml" else self.types_file
        if not path.exists():
            raise ValueError(f"import {import_url!r}: no local {name} beside {self.types_file}")
        return path

    def _local_path(self, import_url: str, dsl_version: str | None = None) -> Path | None:
        types = self._types_path(import_url, dsl_version)
        if types is not None:
            return types
        if import_url.startswith(PLUGIN_PREFIX):
            name = import_url[len(PLUGIN_PREFIX):].split("?", 1)[0]
            if name not in self.plugins:
                known = ", ".join(sorted(self.plugins)) or "none"
                raise ValueError(
                    f"import {import_url!r}: no local plugin.yaml is configured for {name!r} "
                    f"(configured: {known})"
                )
            return plugin_yaml_for(self.plugins[name], dsl_version)
        return None

    def fetch_import(self, import_url: str, **kwargs: Any) -> Any:
        path = self._local_path(import_url, kwargs.get("dsl_version"))
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
