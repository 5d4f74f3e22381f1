"""Compose interpolation with the docker CLI's rules (each case checked against `docker stack
config` of docker 28)."""
from __future__ import annotations

from pathlib import Path

import pytest

from cloudify_shared.errors import UserError
from cloudify_swarm.compose.interpolation import (
    dotenv_variables,
    interpolate,
    parse_env_lines,
    substitute,
)

VARIABLES = {"S": "set", "E": ""}


def sub(text: str) -> str:
    warnings: list[str] = []
    return substitute(text, VARIABLES, "p", warnings.append)


@pytest.mark.parametrize(("text", "expected"), [
    ("$S ${S}", "set set"),
    ("$$S $${S}", "$S ${S}"),
    ("${U:-def} ${E:-def} ${E-def} ${U-def}", "def def  def"),
    ("${S:-x}${S-x}", "setset"),
    ("${U:-a b}c", "a bc"),
    ("${U:-a:b}", "a:b"),
    ("${U:-$S}", "$S"),            # a default is not interpolated again
    ("${X:-${Y:-z}}", "${Y:-z}"),  # and ends at the first }
    ("$S}", "set}"),
    ("$S_x.y", ".y"),              # S_x is the name
    ("$E-e x", ""),                # unbraced takes an operator too, up to the end
    ("${S?boom}", "set"),
    ("${U}", ""),
])
def test_substitutes_as_docker_does(text: str, expected: str) -> None:
    assert sub(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("a $ b", "p: invalid interpolation format in 'a $ b'"),
    ("end$", "invalid interpolation format"),
    ("$1", "invalid interpolation format"),
    ("${W:+plus}", "invalid interpolation format"),
    ("${U?boom}", "p: required variable U is missing a value: boom"),
    ("${E:?empty}", "required variable E is missing a value: empty"),
    ("${U:?}", "required variable U is missing a value: "),
])
def test_refuses_what_docker_refuses(text: str, message: str) -> None:
    with pytest.raises(UserError) as error:
        sub(text)
    assert message in str(error.value)


def test_unset_variable_warns_and_keys_stay() -> None:
    warnings: list[str] = []
    data = {"services": {"$S": {"image": "${U}", "ports": ["${S}", 80]}}}
    assert interpolate(data, VARIABLES, "f", warnings.append) == {
        "services": {"$S": {"image": "", "ports": ["set", 80]}}}
    assert warnings == ["f.services.$S.image: the variable U is not set, substituting an empty "
                        "string"]


def test_env_lines_and_dotenv(tmp_path: Path) -> None:
    text = '# c\n\nexport A=1\nB="two words"\nC=\'x\'\nD\nE=a=b\n'
    assert parse_env_lines(text, "f") == {"A": "1", "B": "two words", "C": "x", "D": None,
                                          "E": "a=b"}
    assert parse_env_lines(text, "f", strip_quotes=False)["B"] == '"two words"'
    with pytest.raises(UserError, match="f:1: '=x' is not KEY=value"):
        parse_env_lines("=x", "f")
    assert dotenv_variables(None) == {}
    assert dotenv_variables("A=1\nB\n") == {"A": "1"}


@pytest.mark.parametrize(("key", "text", "cast"), [
    (("services", "web", "read_only"), "yes", True), (("services", "web", "tty"), "Off", False),
    (("services", "web", "volumes", "[]", "read_only"), "Y", True),
    (("networks", "front", "external"), "on", True),
    (("services", "web", "deploy", "replicas"), "+3", 3),
    (("services", "web", "configs", "[]", "mode"), "0440", 440),  # Go's Atoi: decimal
    (("services", "web", "ulimits", "nofile"), "1024", 1024),
    (("services", "web", "deploy", "update_config", "max_failure_ratio"), "0.5", 0.5),
    (("services", "web", "labels", "a"), "yes", "yes"),  # no cast: stays the string
    (("services", "web", "ports", "[]"), "80", "80"),
])
def test_an_interpolated_value_takes_the_type_docker_casts_it_to(key: tuple[str, ...], text: str,
                                                                cast: object) -> None:
    data: object = "${V}"
    for part in reversed(key):
        data = [data] if part == "[]" else {part: data}
    result: object = interpolate(data, {"V": text}, "f", lambda _: None)
    for part in key:
        result = result[0] if part == "[]" else result[part]  # type: ignore[index]
    assert result == cast and type(result) is type(cast)


def test_a_literal_is_not_cast_and_a_value_docker_cannot_cast_is_refused_without_it() -> None:
    assert interpolate({"services": {"w": {"tty": "yes"}}}, {}, "f", lambda _: None) == \
        {"services": {"w": {"tty": "yes"}}}  # no substitution: docker's schema refuses it later
    with pytest.raises(UserError, match=r"^f\.services\.w\.tty: '\$\{V\}' is not a boolean once "
                                        r"interpolated") as caught:
        interpolate({"services": {"w": {"tty": "${V}"}}}, {"V": "secret-1"}, "f", lambda _: None)
    assert "secret-1" not in str(caught.value)
    with pytest.raises(UserError,
                       match=r"^f\.services\.w\.deploy\.replicas: '\$\{V\}' is not an integer"):
        interpolate({"services": {"w": {"deploy": {"replicas": "${V}"}}}}, {"V": "2.0"}, "f",
                    lambda _: None)
