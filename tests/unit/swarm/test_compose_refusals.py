"""Engine refusals of a stack (issue 27): a refusal for a value in the request is a UserError
naming the compose file, the service and the key path, decided by what the Engine says (an
HTTP 500 that only repeats a validation error is not an outage); real outages stay transient."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import docker.errors
import pytest
import requests

from cloudify_shared.errors import TransientError, UserError
from cloudify_swarm.compose.refusals import refused_key
from cloudify_swarm.docker_engine import engine_errors, refused_for_its_content
from cloudify_swarm.engine_api import EngineRefused
from cloudify_swarm.spec.microservice import Convergence
from cloudify_swarm.stacks import deploy_stack

LOG = logging.getLogger(__name__)


@pytest.mark.parametrize(("status", "said", "refused"), [
    (400, "json: cannot unmarshal number into Go struct field DriverConfig.Options of type string",
     True),
    (400, "rpc error: code = InvalidArgument desc = invalid memory value 1024: Must be at least "
          "4MiB", True),
    (409, "rpc error: code = AlreadyExists desc = name conflicts with an existing object", True),
    # swarmkit's own validation, answered as code Unknown with HTTP 500 (seen on docker 28)
    (500, "rpc error: code = Unknown desc = constraint expected one operator from ==, !=", True),
    (500, "value '' is invalid", True),
    (500, "invalid mount config for type \"bind\": bind source path does not exist: /x", True),
    (500, "rpc error: code = InvalidArgument desc = port '99999' is invalid", True),
    # outages: by status, or by a 500 whose gRPC code or words say so
    (500, "rpc error: code = Unavailable desc = connection error: dial tcp: connection refused",
     False),
    (500, "rpc error: code = DeadlineExceeded desc = context deadline exceeded", False),
    (500, "rpc error: code = Unknown desc = raft: no elected cluster leader", False),
    (500, "rpc error: code = Unavailable desc = invalid transport state", False),
    (500, "context deadline exceeded", False),
    (502, "bad gateway", False), (503, "This node is not a swarm manager: invalid state", False),
    (504, "gateway timeout", False), (429, "too many requests", False), (0, "", False),
])
def test_a_refusal_is_decided_by_what_the_engine_says(status: int, said: str,
                                                      refused: bool) -> None:
    assert refused_for_its_content(status, said) is refused


def api_error(status: int, said: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError("engine", response=response, explanation=said)


def test_engine_errors_keeps_the_engines_words_and_the_cause() -> None:
    cause = api_error(500, "rpc error: code = Unknown desc = constraint expected one operator from "
                           "==, !=")
    with pytest.raises(EngineRefused) as refused, engine_errors("creating service st_web"):
        raise cause
    assert (refused.value.said
            == "rpc error: code = Unknown desc = constraint expected one operator from ==, !=")
    assert refused.value.__cause__ is cause
    with pytest.raises(TransientError,
                       match=r"^creating service st_web: .*Unavailable.* \(HTTP 500\)$"), \
            engine_errors("creating service st_web"):
        raise api_error(500, "rpc error: code = Unavailable desc = connection refused")


@pytest.mark.parametrize(("said", "key"), [
    ("rpc error: code = Unknown desc = constraint expected one operator from ==, !=",
     "deploy.placement.constraints"),
    ("invalid memory value 1024: Must be at least 4MiB", "deploy.resources"),
    ("invalid mount config for type \"bind\": bind source path does not exist", "volumes"),
    ("json: cannot unmarshal number into Go struct field DriverConfig.Options of type string",
     "volumes"),
    ("json: cannot unmarshal number into Go struct field ContainerSpec.Labels of type string",
     "labels"),
    ("secret mode 0999 is invalid", "secrets"),
    ("something else entirely", None),
])
def test_the_key_is_read_off_the_engines_words(said: str, key: str | None) -> None:
    assert refused_key(said) == key


class RefusingEngine:
    """An Engine with no objects that refuses every service with `said` (HTTP 500)."""

    def __init__(self, said: str, objects: bool = False) -> None:
        self.said, self.objects = said, objects

    def find_objects(self, kind: str, labels: Any = None,
                     name: str | None = None) -> list[dict[str, Any]]:
        return [{"Id": "x", "Name": name, "Labels": {}}] if self.objects else []

    def create_object(self, kind: str, name: str, labels: dict[str, str], **options: Any) -> str:
        return f"{kind}-id"

    def service_by_name(self, name: str) -> None:
        return None

    def find_services(self, labels: dict[str, str],
                      name: str | None = None) -> list[dict[str, Any]]:
        return []

    def containers(self, labels: dict[str, str]) -> list[dict[str, Any]]:
        return []

    def create_service(self, spec: dict[str, Any]) -> str:
        with engine_errors(f"creating service {spec['Name']}"):
            raise api_error(500, self.said)
        raise AssertionError("unreachable")


def deploy(engine: RefusingEngine, path: str) -> None:
    """deploy_stack on an engine with no stack: a refusal removes what it made (nothing here)."""
    deploy_stack(engine, path, "st", {"owner": "me"}, Convergence(), LOG)  # type: ignore[arg-type]


def write(folder: Path, text: str) -> str:
    path = folder / "stack.yml"
    path.write_text(text)
    return str(path)


def test_an_engine_refusal_names_the_file_the_service_and_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, 'version: "3.8"\nservices:\n  web:\n    image: busybox\n'
                           '    deploy: {placement: {constraints: [""]}}\n')
    engine = RefusingEngine("rpc error: code = Unknown desc = constraint expected one operator "
                            "from ==, !=")
    with pytest.raises(UserError) as refused:
        deploy(engine, path)
    assert type(refused.value) is UserError
    assert str(refused.value).startswith(
        "properties.compose_file (stack.yml).services.web.deploy.placement.constraints: "
        "the Docker Engine refused the service: "
        "creating service st_web: rpc error: code = Unknown desc = constraint expected one "
        "operator")


def test_an_engine_outage_stays_transient(tmp_path: Path) -> None:
    path = write(tmp_path, 'version: "3.8"\nservices: {web: {image: busybox}}\n')
    engine = RefusingEngine("rpc error: code = Unavailable desc = connection refused")
    with pytest.raises(TransientError):
        deploy(engine, path)


@pytest.mark.parametrize("kind", ["network", "secret", "config"])
def test_a_missing_external_object_is_named_with_the_file(tmp_path: Path, kind: str) -> None:
    service_ref = {"network": "networks: [x]", "secret": "secrets: [x]",
                   "config": "configs: [x]"}[kind]
    path = write(tmp_path, f'version: "3.8"\nservices:\n  web:\n    image: busybox\n'
                           f'    {service_ref}\n{kind}s:\n  x:\n    external: true\n')
    with pytest.raises(UserError, match=rf"^properties\.compose_file \(stack\.yml\)\.{kind}s\.x: "
                                        rf"the external {kind} 'x' does not exist"):
        deploy(RefusingEngine("unused"), path)
