from __future__ import annotations

import pytest

from cloudify_shared.errors import UserError
from cloudify_shared.validation import Field, parse_mapping, string_mapping

FIELDS = {
    "name": Field((str,), required=True),
    "replicas": Field((int,), default=1),
    "mode": Field((str,), default="replicated", choices=("replicated", "global")),
    "ratio": Field((float,), default=0.5),
}


def test_fills_defaults_and_keeps_values() -> None:
    assert parse_mapping({"name": "web", "ratio": 2}, FIELDS, "properties") == {
        "name": "web", "replicas": 1, "mode": "replicated", "ratio": 2.0,
    }


def test_unknown_key_is_named_with_suggestion() -> None:
    with pytest.raises(UserError,
                       match=r"properties: unknown key 'replcas' \(did you mean 'replicas'\?\)"):
        parse_mapping({"name": "web", "replcas": 2}, FIELDS, "properties")


def test_missing_required_names_the_field() -> None:
    with pytest.raises(UserError, match=r"properties\.name: required"):
        parse_mapping({}, FIELDS, "properties")


@pytest.mark.parametrize("value", ["3", 2.5, True])
def test_wrong_type_names_field_and_value(value: object) -> None:
    with pytest.raises(UserError, match=r"properties\.replicas: expected an integer"):
        parse_mapping({"name": "web", "replicas": value}, FIELDS, "properties")


def test_choice_outside_the_allowed_set() -> None:
    with pytest.raises(UserError, match=r"properties\.mode: 'both' is not one of"):
        parse_mapping({"name": "web", "mode": "both"}, FIELDS, "properties")


def test_not_a_mapping() -> None:
    with pytest.raises(UserError, match=r"properties: expected a mapping, got a list"):
        parse_mapping(["name"], FIELDS, "properties")


def test_string_mapping_renders_scalars() -> None:
    assert string_mapping({"A": 1, "B": True, "C": None, "D": "x"}, "env") == {
        "A": "1", "B": "true", "C": "", "D": "x",
    }
    assert string_mapping({"SERVERS": ["10.0.0.2", "10.0.0.3"], "N": []}, "env") == {
        "SERVERS": "10.0.0.2 10.0.0.3", "N": "",
    }
    with pytest.raises(UserError, match=r"env\.A: expected a scalar or a list of scalars"):
        string_mapping({"A": {"b": 1}}, "env")
    with pytest.raises(UserError, match=r"env\.A: expected a scalar or a list of scalars"):
        string_mapping({"A": [[1]]}, "env")
