"""compose_variables values are secrets until shown otherwise (issue 24, class 7): registered for
redaction before the parser can log or raise, and a compose validation error names the key path
and the variable, never the substituted value."""
from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from cloudify_shared.errors import UserError
from cloudify_shared.redaction import redact
from cloudify_swarm.compose.interpolation import hide_values
from cloudify_swarm.compose.stack import parse_compose_file
from cloudify_swarm.context.compose_file import compose_options
from cloudify_swarm.spec.microservice import parse_microservice

SECRET = "Tr0ub4dor-compose-value"


def write(folder: Path, service: dict[str, Any], **top: Any) -> str:
    path = folder / "stack.yml"
    path.write_text(yaml.safe_dump({"version": "3.8", "services": {"web": service}, **top}))
    return str(path)


def test_compose_options_registers_every_value_for_redaction() -> None:
    service = parse_microservice({"compose_file": "stack.yml",
                                  "compose_variables": {"DB_PASSWORD": SECRET, "PORT": 48291}})
    compose_options(SimpleNamespace(), service)
    assert redact(f"password {SECRET}!") == "password ***!"
    # every value: the plugin cannot tell which are secret
    assert redact("port 48291") == "port ***"


@pytest.mark.parametrize(("service", "where"), [
    ({"image": "i", "deploy": {"replicas": "${V}"}},
     "services.web.deploy.replicas: '${V}' is not an integer"),
    ({"image": "i", "ports": ["${V}:80"]}, "services.web.ports[0]: '${V}:80' is not"),
    ({"image": "I/${V}"}, "services.web.image: 'I/${V}': invalid reference format"),
    ({"image": "i", "stop_grace_period": "${V}"},
     "services.web.stop_grace_period: '${V}' is not a duration"),
    ({"image": "i", "command": "echo '${V}"}, "services.web.command: No closing quotation"),
    ({"image": "i", "restart": "${V}"}, "services.web.restart: unknown restart policy '${V}'"),
])
def test_a_validation_error_names_the_variable_not_its_value(
    tmp_path: Path, service: dict[str, Any], where: str,
) -> None:
    with pytest.raises(UserError) as error:
        parse_compose_file(write(tmp_path, service), "compose", "st", {"V": SECRET})
    message = str(error.value)
    assert where in message
    assert SECRET not in message and SECRET not in repr(error.value.__cause__)
    assert error.value.__suppress_context__  # the first message (with the value) is not chained


def test_a_logged_host_address_is_not_quoted(tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        parse_compose_file(write(tmp_path, {"image": "i", "ports": ["${ADDR}:8080:80"]}), "compose",
                           "st",
                           {"ADDR": "10.9.8.7"})
    assert "ignoring the host IP address" in caplog.text and "10.9.8.7" not in caplog.text


def test_values_are_hidden_longest_first_and_short_ones_kept() -> None:
    assert hide_values("'abcd-1234' and 'abcd'", {"A": "abcd", "B": "abcd-1234", "C": "x"}) == \
        "'${B}' and '${A}'"
