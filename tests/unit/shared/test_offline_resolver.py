from __future__ import annotations

from pathlib import Path

import pytest

from cloudify_shared.offline.resolver import MINIMAL_TYPES, OfflineImportResolver


def test_official_types_url_maps_to_minimal_types() -> None:
    resolver = OfflineImportResolver()
    text = resolver.fetch_import("http://cloudify.co/spec/cloudify/7.0.0/types.yaml")
    assert text == MINIMAL_TYPES.read_text()


def test_plugin_import_maps_to_configured_file(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin.yaml"
    plugin.write_text("plugins: {}\n")
    resolver = OfflineImportResolver(plugins={"cloudify-vnf-suite": str(plugin)})
    assert resolver.fetch_import("plugin:cloudify-vnf-suite?version=0.1.0") == "plugins: {}\n"


def test_unknown_plugin_import_is_named() -> None:
    with pytest.raises(ValueError, match="no local plugin.yaml is configured for 'other'"):
        OfflineImportResolver().fetch_import("plugin:other")
