"""YAML scalars -> the strings the Engine API takes, as the docker CLI's compose loader makes
them (docker/cli cli/compose/loader/loader.go, toString: Go's fmt.Sprint of the decoded value).

Every map of strings a compose file gives the Engine goes through `string_map`: labels (of
services, deploy, networks, volumes, configs, secrets), driver_opts (of volumes, networks and a
service's networks), sysctls, logging options, environment. docker's schema for each says which
scalars it takes (a string or a number; some also null); anything else is refused here naming
the key, where the Engine would refuse the request (a number where it wants a string) or store
Python's spelling of it (`1.0`, `None`, `True`). Pure: no I/O, no ctx.
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from cloudify_shared.errors import UserError


def go_float(value: float) -> str:
    """A float as Go's fmt.Sprint writes it: the shortest digits that read back the same, in
    %e form (two exponent digits at least) when the exponent is below -4 or 6 and above
    (1.0 -> 1, 1e6 -> 1e+06, 0.00001 -> 1e-05, 123456.0 -> 123456)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    point = len(text) + int(exponent)  # digits before the decimal point
    lead = "-" if sign else ""
    if point - 1 < -4 or point - 1 >= 6:
        mantissa = text[0] + (f".{text[1:]}" if len(text) > 1 else "")
        power = point - 1
        return f"{lead}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"
    if point <= 0:
        return f"{lead}0.{'0' * -point}{text}"
    if point >= len(text):
        return f"{lead}{text}{'0' * (point - len(text))}"
    return f"{lead}{text[:point]}.{text[point:]}"


def go_string(value: Any, path: str, null: bool = False) -> str | None:
    """A string or number as docker sends it (None: None when `null`, else refused)."""
    if value is None:
        if null:
            return None
        raise UserError(f"{path}: must be a string or a number, as docker's compose schema says")
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"{path}: must be a string{', number or null' if null else ' or a number'} "
                        f"(quote it: '{value}'), as docker's compose schema says")
    return str(value) if isinstance(value, int) else go_float(value)


def string_map(value: Any, path: str, *, lists: bool = True, nulls: bool = True,
               null_as: str | None = "") -> dict[str, Any]:
    """A compose mapping of strings (or, when `lists`, a list of NAME=value) as docker's loader
    reads it. A null value (or a NAME without `=` in a list) becomes `null_as` ("" for labels,
    sysctls and options; None for environment, a NAME without a value), or is refused when
    not `nulls` (driver_opts)."""
    if value is None:
        return {}
    if isinstance(value, list) and lists:
        result: dict[str, Any] = {}
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise UserError(f"{path}[{index}]: must be a string NAME=value, as docker's "
                                "compose schema says")
            name, sep, text = item.partition("=")
            result[name] = text if sep else null_as
        return result
    if not isinstance(value, dict):
        raise UserError(f"{path}: expected a mapping{' or a list of NAME=value' if lists else ''}")
    if lists and "" in value:  # docker's schema: a name of one character at least
        raise UserError(f"{path}: a key that is empty, which docker's compose schema refuses")
    return {str(key): (null_as if item is None and nulls
                       else go_string(item, f"{path}.{key}", null=nulls))
            for key, item in value.items()}
