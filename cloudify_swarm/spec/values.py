"""The value rules every property parser of the spec shares: sizes, seconds as the Engine's
nanoseconds, lists of strings, service names, and the root properties no parser reads. Pure."""
from __future__ import annotations

import re
from typing import Any

from cloudify_shared.errors import UserError

# the properties a node inherits from cloudify.nodes.Root (Cloudify's types.yaml): not settings
# of the service, so no parser reads them
ROOT_PROPERTIES = ("use_external_resource", "resource_id")
NANO = 1_000_000_000
_BYTES = re.compile(r"^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
# A Swarm service name: 1-63 characters, letters, digits, '-' and '_', a letter or digit at both
# ends. Linear time (issue 24): the length is checked before the pattern, and the pattern has
# one starred class followed by one character, so a failed match backtracks at most once per
# character (the earlier `(?:[-_]*[A-Za-z0-9]+)*` took exponential time on 40 characters).
MAX_SERVICE_NAME = 63
SERVICE_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?")


def valid_service_name(name: str) -> bool:
    return 0 < len(name) <= MAX_SERVICE_NAME and SERVICE_NAME.fullmatch(name) is not None


def parse_bytes(value: Any, path: str) -> int:
    """64M, 1.5g, 1048576 -> bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _BYTES.match(str(value).strip())
    if not match:
        raise UserError(f"{path}: {value!r} is not a size (e.g. 67108864, 64M, 1G)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def nanos(value: float) -> int:
    return int(value * NANO)


def property_str_list(value: Any, path: str) -> list[str]:
    """A property's string or list of strings (the plugin yaml's type already said which); an
    item that is not a string is named. A compose file's lists follow docker's schema instead:
    compose.values.compose_str_list."""
    items = [value] if isinstance(value, str) else value
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise UserError(f"{path}[{index}]: expected a string, got {item!r}")
    return list(items)
