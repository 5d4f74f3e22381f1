"""inherit_capabilities: which upstream capabilities a proxy copies (null = none, [] = all, a list,
a mapping), how they sit beside the copied outputs, and how check_status / check_drift / refresh
follow them (names only, never values). Canned payloads and a fake DeploymentSource."""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import pytest
from cloudify.exceptions import NonRecoverableError

from cloudify_proxy.config import ProxyConfig, parse_proxy
from cloudify_proxy.currency import problems
from cloudify_proxy.mapping import copied_from, outputs_from_proxy, outputs_of
from cloudify_proxy.rest_source import RestSource
from cloudify_proxy.verdicts import Snapshot
from cloudify_proxy.waiter import copy_outputs, refresh_outputs, take_snapshot
from cloudify_shared.errors import UserError
from cloudify_shared.tasks import translate_error

LOG = logging.getLogger("test.proxy.capabilities")
INSTALLED = ({"id": "e1", "workflow_id": "install", "status": "terminated", "created_at": "t1"},)
K8S_INFO = {"mode": "api", "host": "https://127.0.0.1:6443", "token_file": "/pki/token"}
OUTPUTS = {"vm_info": {"ips": ["10.0.0.2"]}, "kubernetes_info": K8S_INFO}
CAPABILITIES = {"kubernetes_info": K8S_INFO, "cluster_token": "cap-s3cret-value"}


class FakeSource:
    """An installed upstream; counts capability reads (a proxy that copies none reads none)."""

    def __init__(self, outputs: Mapping[str, Any] = OUTPUTS,
                 capabilities: Mapping[str, Any] = CAPABILITIES) -> None:
        self.output_values, self.capability_values = dict(outputs), dict(capabilities)
        self.capability_reads = 0

    def describe(self) -> str:
        return "a fake"

    def executions(self, deployment_id: str) -> list[Mapping[str, Any]] | None:
        return list(INSTALLED)

    def outputs(self, deployment_id: str) -> dict[str, Any]:
        return dict(self.output_values)

    def capabilities(self, deployment_id: str) -> dict[str, Any]:
        self.capability_reads += 1
        return dict(self.capability_values)


def config(**props: Any) -> ProxyConfig:
    return parse_proxy({"deployment_id": "up", **props}, {})


def copy(source: FakeSource, **props: Any) -> dict[str, Any]:
    cfg = config(**props)
    return copy_outputs(take_snapshot(source, cfg), cfg)


# ---- parsing -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, selection", [
    (None, ()),                       # the default: none
    ([], None), ({}, None),           # all
    (["kubernetes_info"], (("kubernetes_info", "kubernetes_info"),)),
    ({"kubernetes_info": "k8s"}, (("kubernetes_info", "k8s"),)),
])
def test_inherit_capabilities_forms(value: Any, selection: Any) -> None:
    cfg = config(inherit_capabilities=value)
    assert cfg.capabilities == selection
    assert cfg.wants_capabilities is (selection != ())


@pytest.mark.parametrize("value, message", [
    ("kubernetes_info", "properties.inherit_capabilities: expected a list or a mapping"),
    ([""], "properties.inherit_capabilities[0]: expected a capability name"),
    ({"a": "copied_capabilities"}, "'copied_capabilities' is reserved"),
    ({"a": "x", "b": "x"}, "two capabilities would land in runtime property 'x'"),
])
def test_bad_inherit_capabilities_name_the_field(value: Any, message: str) -> None:
    with pytest.raises(UserError, match=re.escape(message)):
        config(inherit_capabilities=value)


def test_copied_outputs_cannot_be_mapped_onto_copied_capabilities() -> None:
    with pytest.raises(UserError, match="'copied_capabilities' is reserved"):
        config(inherit_outputs={"vm_info": "copied_capabilities"})


# ---- copying -------------------------------------------------------------------------------------

def test_by_default_no_capability_is_read_or_copied() -> None:
    source = FakeSource()
    props = copy(source)
    assert source.capability_reads == 0
    assert props["copied_capabilities"] == [] and "cluster_token" not in props
    assert props["copied_outputs"] == ["kubernetes_info", "vm_info"]


def test_all_capabilities_beside_all_outputs_sharing_an_equal_value() -> None:
    props = copy(FakeSource(), inherit_capabilities=[])
    assert props["copied_capabilities"] == ["cluster_token", "kubernetes_info"]
    assert props["copied_outputs"] == ["kubernetes_info", "vm_info"]
    assert props["kubernetes_info"] == K8S_INFO and props["cluster_token"] == "cap-s3cret-value"


def test_named_and_mapped_capabilities() -> None:
    props = copy(FakeSource(), inherit_outputs=["vm_info"],
                 inherit_capabilities=["kubernetes_info"])
    assert (props["copied_outputs"] == ["vm_info"] and props["copied_capabilities"]
            == ["kubernetes_info"])
    assert "cluster_token" not in props
    props = copy(FakeSource(), inherit_capabilities={"kubernetes_info": "cluster"})
    assert props["cluster"] == K8S_INFO and props["copied_capabilities"] == ["cluster"]


def test_a_named_capability_the_upstream_lacks_is_a_user_error_listing_what_it_has() -> None:
    with pytest.raises(UserError) as error:
        copy(FakeSource(), inherit_capabilities=["swarm_info"])
    assert str(error.value) == ("inherit_capabilities: deployment 'up' has no capability "
                                "'swarm_info'; its capabilities are: cluster_token, "
                                "kubernetes_info")


def test_all_capabilities_refuse_one_named_like_the_proxys_own_properties() -> None:
    with pytest.raises(UserError,
                       match="has a capability named 'deployment_id'.*inherit_capabilities"):
        copy(FakeSource(capabilities={"deployment_id": "x"}), inherit_capabilities=[])


def test_an_output_and_a_capability_with_different_values_in_one_property_name_both() -> None:
    source = FakeSource(capabilities={"kubernetes_info": {**K8S_INFO, "host": "https://other:6443"},
                                      "cluster_token": "cap-s3cret-value"})
    with pytest.raises(UserError) as error:
        copy(source, inherit_capabilities=[])
    message = str(error.value)
    assert ("output 'kubernetes_info' and capability 'kubernetes_info' would both be copied to "
            "runtime property 'kubernetes_info' with different values") in message
    assert "other:6443" not in message and "127.0.0.1" not in message  # names, never values
    mapped = FakeSource()
    with pytest.raises(UserError, match="output 'vm_info' and capability 'cluster_token'"):
        copy(mapped, inherit_capabilities={"cluster_token": "vm_info"})
    fatal = translate_error(error.value, "node 'kubernetes_proxy' (instance p_1)")
    assert isinstance(fatal, NonRecoverableError)
    assert str(fatal).startswith("node 'kubernetes_proxy' (instance p_1): output 'kubernetes_info'")


# ---- day 2: check_status / check_drift / refresh -------------------------------------------------

def snapshot(outputs: Mapping[str, Any] = OUTPUTS,
             capabilities: Mapping[str, Any] | None = CAPABILITIES) -> Snapshot:
    return Snapshot("up", True, INSTALLED, outputs, capabilities)


def test_current_capabilities_have_no_problems() -> None:
    cfg = config(inherit_capabilities=[])
    assert problems(snapshot(), cfg, copy(FakeSource(), inherit_capabilities=[]), "a fake") == []


def test_changed_missing_and_new_capabilities_are_named_without_values() -> None:
    cfg = config(inherit_capabilities=[])
    recorded = copy(FakeSource(), inherit_capabilities=[])
    now = {"kubernetes_info": {**K8S_INFO, "host": "https://moved:6443"}, "swarm_info": {"x": 1}}
    found = problems(snapshot({"vm_info": OUTPUTS["vm_info"],
                               "kubernetes_info": now["kubernetes_info"]},
                              now), cfg, recorded, "a fake")
    assert found == ["output 'kubernetes_info' changed",
                     "capability 'kubernetes_info' changed",
                     "capability 'swarm_info' is not copied yet",
                     "capability 'cluster_token' is missing from deployment 'up'"]
    assert "moved" not in " ".join(found)


def test_a_named_capability_gone_and_one_no_longer_selected() -> None:
    recorded = copy(FakeSource(),
                    inherit_capabilities={"kubernetes_info": "k8s", "cluster_token": "t"})
    cfg = config(inherit_capabilities={"kubernetes_info": "k8s"})
    found = problems(snapshot(capabilities={"cluster_token": "cap-s3cret-value"}), cfg, recorded,
                     "f")
    assert found == ["capability 'kubernetes_info' is missing from deployment 'up'",
                     "runtime property 't' is no longer in inherit_capabilities"]
    back_to_null = problems(snapshot(capabilities=None), config(), recorded, "f")
    assert back_to_null == ["runtime property 'k8s' is no longer in inherit_capabilities",
                            "runtime property 't' is no longer in inherit_capabilities"]


def test_a_proxy_created_before_capabilities_existed_is_current() -> None:
    recorded = {k: v for k, v in copy(FakeSource()).items() if k != "copied_capabilities"}
    assert problems(snapshot(capabilities=None), config(), recorded, "f") == []


def test_refresh_names_capability_changes_and_what_is_gone() -> None:
    old = copy(FakeSource(), inherit_outputs=["vm_info"], inherit_capabilities=[])
    source = FakeSource(capabilities={"kubernetes_info": {"mode": "api", "host": "h2"}})
    new, changes = refresh_outputs(source, config(inherit_outputs=["vm_info"],
                                                  inherit_capabilities=[]), old, LOG)
    assert new["copied_capabilities"] == ["kubernetes_info"]
    assert changes.describe() == "kubernetes_info changed; cluster_token removed"
    assert "h2" not in changes.describe()


# ---- what a relationship reads from a proxy ------------------------------------------------------

def test_relationships_see_copied_capabilities_too() -> None:
    props = copy(FakeSource(), inherit_outputs=["vm_info"],
                 inherit_capabilities=["kubernetes_info"])
    assert copied_from(props) == {"vm_info": OUTPUTS["vm_info"], "kubernetes_info": K8S_INFO}
    assert outputs_from_proxy(props, None) == copied_from(props)
    assert outputs_of(props, None) == ["vm_info", "kubernetes_info"]
    both = copy(FakeSource(), inherit_capabilities=[])
    assert sorted(outputs_of(both, None)) == ["cluster_token", "kubernetes_info", "vm_info"]


# ---- the REST adapter ----------------------------------------------------------------------------

class CapabilitiesClient:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def get(self, deployment_id: str) -> dict[str, Any]:
        self.asked.append(deployment_id)
        return {"deployment_id": deployment_id, "capabilities": CAPABILITIES}


class FakeDeployments:
    def __init__(self) -> None:
        self.capabilities = CapabilitiesClient()


class FakeClient:
    def __init__(self) -> None:
        self.deployments = FakeDeployments()


def test_rest_source_reads_the_capabilities_endpoint() -> None:
    client = FakeClient()
    source = RestSource(client, "a fake manager")  # type: ignore[arg-type]
    assert source.capabilities("up") == CAPABILITIES
    assert client.deployments.capabilities.asked == ["up"]
