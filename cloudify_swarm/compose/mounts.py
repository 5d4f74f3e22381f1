"""Compose service `volumes` -> Engine API mounts, as the docker CLI converts them: a relative
bind source resolved against the compose file's folder, an absolute one (`~` expanded) kept as
written, a named volume scoped to the stack, an anonymous volume, tmpfs with its size. Pure: no
I/O, no ctx.

A bind source is a path on the Engine's host, which the worker never opens: it is not under the
local-file policy (why: files.py)."""
from __future__ import annotations

import os
from typing import Any

from cloudify_shared.errors import UserError
from cloudify_swarm.compose import keys
from cloudify_swarm.compose.context import ServiceContext
from cloudify_swarm.spec.values import parse_bytes

PROPAGATIONS = {"shared", "rshared", "slave", "rslave", "private", "rprivate"}
IGNORED_MODES = {"rw", "z", "Z", "consistent", "cached", "delegated"}


def is_file_path(source: str) -> bool:
    return source.startswith((".", "/", "~"))


def short_volume(text: str, path: str) -> dict[str, Any]:
    parts = text.split(":")
    if len(parts) == 1:
        return {"type": "volume", "target": parts[0]}
    if len(parts) > 3:
        raise UserError(f"{path}: {text!r} is not SOURCE:TARGET[:MODE]")
    source, target, modes = parts[0], parts[1], (parts[2].split(",") if len(parts) == 3 else [])
    volume: dict[str, Any] = {"type": "bind" if is_file_path(source) else "volume",
                              "source": source, "target": target}
    for mode in modes:
        if mode == "ro":
            volume["read_only"] = True
        elif mode == "nocopy":
            volume["volume"] = {"nocopy": True}
        elif mode in PROPAGATIONS:
            volume["bind"] = {"propagation": mode}
        elif mode not in IGNORED_MODES:
            raise UserError(f"{path}: {text!r}: unknown mode {mode!r}")
    return volume


def bind_source(source: str, c: ServiceContext, path: str) -> str:
    """As docker's loader: a leading `~` replaced by the home folder, an absolute source then
    kept as written (`/var/lib/docker/` keeps its `/`), a relative one joined to the compose
    file's folder (Go's filepath.Join, which cleans the result)."""
    if not source:
        raise UserError(f"{path}.source: a bind mount needs a source")
    expanded = os.path.expanduser("~") + source[1:] if source.startswith("~") else source
    if os.path.isabs(expanded):
        return expanded
    if not c.relative_binds:
        raise UserError(f"{path}: the relative bind source {source!r} would be resolved against "
                        "the compose file's folder, and this compose file is a blueprint resource, "
                        "in no folder of the Engine's host: give compose_file as an absolute path "
                        "on the host, or the source as an absolute path")
    return go_clean(str(c.base / expanded))


def go_clean(path: str) -> str:
    """Go's filepath.Clean of an absolute path: as os.path.normpath, but a leading `//` is one
    `/`."""
    cleaned = os.path.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def volume_mount(mount: dict[str, Any], item: dict[str, Any], c: ServiceContext, path: str) -> None:
    source = item.get("source")
    options: dict[str, Any] = {}
    if (item.get("volume") or {}).get("nocopy"):
        options["NoCopy"] = True
    if source:
        if ("volume", source) not in c.names:
            raise UserError(f"{path}: volume {source!r} is not declared under volumes")
        mount["Source"] = c.names[("volume", source)]
        declared = c.volumes[source]
        if not declared.get("external"):
            options["Labels"] = dict(declared.get("labels") or {})
            if declared.get("driver") or declared.get("driver_opts"):
                driver_opts = declared.get("driver_opts")
                options["DriverConfig"] = {"Name": declared.get("driver") or "",
                                           **({"Options": driver_opts} if driver_opts else {})}
    if source or options:
        mount["VolumeOptions"] = options


def mount(item: Any, c: ServiceContext, path: str) -> dict[str, Any]:
    item = short_volume(item, path) if isinstance(item, str) else item
    if not isinstance(item, dict):
        raise UserError(f"{path}: expected SOURCE:TARGET[:MODE] or a mapping")
    keys.check_keys(item, keys.MOUNT_KEYS, path)
    kind = item.get("type", "volume")
    if kind not in ("bind", "volume", "tmpfs", "npipe"):
        raise UserError(f"{path}.type: {kind!r} is not bind, volume, tmpfs or npipe")
    if not item.get("target"):
        raise UserError(f"{path}.target: required")
    result: dict[str, Any] = {"Type": kind, "Target": item["target"]}
    if item.get("read_only"):
        result["ReadOnly"] = True
    if kind == "bind":
        result["Source"] = bind_source(str(item.get("source") or ""), c, path)
        if (item.get("bind") or {}).get("propagation"):
            result["BindOptions"] = {"Propagation": item["bind"]["propagation"]}
    elif kind == "volume":
        volume_mount(result, item, c, path)
    elif kind == "tmpfs":
        tmpfs_mount(result, item, path)
    return result


def tmpfs_mount(mount: dict[str, Any], item: dict[str, Any], path: str) -> None:
    if item.get("source"):
        raise UserError(f"{path}.source: a tmpfs mount takes no source")
    size = (item.get("tmpfs") or {}).get("size")
    if size is not None:
        mount["TmpfsOptions"] = {"SizeBytes": parse_bytes(size, f"{path}.tmpfs.size")}


def parse_mounts(value: Any, c: ServiceContext, path: str) -> list[dict[str, Any]]:
    return [mount(item, c, f"{path}[{i}]") for i, item in enumerate(value or [])]
