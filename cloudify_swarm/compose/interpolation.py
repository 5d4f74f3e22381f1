"""Compose variable interpolation, with the docker CLI's rules (cli/compose/template).

Pure: no I/O, no ctx. `$$` is a literal `$`; `$VAR` and `${VAR}` take the
variable (unset: an empty string, with a warning, as docker does); `${VAR:-x}` / `${VAR-x}` take x
when VAR is unset or empty / unset; `${VAR:?err}` / `${VAR?err}` fail with err when VAR is unset
or empty / unset. A default is not interpolated again, and it ends at the first `}`, as docker's
pattern does. Anything else after a `$` (`$1`, `$ `, a trailing `$`, `${VAR:+x}`) is refused,
as docker refuses it. Only values are interpolated, never keys.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from cloudify_shared.errors import UserError

_SUBSTITUTION = r"[_a-z][_a-z0-9]*(?::?[-?][^}]*)?"
_PATTERN = re.compile(
    rf"\$(?i:(?P<escaped>\$)|(?P<named>{_SUBSTITUTION})|{{(?P<braced>{_SUBSTITUTION})}}|(?P<invalid>))")
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([^=\s]+)\s*(?:=(.*))?$")


def substitute(text: str, variables: Mapping[str, str], path: str,
               warn: Callable[[str], None], used: set[str] | None = None) -> str:
    """One string, interpolated; a UserError names `path` for a bad `$` or a required variable
    (never a variable's value). `used` collects the names whose value went into the result."""
    def replace(match: re.Match[str]) -> str:
        if match.group("escaped") is not None:
            return "$"
        expression = match.group("named") or match.group("braced")
        if expression is None:
            raise UserError(f"{path}: invalid interpolation format in {text!r}; "
                            "you may need to escape any $ with another $")
        return expand(expression, variables, path, warn, used)
    return _PATTERN.sub(replace, text)


def expand(expression: str, variables: Mapping[str, str], path: str,
           warn: Callable[[str], None], used: set[str] | None = None) -> str:
    name = re.match(r"[_a-zA-Z][_a-zA-Z0-9]*", expression).group(0)  # type: ignore[union-attr]
    operator, argument = expression[len(name):len(name) + 2], ""
    if operator in (":-", ":?"):
        argument = expression[len(name) + 2:]
    elif operator[:1] in ("-", "?"):
        operator, argument = operator[:1], expression[len(name) + 1:]
    value = variables.get(name)
    missing = value is None or (operator.startswith(":") and value == "")
    if operator in (":?", "?") and missing:
        raise UserError(f"{path}: required variable {name} is missing a value: {argument}")
    if operator in (":-", "-") and missing:
        return argument
    if value is None:
        warn(f"{path}: the variable {name} is not set, substituting an empty string")
        return ""
    if used is not None:
        used.add(name)
    return value


def interpolate(data: Any, variables: Mapping[str, str], path: str,
                warn: Callable[[str], None], used: set[str] | None = None,
                parts: tuple[str, ...] = ()) -> Any:
    """Every string value in `data` (mappings and lists, recursively) interpolated; `used`
    collects the names of the variables whose values were substituted. A value that a
    substitution changed, at a key docker casts (`parts`: the keys from the top, `[]` for a list
    item), becomes the type docker's loader makes of it (cast_interpolated)."""
    if isinstance(data, str):
        result = substitute(data, variables, path, warn, used)
        return cast_interpolated(result, parts, path, data) if result != data else result
    if isinstance(data, dict):
        return {key: interpolate(value, variables, f"{path}.{key}", warn, used, (*parts, str(key)))
                for key, value in data.items()}
    if isinstance(data, list):
        return [interpolate(value, variables, f"{path}[{i}]", warn, used, (*parts, "[]"))
                for i, value in enumerate(data)]
    return data


# docker/cli cli/compose/loader/interpolate.go, interpolateTypeCastMapping (v28): `*` any key,
# `[]` any list item; services.* is implied for the rows that start with a service key
_BOOLEAN, _INTEGER, _FLOAT = "boolean", "integer", "number"
_SERVICE_CASTS = {
    ("configs", "[]", "mode"): _INTEGER, ("secrets", "[]", "mode"): _INTEGER,
    ("healthcheck", "retries"): _INTEGER, ("healthcheck", "disable"): _BOOLEAN,
    ("deploy", "replicas"): _INTEGER, ("deploy", "update_config", "parallelism"): _INTEGER,
    ("deploy", "update_config", "max_failure_ratio"): _FLOAT,
    ("deploy", "rollback_config", "parallelism"): _INTEGER,
    ("deploy", "rollback_config", "max_failure_ratio"): _FLOAT,
    ("deploy", "restart_policy", "max_attempts"): _INTEGER,
    ("deploy", "placement", "max_replicas_per_node"): _INTEGER,
    ("ports", "[]", "target"): _INTEGER, ("ports", "[]", "published"): _INTEGER,
    ("ulimits", "*"): _INTEGER, ("ulimits", "*", "hard"): _INTEGER,
    ("ulimits", "*", "soft"): _INTEGER,
    ("privileged",): _BOOLEAN, ("oom_score_adj",): _INTEGER, ("read_only",): _BOOLEAN,
    ("stdin_open",): _BOOLEAN, ("tty",): _BOOLEAN, ("volumes", "[]", "read_only"): _BOOLEAN,
    ("volumes", "[]", "volume", "nocopy"): _BOOLEAN,
}
_CASTS: dict[tuple[str, ...], str] = {
    **{("services", "*", *k): v for k, v in _SERVICE_CASTS.items()},
    **{(kind, "*", key): _BOOLEAN for kind, key in (
        ("networks", "external"), ("networks", "internal"), ("networks", "attachable"),
        ("volumes", "external"), ("secrets", "external"), ("configs", "external"))}}
_BOOLEANS = {"y": True, "yes": True, "true": True, "on": True,
             "n": False, "no": False, "false": False, "off": False}
_GO_FLOAT = re.compile(r"[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|inf|infinity|nan)", re.I)


def _cast_kind(parts: tuple[str, ...]) -> str | None:
    for pattern, kind in _CASTS.items():
        if len(pattern) == len(parts) and all(p in ("*", part) if p != "[]" else part == "[]"
                                              for p, part in zip(pattern, parts, strict=True)):
            return kind
    return None


def cast_interpolated(value: str, parts: tuple[str, ...], path: str, written: str) -> Any:
    """An interpolated string at a key docker casts, as its loader casts it: a boolean from
    y/yes/true/on or n/no/false/off (any case), an integer as Go's strconv.Atoi reads it
    (decimal: a mode of "0440" is 440), a number as strconv.ParseFloat. The refusal quotes the
    text `written` in the file, never the value (it may come from a secret)."""
    kind = _cast_kind(parts)
    if kind is None:
        return value
    if kind == _BOOLEAN and value.lower() in _BOOLEANS:
        return _BOOLEANS[value.lower()]
    if kind == _INTEGER and re.fullmatch(r"[+-]?[0-9]+", value) and abs(int(value)) < 2 ** 63:
        return int(value)
    if kind == _FLOAT and _GO_FLOAT.fullmatch(value):
        return float(value)
    choices = " (y, yes, true, on, n, no, false, off)" if kind == _BOOLEAN else ""
    raise UserError(f"{path}: {written!r} is not {'an' if kind == _INTEGER else 'a'} {kind} once "
                    f"interpolated{choices}, which docker's loader refuses") from None


def hide_values(message: str, variables: Mapping[str, str]) -> str:
    """`message` with the value of each of `variables` written as `${NAME}` instead: an error
    about an interpolated value names the variable, never its value (a value may come from
    get_secret). Values shorter than 4 characters are left (too short to be a secret, as the
    redaction registry holds, and they would match inside unrelated words)."""
    for name, value in sorted(variables.items(), key=lambda item: len(item[1]), reverse=True):
        if len(value) >= 4:
            message = message.replace(value, "${" + name + "}")
    return message


def parse_env_lines(text: str, path: str, strip_quotes: bool = True) -> dict[str, str | None]:
    """KEY=value lines (comments, blank lines and `export ` skipped; with strip_quotes, as for
    `.env`, a value in matching quotes loses them; an env_file keeps them, as docker does); a
    bare KEY maps to None (to be looked up)."""
    found: dict[str, str | None] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if not match:
            raise UserError(f"{path}:{number}: {line!r} is not KEY=value")
        value = match.group(2)
        if (strip_quotes and value is not None and len(value) >= 2
                and value[0] == value[-1] and value[0] in "'\""):
            value = value[1:-1]
        found[match.group(1)] = value
    return found


def dotenv_variables(text: str | None, where: str = ".env") -> dict[str, str]:
    """The variables of the `.env` beside the compose file (docker compose's rule, read by
    compose_files.ComposeFiles.dotenv_text), {} when there is none."""
    if text is None:
        return {}
    return {k: v for k, v in parse_env_lines(text, where).items() if v is not None}
