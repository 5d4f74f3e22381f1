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
                warn: Callable[[str], None], used: set[str] | None = None) -> Any:
    """Every string value in `data` (mappings and lists, recursively) interpolated; `used`
    collects the names of the variables whose values were substituted."""
    if isinstance(data, str):
        return substitute(data, variables, path, warn, used)
    if isinstance(data, dict):
        return {key: interpolate(value, variables, f"{path}.{key}", warn, used) for key, value in data.items()}
    if isinstance(data, list):
        return [interpolate(value, variables, f"{path}[{i}]", warn, used) for i, value in enumerate(data)]
    return data


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
        if strip_quotes and value is not None and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        found[match.group(1)] = value
    return found


def dotenv_variables(text: str | None, where: str = ".env") -> dict[str, str]:
    """The variables of the `.env` beside the compose file (docker compose's rule, read by
    compose_files.ComposeFiles.dotenv_text), {} when there is none."""
    if text is None:
        return {}
    return {k: v for k, v in parse_env_lines(text, where).items() if v is not None}
