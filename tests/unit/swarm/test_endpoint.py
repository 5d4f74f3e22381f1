"""The Swarm endpoint's TLS rules (cloudify_swarm.endpoint): each item as a file or inline as PEM
text, not both; inline text is registered for redaction and never in the published form
(public() names the inline fields set), and an endpoint parsed back from that form gets the
text again from the Manager's properties (with_material, context_links.manager_endpoint)."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from cloudify_shared.errors import UserError
from cloudify_shared.redaction import MASK, redact
from cloudify_swarm.context import links as context_links
from cloudify_swarm.endpoint import parse_endpoint, parse_published, with_material

CA = ("-----BEGIN CERTIFICATE-----\nMIIBunitTestCaBodyLineOne0123456789abcdef\n-----END "
      "CERTIFICATE-----\n")
CERT = ("-----BEGIN CERTIFICATE-----\nMIIBunitTestClientCertBody0123456789abcd\n-----END "
        "CERTIFICATE-----\n")
KEY = ("-----BEGIN PRIVATE KEY-----\nMIGHunitTestClientKeyBodyZYXWVUT98765432\n-----END PRIVATE "
       "KEY-----\n")
WHERE = "properties.endpoint"


def inline(**tls: Any) -> dict[str, Any]:
    return {"docker_host": "tcp://127.0.0.1:2376",
            "tls": {"ca_cert_pem": CA, "client_cert_pem": CERT, "client_key_pem": KEY, **tls}}


def no_pem_in(text: str) -> None:
    for body in ("MIIBunitTestCaBody", "MIIBunitTestClientCert", "MIGHunitTestClientKey"):
        assert body not in text


def test_inline_pem_is_parsed_and_public_names_only_the_fields() -> None:
    endpoint = parse_endpoint(inline(), WHERE)
    assert (endpoint.tls.ca_cert_pem, endpoint.tls.client_cert_pem,
            endpoint.tls.client_key_pem) == (CA, CERT, KEY)
    assert endpoint.public() == {
        "docker_host": "tcp://127.0.0.1:2376", "timeout": 60,
        "tls": {"verify": True, "ca_cert": None, "client_cert": None, "client_key": None,
                "inline": ["ca_cert_pem", "client_cert_pem", "client_key_pem"]}}
    no_pem_in(str(endpoint.public()))
    no_pem_in(repr(endpoint))


def test_files_only_keep_the_published_shape() -> None:
    endpoint = parse_endpoint({"docker_host": "tcp://h:2376",
                               "tls": {"ca_cert": "/ca", "client_cert": "/c",
                                                                      "client_key": "/k"}}, WHERE)
    assert endpoint.tls.inline == ()
    assert endpoint.public()["tls"] == {"verify": True, "ca_cert": "/ca", "client_cert": "/c",
                                        "client_key": "/k"}


@pytest.mark.parametrize(("file_field", "inline_field"), [
    ("ca_cert", "ca_cert_pem"), ("client_cert", "client_cert_pem"),
    ("client_key", "client_key_pem")])
def test_each_pem_is_exclusive_with_its_file(file_field: str, inline_field: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_endpoint(inline(**{file_field: "/etc/vnf/x.pem"}), WHERE)
    message = str(caught.value)
    assert message.startswith(f"{WHERE}.tls.{inline_field}: not together with "
                              f"{WHERE}.tls.{file_field}")
    no_pem_in(message)


def test_a_path_in_a_pem_field_is_refused_naming_the_file_field() -> None:
    with pytest.raises(UserError, match=r"properties.endpoint.tls.ca_cert_pem: not PEM text .* "
                                        r"goes in properties.endpoint.tls.ca_cert"):
        parse_endpoint(inline(ca_cert_pem="/etc/vnf/ca.pem"), WHERE)


def test_a_client_certificate_needs_its_key_in_either_form() -> None:
    with pytest.raises(UserError, match=r"properties.endpoint.tls.client_key: required"):
        parse_endpoint({"docker_host": "tcp://h:1", "tls": {"client_cert_pem": CERT}}, WHERE)
    mixed = parse_endpoint({"docker_host": "tcp://h:1",
                            "tls": {"client_cert": "/c", "client_key_pem": KEY}}, WHERE)
    assert mixed.tls.inline == ("client_key_pem",) and mixed.tls.client_cert == "/c"


def test_inline_text_is_registered_for_redaction_even_when_refused() -> None:
    key = KEY.replace("ZYXWVUT", "refused")
    with pytest.raises(UserError):
        parse_endpoint({"docker_host": "tcp://h:1",
                        "tls": {"client_key_pem": key, "client_key": "/k"}}, WHERE)
    assert redact(f"boom: {key}") == f"boom: {MASK}"
    assert redact("line MIGHunitTestClientKeyBodyrefused98765432 leaked") == f"line {MASK} leaked"


def test_a_user_cannot_give_the_published_inline_list() -> None:
    with pytest.raises(UserError, match=r"properties.endpoint.tls: unknown key 'inline'"):
        parse_endpoint({"tls": {"inline": ["client_key_pem"]}}, WHERE)


def test_the_published_form_names_what_the_manager_properties_must_give() -> None:
    given = parse_endpoint(inline(), WHERE)
    published = parse_published(given.public(), "runtime property endpoint")
    assert published.tls.missing_material() == ["ca_cert_pem", "client_cert_pem", "client_key_pem"]
    assert published.tls.pem_items() == []
    filled = with_material(published, given, "node 'swarm' properties.endpoint")
    assert filled.tls.missing_material() == []
    assert filled.tls.pem_items() == [("ca_cert", "ca_cert_pem", CA),
                                      ("client_cert", "client_cert_pem", CERT),
                                      ("client_key", "client_key_pem", KEY)]
    assert filled.public() == given.public()


def test_material_gone_from_the_manager_properties_is_named() -> None:
    published = parse_published(parse_endpoint(inline(), WHERE).public(),
                                "runtime property endpoint")
    now = parse_endpoint({"docker_host": "tcp://127.0.0.1:2376",
                          "tls": {"ca_cert_pem": CA, "client_cert": "/c", "client_key": "/k"}},
                         WHERE)
    with pytest.raises(UserError, match=r"node 'swarm' properties.endpoint: tls.client_cert_pem, "
                                        r"tls.client_key_pem not set any more"):
        with_material(published, now, "node 'swarm' properties.endpoint")


@pytest.mark.parametrize("names", [["client_key"], ["nope_pem"], [3]])
def test_the_published_form_refuses_unknown_inline_names(names: list[Any]) -> None:
    with pytest.raises(UserError,
                       match=r"runtime property endpoint.tls.inline: expected names among"):
        parse_published({"tls": {"inline": names}}, "runtime property endpoint")


def test_the_published_form_carries_no_pem_fields() -> None:
    with pytest.raises(UserError,
                       match=r"runtime property endpoint.tls: unknown key 'ca_cert_pem'"):
        parse_published(inline(), "runtime property endpoint")


# ----------------------------------------------------------------------------- through
# relationships

def node_ctx(target_type: str, properties: dict[str, Any], runtime: dict[str, Any]) -> Any:
    target = SimpleNamespace(node=SimpleNamespace(id="swarm", type_hierarchy=["cloudify.nodes.Root",
                                                                              target_type],
                                                  properties=properties),
                             instance=SimpleNamespace(runtime_properties=runtime))
    link = SimpleNamespace(type="cloudify.relationships.contained_in",
                           type_hierarchy=["cloudify.relationships.contained_in"], target=target)
    # the local profile (cloudify.workflows.local marks its contexts _local): no allowlist
    return SimpleNamespace(_local=True, instance=SimpleNamespace(relationships=[link]))


def test_the_material_comes_from_the_manager_node_properties() -> None:
    properties = {"endpoint": inline()}
    published = parse_endpoint(inline(), WHERE).public()
    ctx = node_ctx(context_links.MANAGER, properties, {"swarm_info": {"endpoint": published}})
    resolved = context_links.resolve_endpoint(ctx, "swarm_info")
    assert resolved.tls.missing_material() == ["ca_cert_pem", "client_cert_pem", "client_key_pem"]
    filled = context_links.manager_endpoint(ctx.instance, resolved)
    assert filled.tls.client_key_pem == KEY and filled.tls.ca_cert_pem == CA


def test_inline_material_is_refused_from_a_node_that_is_not_a_manager() -> None:
    published = parse_endpoint(inline(), WHERE).public()
    ctx = node_ctx("cloudify.nodes.DeploymentProxy", {}, {"swarm_info": {"endpoint": published}})
    ctx.instance.relationships[0].type_hierarchy.append(context_links.TO_MANAGER)
    with pytest.raises(UserError, match=r"node 'swarm' publishes an endpoint whose TLS material is "
                                        r"inline \(ca_cert_pem, client_cert_pem, client_key_pem\)"):
        context_links.resolve_endpoint(ctx, "swarm_info")
    with pytest.raises(UserError, match=r"is not one: relate the Microservice to that Manager"):
        context_links.manager_endpoint(ctx.instance,
                                       parse_published(published, "runtime property endpoint"))


def test_the_published_form_refuses_an_item_both_inline_and_as_a_file() -> None:
    with pytest.raises(UserError, match=r"tls.inline: client_key_pem is named inline, and "
                                        r"client_key is set too"):
        parse_published({"tls": {"client_cert": "/c", "client_key": "/k",
                                 "inline": ["client_key_pem"]}},
                        "runtime property endpoint")
