"""Drift between the service spec the properties ask for and the one the engine runs.
Pure: no I/O, no ctx.

`spec_drift(desired, live)` returns {field path: what differs}, empty when they agree. Only what
we set is compared (the engine fills in defaults), except the container's env, labels, command
and args, where an entry added out of band is drift too. Values are shown for plain settings
(replicas, image, ports); env values, label values (service and container), the command and its
arguments, secret and config contents never (issue 24: any of them may carry a secret): the
field is named and said to differ, be missing or be unexpected.
"""
from __future__ import annotations

from typing import Any

CONTAINER = ("TaskTemplate", "ContainerSpec")
MASKED_LISTS = {"Env"}          # NAME=value entries: the name is shown, never the value
MASKED_MAPS = {"Labels"}        # name: value mappings: the name is shown, never the value
MASKED_WHOLE = {"Command", "Args"}  # compared whole, never shown
EXACT = {"Command", "Args", "Secrets", "Configs", "Mounts"}  # lists compared whole
NOT_SHOWN = "(value not shown)"


def env_map(entries: Any) -> dict[str, str]:
    found = {}
    for entry in entries or []:
        name, _, value = str(entry).partition("=")
        found[name] = value
    return found


def _image(value: Any) -> Any:
    """The engine may pin the image to a digest (name:tag@sha256:...)."""
    return value.split("@", 1)[0] if isinstance(value, str) else value


def _env_drift(path: str, desired: Any, live: Any) -> dict[str, str]:
    return masked_drift(path, env_map(desired), env_map(live))


def masked_drift(path: str, want: dict[str, Any], have: dict[str, Any]) -> dict[str, str]:
    """Entries by name: missing, unexpected or different, no value shown."""
    found = {}
    for name in sorted(want.keys() | have.keys()):
        if name not in have:
            found[f"{path}.{name}"] = "missing"
        elif name not in want:
            found[f"{path}.{name}"] = "set, not in the desired spec (value not shown)"
        elif want[name] != have[name]:
            found[f"{path}.{name}"] = "differs (value not shown)"
    return found


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {}


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _walk(path: str, desired: Any, live: Any, found: dict[str, str]) -> None:
    key = path.rsplit(".", 1)[-1]
    if key in MASKED_LISTS:
        found.update(_env_drift(path, desired, live))
    elif key in MASKED_MAPS:
        found.update(masked_drift(path, desired if isinstance(desired, dict) else {},
                                  live if isinstance(live, dict) else {}))
    elif key in MASKED_WHOLE:
        if desired != live and not (_empty(desired) and _empty(live)):
            found[path] = f"differs {NOT_SHOWN}"
    elif isinstance(desired, dict) and key not in EXACT:
        live_dict = live if isinstance(live, dict) else {}
        for name, value in desired.items():
            _walk(f"{path}.{name}" if path else name, value, live_dict.get(name), found)
    elif key == "Image":
        if _image(desired) != _image(live):
            found[path] = f"desired {_show(desired)}, live {_show(_image(live))}"
    elif desired != live and not (_empty(desired) and _empty(live)):
        found[path] = f"desired {_show(desired)}, live {_show(live)}"


def spec_drift(desired: dict[str, Any], live: dict[str, Any],
               network_ids: dict[str, str] | None = None) -> dict[str, str]:
    """`network_ids`: network name -> id (the engine stores a task's network targets by id)."""
    found: dict[str, str] = {}
    networks = (desired.get("TaskTemplate") or {}).get("Networks")
    if networks and network_ids:
        desired = {**desired, "TaskTemplate": {**desired["TaskTemplate"], "Networks": [
            {**n, "Target": network_ids.get(n["Target"], n["Target"])} for n in networks]}}
    _walk("", desired, live, found)
    container_live = ((live.get("TaskTemplate") or {}).get("ContainerSpec") or {})
    container_want = ((desired.get("TaskTemplate") or {}).get("ContainerSpec") or {})
    for key in ("Env", "Command", "Args"):
        if key not in container_want and container_live.get(key):
            path = ".".join((*CONTAINER, key))
            found.update(_env_drift(path, [], container_live[key]) if key == "Env"
                         else {path: f"set, not in the desired spec {NOT_SHOWN}"})
    return found


def keep_live_env(desired: dict[str, Any], live: dict[str, Any] | None,
                  names: list[str]) -> dict[str, Any]:
    """`desired` with the live values of env `names` (given at start as an operation input, so
    not in the properties; their values are kept as they run)."""
    if not live or not names:
        return desired
    have = env_map(live["TaskTemplate"]["ContainerSpec"].get("Env"))
    container = dict(desired["TaskTemplate"]["ContainerSpec"])
    env = env_map(container.get("Env"))
    env.update({n: have[n] for n in names if n in have})
    container["Env"] = [f"{k}={v}" for k, v in sorted(env.items())]
    return {**desired, "TaskTemplate": {**desired["TaskTemplate"], "ContainerSpec": container}}
