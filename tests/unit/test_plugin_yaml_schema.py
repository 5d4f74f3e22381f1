"""plugin_1_5.yaml as a schema: every property and input described, nested settings typed as
data types whose fields are exactly the ones the runtime parses (same types), so the DSL parser
refuses a misspelt nested key or a wrong type at upload, in every DSL version we ship; what the
DSL cannot say (fixed sets, ranges) stays with the runtime. Absent nested settings must still
reach the runtime as it knows them (an empty mapping, or no key at all)."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from dsl_parser import parser
from dsl_parser.exceptions import DSLParsingException

from cloudify_kubernetes import connection, helm_values, microservice
from cloudify_proxy import config as proxy_config
from cloudify_shared.offline.resolver import OfflineImportResolver
from cloudify_shared.validation import Field
from cloudify_swarm import endpoint
from cloudify_swarm.spec import container as swarm_container
from cloudify_swarm.spec import microservice as swarm_microservice
from cloudify_swarm.spec import ports as swarm_ports
from tests.helpers.paths import ROOT

SOURCE = ROOT / "plugin_1_5.yaml"
DOC = yaml.safe_load(SOURCE.read_text())
DATA_TYPES: dict[str, Any] = DOC["data_types"]
NODE_TYPES: dict[str, Any] = DOC["node_types"]
TYPES_IMPORT = {"1_5": "http://cloudify.co/spec/cloudify/7.0.0/types.yaml",
                "1_4": "http://cloudify.co/spec/cloudify/7.0.0/types_1_4.yaml",
                "1_3": "http://cloudify.co/spec/cloudify/7.0.0/types_1_3.yaml"}
# what the properties of a template need besides the one under test
REQUIRED = {"cloudify.swarm.Container": {"image": "nginx"}, "cloudify.swarm.Port": {"target": 80}}

# the runtime's accepted keys for each data type (cloudify_shared.validation.Field tables)
RUNTIME_DATA_TYPES: dict[str, Mapping[str, Field]] = {
    "cloudify.kubernetes.types.ApiConnection": connection.API_FIELDS,
    "cloudify.kubernetes.types.SshConnection": connection.SSH_FIELDS,
    "cloudify.swarm.types.Endpoint": endpoint.ENDPOINT_FIELDS,
    "cloudify.swarm.types.Tls": endpoint.TLS_FIELDS,
    # spec.microservice._resources parses these two keys inline
    "cloudify.swarm.types.Resources": {"limits": Field((dict,), default={}),
                                       "reservations": Field((dict,), default={})},
    "cloudify.swarm.types.ResourceAmounts": swarm_microservice.RESOURCE_FIELDS,
    "cloudify.swarm.types.RestartPolicy": swarm_microservice.RESTART_FIELDS,
    "cloudify.swarm.types.UpdateConfig": swarm_microservice.UPDATE_FIELDS,
    "cloudify.swarm.types.Convergence": swarm_microservice.CONVERGENCE_FIELDS,
    "cloudify.swarm.types.Healthcheck": swarm_container.HEALTHCHECK_FIELDS,
    "cloudify.proxy.types.WaitFor": proxy_config.WAIT_FOR_FIELDS,
    "cloudify.proxy.types.Manager": proxy_config.MANAGER_FIELDS,
}
RUNTIME_NODE_TYPES: dict[str, Mapping[str, Field]] = {
    "cloudify.kubernetes.Master": {"api": Field((dict,)), "ssh": Field((dict,))},
    "cloudify.kubernetes.Microservice": microservice.SETTING_FIELDS,
    "cloudify.kubernetes.HelmRelease": helm_values.HELM_FIELDS,
    "cloudify.swarm.Manager": {"endpoint": Field((dict,))},
    "cloudify.swarm.Microservice": swarm_microservice.MICROSERVICE_FIELDS,
    "cloudify.swarm.Container": {**swarm_container.CONTAINER_FIELDS,
                                 **{old: swarm_container.CONTAINER_FIELDS[new]
                                    for old, new in swarm_container.CONTAINER_ALIASES.items()}},
    "cloudify.swarm.Port": swarm_ports.PORT_FIELDS,
    "cloudify.nodes.DeploymentProxy": proxy_config.PROXY_FIELDS,
}
DSL_TYPES = {(str,): "string", (int,): "integer", (float,): "float", (int, float): "float",
             (bool,): "boolean", (list,): "list", (dict,): "dict"}
UNTYPED_BECAUSE = ("no union type", "adds a 'type' key")


def schemas() -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, schema) of every property of every node and data type and every operation input."""
    for kind in ("node_types", "data_types"):
        for type_name, definition in DOC[kind].items():
            for name, schema in (definition.get("properties") or {}).items():
                yield f"{type_name}.{name}", schema
    for kind in ("node_types", "relationships"):
        for type_name, definition in DOC[kind].items():
            for section in ("interfaces", "source_interfaces", "target_interfaces"):
                for interface, ops in (definition.get(section) or {}).items():
                    for op_name, op in ops.items():
                        for name, schema in (op.get("inputs") or {}).items():
                            yield f"{type_name} {interface}.{op_name} input {name}", schema


SCHEMAS = list(schemas())


def parse_blueprint(tmp_path: Path, node_templates: dict[str, Any],
                    version: str = "1_5") -> dict[str, Any]:
    path = tmp_path / f"blueprint-{version}.yaml"
    path.write_text(yaml.safe_dump({
        "tosca_definitions_version": f"cloudify_dsl_{version}",
        "imports": [TYPES_IMPORT[version], "plugin:cloudify-vnf-suite"],
        "node_templates": node_templates,
    }))
    resolver = OfflineImportResolver(plugins={"cloudify-vnf-suite": str(ROOT / "plugin.yaml")})
    return parser.parse_from_path(str(path), resolver=resolver)


def node(type_name: str, **properties: Any) -> dict[str, Any]:
    return {"type": type_name, "properties": {**REQUIRED.get(type_name, {}), **properties}}


def nested_paths() -> Iterator[tuple[str, tuple[str, ...], str]]:
    """(node type, property path, data type) for every data type reachable from a node type."""
    def walk(type_name: str, path: tuple[str, ...],
             data_type: str) -> Iterator[tuple[str, tuple[str, ...], str]]:
        yield type_name, path, data_type
        for name, schema in DATA_TYPES[data_type]["properties"].items():
            if schema.get("type") in DATA_TYPES:
                yield from walk(type_name, (*path, name), schema["type"])
    for type_name, definition in NODE_TYPES.items():
        for name, schema in (definition.get("properties") or {}).items():
            if schema.get("type") in DATA_TYPES:
                yield from walk(type_name, (name,), schema["type"])


NESTED = list(nested_paths())


def nest(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    for key in reversed(path):
        value = {key: value}
    return value


def misspelt(name: str) -> str:
    """A typo a user makes: two neighbouring letters swapped (or a letter doubled)."""
    swapped = name[0] + name[2] + name[1] + name[3:] if len(name) > 2 else name + name[-1]
    return swapped if swapped != name else name + name[-1]


def test_no_scaffold_comments_are_left() -> None:
    text = SOURCE.read_text()
    assert "edit only inside this block" not in text
    assert "# ===== end" not in text


@pytest.mark.parametrize("where,schema", SCHEMAS, ids=[w for w, _ in SCHEMAS])
def test_every_property_and_input_is_described(where: str, schema: dict[str, Any]) -> None:
    description = schema.get("description")
    assert isinstance(description, str) and len(description.split()) >= 4, where


@pytest.mark.parametrize("where,schema", SCHEMAS, ids=[w for w, _ in SCHEMAS])
def test_an_untyped_property_says_why(where: str, schema: dict[str, Any]) -> None:
    if "type" not in schema:
        assert any(reason in schema["description"] for reason in UNTYPED_BECAUSE), where


def test_every_data_type_is_described_and_reachable() -> None:
    for name, definition in DATA_TYPES.items():
        assert definition.get("description"), name
    assert {data_type for _, _, data_type in NESTED} == set(DATA_TYPES)
    assert set(RUNTIME_DATA_TYPES) == set(DATA_TYPES)


def check_fields(yaml_properties: dict[str, Any], runtime: Mapping[str, Field], where: str) -> None:
    assert set(yaml_properties) == set(runtime), (f"{where}: the yaml and the runtime accept "
                                                  "different keys")
    for name, field in runtime.items():
        declared = yaml_properties[name].get("type")
        expected = DSL_TYPES.get(field.types)
        if declared in DATA_TYPES:
            assert field.types == (dict,), f"{where}.{name}: a data type for a non-mapping field"
        else:
            assert declared == expected, (f"{where}.{name}: typed {declared}, the runtime takes "
                                          f"{field.types}")


@pytest.mark.parametrize("data_type", sorted(RUNTIME_DATA_TYPES))
def test_data_type_fields_are_exactly_the_runtime_ones(data_type: str) -> None:
    properties = DATA_TYPES[data_type]["properties"]
    check_fields(properties, RUNTIME_DATA_TYPES[data_type], data_type)
    for name, schema in properties.items():
        if "default" in schema:  # only where the runtime applies the very same default
            assert (schema["default"]
                    == RUNTIME_DATA_TYPES[data_type][name].default), f"{data_type}.{name}"
        else:
            assert schema.get("required") is False, (f"{data_type}.{name}: nested fields are "
                                                     "optional")


@pytest.mark.parametrize("node_type", sorted(RUNTIME_NODE_TYPES))
def test_node_type_properties_are_exactly_the_runtime_ones(node_type: str) -> None:
    assert set(RUNTIME_NODE_TYPES) == set(NODE_TYPES)
    check_fields(NODE_TYPES[node_type]["properties"], RUNTIME_NODE_TYPES[node_type], node_type)


@pytest.mark.parametrize("type_name,path,data_type", NESTED,
                         ids=[f"{t}.{'.'.join(p)}" for t, p, _ in NESTED])
def test_a_misspelt_nested_key_is_refused_naming_it(tmp_path: Path, type_name: str,
                                                    path: tuple[str, ...],
                                                    data_type: str) -> None:
    typo = misspelt(next(iter(DATA_TYPES[data_type]["properties"])))
    assert typo not in DATA_TYPES[data_type]["properties"]
    template = node(type_name, **nest(path, {typo: "x"}))
    with pytest.raises(DSLParsingException) as error:
        parse_blueprint(tmp_path, {"n": template})
    assert f"{'.'.join(path)}.{typo}" in str(error.value)
    assert "'n'" in str(error.value)


@pytest.mark.parametrize("version", sorted(TYPES_IMPORT))
def test_the_derived_yamls_refuse_a_misspelt_key_too(tmp_path: Path, version: str) -> None:
    parse_blueprint(tmp_path, {"ok": node("cloudify.kubernetes.Master", api={"kubeconfig": "/k"})},
                    version)
    with pytest.raises(DSLParsingException, match="api.kubeconfg"):
        parse_blueprint(tmp_path,
                        {"m": node("cloudify.kubernetes.Master", api={"kubeconfg": "/k"})}, version)
    with pytest.raises(DSLParsingException, match="endpoint.docker_hots"):
        parse_blueprint(tmp_path, {"s": node("cloudify.swarm.Manager",
                                             endpoint={"docker_hots": "tcp://h:2376"})},
                        version)


@pytest.mark.parametrize("type_name,properties,field", [
    ("cloudify.swarm.Manager", {"endpoint": {"timeout": "soon"}}, "endpoint.timeout"),
    ("cloudify.swarm.Manager", {"endpoint": {"tls": {"verify": "maybe"}}}, "endpoint.tls.verify"),
    ("cloudify.kubernetes.Master", {"ssh": {"port": "twenty-two"}}, "ssh.port"),
    ("cloudify.swarm.Microservice", {"replicas": "three"}, "replicas"),
    ("cloudify.swarm.Microservice", {"restart_policy": {"max_attempts": 1.5}},
     "restart_policy.max_attempts"),
    ("cloudify.swarm.Microservice", {"resources": {"limits": {"cpus": "half"}}},
     "resources.limits.cpus"),
    ("cloudify.nodes.DeploymentProxy", {"wait_for": {"install": "yes"}}, "wait_for.install"),
    ("cloudify.nodes.DeploymentProxy", {"manager": {"port": "443"}}, "manager.port"),
])
def test_a_wrongly_typed_value_is_refused_naming_it(tmp_path: Path, type_name: str,
                                                    properties: dict[str, Any], field: str) -> None:
    with pytest.raises(DSLParsingException, match=field.replace(".", r"\.")):
        parse_blueprint(tmp_path, {"n": node(type_name, **properties)})


def test_every_nested_key_the_runtime_knows_parses(tmp_path: Path) -> None:
    plan = parse_blueprint(tmp_path, {
        "master": node("cloudify.kubernetes.Master",
                       api={"host": "https://h:6443", "token_file": "/t", "ca_file": "/ca",
                            "verify_tls": True,
                            "request_timeout": 5, "context": "c"}),
        "ssh_master": node("cloudify.kubernetes.Master",
                           ssh={"host": "h", "port": 22, "user": "u", "key_file": "/k",
                                "known_hosts": "/kh",
                                "check_host_key": True, "kubectl": "kubectl", "kubeconfig": "/kc",
                                "connect_timeout": 3}),
        "swarm": node("cloudify.swarm.Manager",
                      endpoint={"docker_host": "tcp://h:2376", "timeout": 5,
                                "tls": {"verify": True, "ca_cert": "/ca", "client_cert": "/c",
                                        "client_key": "/k"}}),
        "service": node("cloudify.swarm.Microservice",
                        resources={"limits": {"cpus": 1, "memory": "64M"},
                                   "reservations": {"memory": 1024}},
                        restart_policy={"condition": "on-failure", "delay": 1, "max_attempts": 3,
                                        "window": 10},
                        update_config={"parallelism": 1, "delay": 1, "failure_action": "rollback",
                                       "monitor": 5, "max_failure_ratio": 0.1,
                                       "order": "start-first"},
                        convergence={"stability_seconds": 1, "timeout": 60}),
        "container": node("cloudify.swarm.Container", entrypoint="sh", command=["-c", "true"],
                          healthcheck={"test": "true", "interval": 1}),
        "proxy": node("cloudify.nodes.DeploymentProxy", deployment_id="up", inherit_capabilities=[],
                      wait_for={"install": False, "outputs": ["a"], "missing_deployment": "wait"},
                      manager={"host": "m", "port": 443, "protocol": "https", "token": "t",
                               "verify": False,
                               "request_timeout": 5}),
    })
    properties = {n["id"]: n["properties"] for n in plan["nodes"]}
    assert properties["service"]["resources"] == {"limits": {"cpus": 1, "memory": "64M"},
                                                  "reservations": {"memory": 1024}}
    assert properties["container"]["entrypoint"] == "sh"


def test_absent_nested_settings_reach_the_runtime_as_it_knows_them(tmp_path: Path) -> None:
    """A data type fills in only what the runtime would (an api: {} Master is "not api")."""
    plan = parse_blueprint(tmp_path, {
        "master": node("cloudify.kubernetes.Master", api={"kubeconfig": "/k"}),
        "swarm": node("cloudify.swarm.Manager"),
        "service": node("cloudify.swarm.Microservice"),
        "container": node("cloudify.swarm.Container"),
        "proxy": node("cloudify.nodes.DeploymentProxy", deployment_id="up"),
    })
    properties = {n["id"]: n["properties"] for n in plan["nodes"]}
    assert properties["master"]["api"] == {"kubeconfig": "/k"}
    assert properties["master"]["ssh"] == {}
    assert properties["swarm"]["endpoint"] == {"docker_host": "unix:///var/run/docker.sock",
                                               "tls": {},
                                               "timeout": 60}
    service = properties["service"]
    assert (service["restart_policy"], service["update_config"], service["rollback_config"],
            service["convergence"]) == ({}, {}, {}, {})
    assert service["resources"] == {"limits": {}, "reservations": {}}  # the runtime's own defaults
    container = properties["container"]
    for unset in ("entrypoint", "entry_point", "command", "init", "stop_grace_period"):
        assert unset not in container  # None at runtime: "not set"
    assert container["healthcheck"] == {}  # empty at runtime: "not set"
    assert (properties["proxy"]["wait_for"], properties["proxy"]["manager"]) == ({}, {})
    assert properties["proxy"]["inherit_capabilities"] is None


def test_fixed_sets_stay_with_the_runtime_because_properties_take_no_constraints(
    tmp_path: Path,
) -> None:
    """If a later parser accepts `constraints` on node-type properties, this fails: then move
    mode, endpoint_mode, protocol, condition, ... from the descriptions into valid_values."""
    plugin = tmp_path / "plugin.yaml"
    plugin.write_text(yaml.safe_dump({
        "tosca_definitions_version": "cloudify_dsl_1_5",
        "node_types": {"t.T": {"derived_from": "cloudify.nodes.Root", "properties": {
            "mode": {"type": "string", "default": "vip",
                     "constraints": [{"valid_values": ["vip", "dnsrr"]}]}}}},
    }))
    blueprint = tmp_path / "blueprint.yaml"
    blueprint.write_text(yaml.safe_dump({"tosca_definitions_version": "cloudify_dsl_1_5",
                                         "imports": [TYPES_IMPORT["1_5"], str(plugin)],
                                         "node_templates": {"n": {"type": "t.T"}}}))
    with pytest.raises(DSLParsingException, match="constraints"):
        parser.parse_from_path(str(blueprint), resolver=OfflineImportResolver())


def test_a_fixed_set_the_runtime_checks_is_named_in_the_description() -> None:
    for where, choices in [("cloudify.swarm.Microservice.mode", ("replicated", "global")),
                           ("cloudify.swarm.Microservice.endpoint_mode", ("vip", "dnsrr")),
                           ("cloudify.swarm.Port.protocol", ("tcp", "udp", "sctp")),
                           ("cloudify.swarm.Port.mode", ("ingress", "host")),
                           ("cloudify.swarm.types.RestartPolicy.condition",
                            ("none", "on-failure", "any")),
                           ("cloudify.swarm.types.UpdateConfig.failure_action",
                            ("pause", "continue", "rollback")),
                           ("cloudify.swarm.types.UpdateConfig.order",
                            ("stop-first", "start-first")),
                           ("cloudify.proxy.types.WaitFor.missing_deployment", ("fail", "wait")),
                           ("cloudify.proxy.types.Manager.protocol", ("http", "https"))]:
        description = dict(SCHEMAS)[where]["description"]
        assert all(choice in description for choice in choices), where
        assert "checked when the operation runs" in description.lower(), where


@pytest.mark.parametrize("version", sorted(TYPES_IMPORT))
def test_plugin_and_blueprint_labels_reach_the_plan(tmp_path: Path, version: str) -> None:
    plan = parse_blueprint(tmp_path, {}, version)
    for key in ("labels", "blueprint_labels"):
        assert set(plan[key]["obj-type"]["values"]) == {"kubernetes", "docker", "swarm", "proxy"}
