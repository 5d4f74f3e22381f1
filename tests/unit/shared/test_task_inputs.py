"""Operation inputs: a closed set per operation, an unknown one refused naming the operation and
the input (never dropped); the 2016 names are accepted as aliases."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from cloudify_shared.errors import UserError
from cloudify_shared.tasks import accepted_inputs, reject_unknown_inputs
from cloudify_shared.validation import apply_aliases
from cloudify_swarm.spec.container import parse_container

CTX = SimpleNamespace(operation=SimpleNamespace(name="cloudify.interfaces.lifecycle.create"))


def named(ctx: Any, env: Any = None, **_: Any) -> None: ...


def passes_on(ctx: Any, **inputs: Any) -> None: ...


def test_named_parameters_and_declared_names_are_the_accepted_set() -> None:
    assert accepted_inputs(named, ()) == {"env"}
    assert accepted_inputs(passes_on, ("config", "env")) == {"config", "env"}
    # an undeclared catch-all: reported by the plugin yaml test
    assert accepted_inputs(passes_on, ()) is None


def test_an_unknown_input_is_refused_naming_operation_input_and_what_it_takes() -> None:
    with pytest.raises(UserError, match=r"operation cloudify.interfaces.lifecycle.create: unknown "
                                        r"input\(s\) envv \(it takes: env\)"):
        reject_unknown_inputs(CTX, {"ctx": CTX, "envv": {}}, frozenset({"env"}))


def test_known_inputs_and_ctx_pass() -> None:
    reject_unknown_inputs(CTX, {"ctx": CTX, "env": {}}, frozenset({"env"}))


def test_entry_point_is_the_2016_name_of_entrypoint() -> None:
    spec = parse_container({"image": "nginx", "entry_point": "/start.sh"}, "properties")
    assert spec.entrypoint == ["/start.sh"]


def test_entry_point_and_entrypoint_together_are_refused() -> None:
    with pytest.raises(UserError,
                       match="properties.entry_point and properties.entrypoint are both set"):
        apply_aliases({"entry_point": "a", "entrypoint": "b"}, {"entry_point": "entrypoint"},
                      "properties")


def test_an_unset_alias_is_dropped() -> None:
    assert apply_aliases({"entry_point": None, "entrypoint": "b"}, {"entry_point": "entrypoint"},
                         "p") == \
        {"entrypoint": "b"}
