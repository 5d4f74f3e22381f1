"""YAML scalars resolved as the Go tools that read our users' files resolve them, not as
PyYAML's YAML 1.1 does. Two readers matter:

- gopkg.in/yaml.v3 v3.0.1, the docker CLI's compose loader since docker 28 (docker/cli
  vendor/gopkg.in/yaml.v3 resolve.go, decode.go): booleans are only true/false in three
  spellings (`yes`, `on`, `y` are strings); a timestamp is a Go time.Time;
- yaml.v2 (gopkg.in/yaml.v2 v2.4, go.yaml.in/yaml/v2) behind sigs.k8s.io/yaml, which kubectl,
  client-go (kubeconfig) and helm (values, repository indexes) read YAML with, then turn into
  JSON: `y`/`n`/`yes`/`no`/`on`/`off` are booleans too; a timestamp stays the string written;
  mapping keys become strings (true -> "true", 1 -> "1"; a null key is refused); a float is
  written by Go's JSON encoder (1.0 -> 1).
Both: no base-60 numbers (`12:30` is a string; PyYAML made 750), integers as Go's
strconv.ParseInt base 0 after dropping `_` (`0o17` is 15, `089` falls through to the float 89),
floats by yaml's pattern (`1e3` is 1000; PyYAML wants a dot and a signed exponent), `=` a string.
Each was checked against the real tools (docker stack deploy 28.2.2, kubectl 1.20 and its
server's dry run). Pure: no I/O.
"""
from __future__ import annotations

import datetime
import math
import re
import struct
from typing import Any

import yaml

from cloudify_shared.errors import UserError

_TAG = "tag:yaml.org,2002:"
STR, BOOL, NULL, INT, FLOAT, TIMESTAMP, MERGE = (_TAG + name for name in (
    "str", "bool", "null", "int", "float", "timestamp", "merge"))
_V3_WORDS: dict[str, tuple[str, Any]] = {
    **{w: (BOOL, True) for w in ("true", "True", "TRUE")},
    **{w: (BOOL, False) for w in ("false", "False", "FALSE")},
    **{w: (NULL, None) for w in ("", "~", "null", "Null", "NULL")},
    **{w: (FLOAT, math.nan) for w in (".nan", ".NaN", ".NAN")},
    **{w: (FLOAT, math.inf) for w in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
    **{w: (FLOAT, -math.inf) for w in ("-.inf", "-.Inf", "-.INF")},
    "<<": (MERGE, "<<"),
}
_V2_WORDS = {
    **_V3_WORDS,
    **{w: (BOOL, True) for w in ("y", "Y", "yes", "Yes", "YES", "on", "On", "ON")},
    **{w: (BOOL, False) for w in ("n", "N", "no", "No", "NO", "off", "Off", "OFF")},
}
_GO_INT = re.compile(r"([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")
# yaml's allowed timestamp layouts: 2006-1-2T15:4:5.999999999Z07:00 (T or t),
# "2006-1-2 15:4:5.999999999" (UTC) and 2006-1-2
_TIMESTAMP = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:([Tt])| )(\d{1,2}):(\d{1,2}):(\d{1,2})"
                        r"(?:[.,](\d+))?(Z|[+-]\d\d:\d\d)?)?")
_INT64, _UINT64 = 2 ** 63, 2 ** 64


def go_int(plain: str) -> int | None:
    """strconv.ParseInt(plain, 0, 64), else ParseUint (no sign); None when neither takes it."""
    match = _GO_INT.fullmatch(plain)
    if not match:
        return None
    sign, body = match.groups()
    base = {"0x": 16, "0o": 8, "0b": 2}.get(body[:2].lower())
    value = int(body[2:], base) if base else int(body, 8 if body.startswith("0") else 10)
    value = -value if sign == "-" else value
    if -_INT64 <= value < _INT64 or (not sign and value < _UINT64):
        return value
    return None


def _go_float(text: str, pattern: re.Pattern[str]) -> float | None:
    if not pattern.fullmatch(text):
        return None
    value = float(text)
    return None if math.isinf(value) else value  # Go's ParseFloat: ErrRange


def go_time_string(text: str) -> str | None:
    """A timestamp as Go's time.Time.String() writes it (the docker CLI's zone is UTC here: an
    offset of 00:00 is UTC, another a fixed zone named by its offset); None if not one."""
    match = _TIMESTAMP.fullmatch(text)
    if not match:
        return None
    year, month, day, t, hour, minute, second, fraction, zone = match.groups()
    if hour is not None and (t is None) != (zone is None):
        return None  # the T form needs a zone, the space form has none
    try:
        stamp = datetime.datetime(int(year), int(month), int(day), int(hour or 0),
                                  int(minute or 0), int(second or 0))
    except ValueError:
        return None
    digits = (fraction or "")[:9].ljust(9, "0").rstrip("0")
    offset = "+0000 UTC" if zone in (None, "Z", "+00:00", "-00:00") else \
        f"{zone[0]}{zone[1:3]}{zone[4:6]} {zone[0]}{zone[1:3]}{zone[4:6]}"
    return f"{stamp:%Y-%m-%d %H:%M:%S}{'.' + digits if digits else ''} {offset}"


def resolve(text: str, v2: bool) -> tuple[str, Any]:
    """(tag, value) of a plain scalar as yaml.v3's (v2: yaml.v2's) resolve() makes it; a
    timestamp's value is Go's string of it (v3) or the text (v2)."""
    words = _V2_WORDS if v2 else _V3_WORDS
    if text in words:
        return words[text]
    hint = text[:1]
    if hint == ".":
        value = _go_float(text, _DOT_FLOAT)
        return (FLOAT, value) if value is not None else (STR, text)
    if not hint or hint not in "+-0123456789":
        return STR, text
    stamp = go_time_string(text)
    if stamp is not None:
        return (STR, text) if v2 else (TIMESTAMP, stamp)
    plain = text.replace("_", "")
    number = go_int(plain)
    if number is not None:
        return INT, number
    real = _go_float(plain, _YAML_FLOAT)
    return (FLOAT, real) if real is not None else (STR, text)


class _GoLoader(yaml.SafeLoader):
    V2 = False

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return resolve(value, self.V2)[0]
        return str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]

    def construct_go_scalar(self, node: yaml.ScalarNode) -> Any:
        text = self.construct_scalar(node)
        found, value = resolve(text, self.V2)
        if found != node.tag and not (node.tag == FLOAT and found == INT):
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot decode {text!r} as {node.tag[len(_TAG):]}", node.start_mark)
        return float(value) if node.tag == FLOAT else value


class YamlV3Loader(_GoLoader):
    """As the docker CLI's compose loader reads a file (gopkg.in/yaml.v3 into `any`)."""


class SigsYamlLoader(_GoLoader):
    """As sigs.k8s.io/yaml reads a file (yaml.v2 into interface{}, then JSON): kubectl,
    client-go, helm."""

    V2 = True

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        mapping: dict[str, Any] = {}
        # (construct_object: unannotated in the yaml stubs, and mypy names it as ours here)
        for key_node, value_node in node.value:
            key = self.construct_go_scalar(key_node) if key_node.tag == FLOAT and \
                isinstance(key_node, yaml.ScalarNode) else \
                self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            value = self.construct_object(value_node, deep=deep)  # type: ignore[no-untyped-call]
            mapping[json_key(key, key_node)] = value
        return mapping

    def construct_sigs_float(self, node: yaml.ScalarNode) -> Any:
        """Go's JSON encoder writes a float64 that is a whole number below 1e21 without a
        fraction (1.0 -> 1, 1e3 -> 1000): an int here, so the API server reads what kubectl sent."""
        value = self.construct_go_scalar(node)
        return (int(value) if math.isfinite(value) and value == int(value) and abs(value) < 1e21
                else value)


def json_key(key: Any, node: yaml.Node) -> str:
    """A mapping key as sigs.k8s.io/yaml makes it a JSON key."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return _float32_text(key)
    raise yaml.constructor.ConstructorError(
        None, None, f"unsupported map key of type {type(key).__name__}: {key!r}", node.start_mark)


def _float32_text(value: float) -> str:
    """strconv.FormatFloat(value, 'g', -1, 32), with yaml's spellings of inf and nan."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    single = struct.unpack("f", struct.pack("f", value))[0]
    for digits in range(1, 10):
        text = f"{single:.{digits - 1}e}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            break
    mantissa, exponent = text.split("e")
    power, sign = int(exponent), "-" if mantissa.startswith("-") else ""
    figures = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    if power < -4 or power >= 6:  # 'g' with the shortest digits decides at precision 6
        rest = f".{figures[1:]}" if figures[1:] else ""
        return f"{sign}{figures[0]}{rest}e{'-' if power < 0 else '+'}{abs(power):02d}"
    point = power + 1
    if point <= 0:
        return f"{sign}0.{'0' * -point}{figures}"
    if point >= len(figures):
        return f"{sign}{figures}{'0' * (point - len(figures))}"
    return f"{sign}{figures[:point]}.{figures[point:]}"


for _loader in (YamlV3Loader, SigsYamlLoader):
    for _tag in (BOOL, NULL, INT, FLOAT, TIMESTAMP):
        _loader.add_constructor(_tag, _GoLoader.construct_go_scalar)
SigsYamlLoader.add_constructor(FLOAT, SigsYamlLoader.construct_sigs_float)


def refuse_keys_docker_refuses(root: yaml.Node, where: str) -> None:
    """A mapping key given twice (same text) or one that is not a string, anywhere in the
    file: gopkg.in/yaml.v3 refuses the first, docker's schema check the second."""
    seen: set[int] = set()
    pending: list[tuple[yaml.Node, str]] = [(root, "")]
    while pending:
        node, path = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            pending.extend((item, f"{path}[{i}]") for i, item in enumerate(node.value))
        if not isinstance(node, yaml.MappingNode):
            continue
        first: dict[str, int] = {}
        for key, value in node.value:
            text = key.value if isinstance(key, yaml.ScalarNode) else "?"
            here = f"{path}.{text}" if path else text
            if key.tag not in (STR, MERGE):
                raise UserError(f"{where}.{here}: a mapping key that is not a string (a YAML "
                                f"{key.tag.rsplit(':', 1)[-1]}); docker's compose loader refuses "
                                "the file: quote it")
            line = key.start_mark.line + 1
            if text in first:
                raise UserError(f"{where}.{here}: the key is given twice (lines {first[text]} and "
                                f"{line}); docker's compose loader refuses the file")
            first[text] = line
            pending.append((value, here))


class SigsYamlDumper(yaml.SafeDumper):
    """PyYAML's safe dumper that quotes every string yaml.v2 would read as something else
    (`y`, `n`, `0o17`, `1e3`: PyYAML writes them plain, and helm read "y" as true)."""

    def represent_str(self, data: str) -> yaml.ScalarNode:
        node = super().represent_str(data)
        if node.style is None and resolve(data, v2=True)[0] != STR:
            node.style = "'"
        return node


SigsYamlDumper.add_representer(str, SigsYamlDumper.represent_str)


def dump_for_sigs(data: Any) -> str:
    """`data` as YAML that sigs.k8s.io/yaml (helm, kubectl, client-go) reads back as `data`."""
    return yaml.dump(data, Dumper=SigsYamlDumper, sort_keys=False)
