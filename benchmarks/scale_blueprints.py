"""The scale blueprints (figure 6), generated at run time: a Kubernetes Master or Swarm Manager and
N microservices, one node each (the mixed blueprint: both, half the microservices on each). One node
per microservice rather than one node with N instances: both plugins name what they create after the
node (a Deployment's name is in its descriptor, a service is named `<node>-<deployment>`), so N
instances of one node would all claim the same name.

Every microservice is a 1-replica busybox httpd from the local image, which exits on SIGTERM so
that stopping it is not a grace-period wait. Pure: builds dicts and YAML text, no I/O.
"""
from __future__ import annotations

from typing import Any

import yaml

from tests.helpers.paths import K8S_CA, K8S_TOKEN_FILE

HEADER = {
    "tosca_definitions_version": "cloudify_dsl_1_5",
    "imports": ["http://cloudify.co/spec/cloudify/7.0.0/types.yaml", "plugin:cloudify-vnf-suite"],
}
IMAGE = "local/busybox:1"
COMMAND = ["/bin/sh", "-c", "trap 'exit 0' TERM; mkdir -p /www; echo hi > /www/index.html; "
           "httpd -f -p 8080 -h /www & wait"]


def deployment(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels},
            "spec": {"terminationGracePeriodSeconds": 2, "containers": [{
                "name": "web", "image": IMAGE, "imagePullPolicy": "Never", "command": COMMAND,
                "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}}]}}},
    }


def master_node() -> dict[str, Any]:
    return {"type": "cloudify.kubernetes.Master", "properties": {"api": {
        "host": "https://127.0.0.1:6443", "token_file": str(K8S_TOKEN_FILE),
        "ca_file": str(K8S_CA)}}}


def kubernetes_nodes(indexes: range, prefix: str) -> dict[str, Any]:
    return {f"svc{index}": {
        "type": "cloudify.kubernetes.Microservice",
        "properties": {"config": deployment(f"{prefix}-{index}"), "timeout": 300},
        "relationships": [{"type": "cloudify.kubernetes.relationships.connected_to_master",
                           "target": "master"}],
    } for index in indexes}


def swarm_nodes(indexes: range, stability: float) -> dict[str, Any]:
    nodes: dict[str, Any] = {}
    for index in indexes:
        nodes[f"svc{index}"] = {
            "type": "cloudify.swarm.Microservice",
            "properties": {"replicas": 1,
                           "convergence": {"stability_seconds": stability, "timeout": 300}},
            "relationships": [{"type": "cloudify.relationships.contained_in", "target": "swarm"}],
        }
        nodes[f"svc{index}_container"] = {
            "type": "cloudify.swarm.Container",
            "properties": {"image": IMAGE, "command": COMMAND, "stop_grace_period": 5},
            "relationships": [{"type": "cloudify.swarm.relationships.contained_in_microservice",
                               "target": f"svc{index}"}],
        }
    return nodes


def render_blueprint(nodes: dict[str, Any]) -> str:
    return yaml.safe_dump({**HEADER, "node_templates": nodes}, sort_keys=False)


def kubernetes_blueprint(count: int, prefix: str) -> str:
    return render_blueprint({"master": master_node(), **kubernetes_nodes(range(count), prefix)})


def swarm_blueprint(count: int, stability: float = 1.5) -> str:
    return render_blueprint({"swarm": {"type": "cloudify.swarm.Manager"},
                             **swarm_nodes(range(count), stability)})


def mixed_split(count: int) -> tuple[int, int]:
    """(Kubernetes, Swarm) microservices of a mixed blueprint of `count`: half each, the odd
    one a Swarm service."""
    return count // 2, count - count // 2


def mixed_blueprint(count: int, prefix: str, stability: float = 1.5) -> str:
    """Both: a Master and a Swarm Manager, the first half of the microservices on Kubernetes
    (svc0..), the rest on Swarm, all in one deployment (one install runs them all at once)."""
    return render_blueprint(mixed_nodes(count, prefix, stability))


def mixed_nodes(count: int, prefix: str, stability: float = 1.5) -> dict[str, Any]:
    kube, _ = mixed_split(count)
    return {"master": master_node(), "swarm": {"type": "cloudify.swarm.Manager"},
            **kubernetes_nodes(range(kube), prefix), **swarm_nodes(range(kube, count), stability)}


NOOP_IMPLEMENTATION = "noop_bench.cloudify_noop_bench.noop"
NOOP_VERSION = "0.2.0"  # benchmarks/noop_plugin's: its operation also runs as a relationship's


def noop_interfaces(interfaces: dict[str, Any] | None) -> dict[str, Any]:
    """The same interfaces and mapped operations, each mapped to the empty operation, no inputs
    (an operation declared without an implementation maps nothing and stays out)."""
    found: dict[str, Any] = {}
    for name, operations in (interfaces or {}).items():
        mapped = {op: NOOP_IMPLEMENTATION for op, spec in (operations or {}).items()
                  if (spec.get("implementation") if isinstance(spec, dict) else spec)}
        if mapped:
            found[name] = mapped
    return found


def floor_names(names: list[str]) -> dict[str, str]:
    """Each type's floor name: floor.<its last part>, or where two would share that (the mixed
    graph's two Microservices) floor.<its name without cloudify.>."""
    short = {name: f"floor.{name.rsplit('.', 1)[1]}" for name in names}
    shared = [floor for floor in short.values() if list(short.values()).count(floor) > 1]
    return {name: f"floor.{name.removeprefix('cloudify.')}" if floor in shared else floor
            for name, floor in short.items()}


def floor_blueprint(nodes: dict[str, Any], plugin_yaml: dict[str, Any]) -> str:
    """The floor of a scale blueprint's `nodes` (issue 28): the same node templates and
    relationships, each node type and relationship that `plugin_yaml` (a parsed
    plugin_1_5.yaml) defines replaced by a floor one that maps the operations it maps (node
    interfaces, a relationship's source and target interfaces) to benchmarks/noop_plugin's
    empty operation, without properties; Cloudify's own relationships kept. What Cloudify's
    dispatch costs for the same graph and the same tasks."""
    types, relationships = plugin_yaml["node_types"], plugin_yaml["relationships"]
    kinds = list(dict.fromkeys(template["type"] for template in nodes.values()))
    links = list(dict.fromkeys(link["type"] for template in nodes.values()
                               for link in template.get("relationships", ())
                               if link["type"] in relationships))
    floor = floor_names(kinds + links)

    def floor_link(link: dict[str, Any]) -> dict[str, Any]:
        return {**link, "type": floor[link["type"]]} if link["type"] in relationships else link

    templates: dict[str, Any] = {}
    for node, template in nodes.items():
        templates[node] = {"type": floor[template["type"]]}
        if "relationships" in template:
            templates[node]["relationships"] = [floor_link(link)
                                                for link in template["relationships"]]
    node_types = {floor[kind]: {"derived_from": "cloudify.nodes.Root",
                                "interfaces": noop_interfaces(types[kind].get("interfaces"))}
                  for kind in kinds}
    floor_links = {floor[link]: floor_relationship(relationships[link]) for link in links}
    header = {**HEADER, "imports": [HEADER["imports"][0],
                                    f"plugin:cloudify-noop-bench?version={NOOP_VERSION}"]}
    return yaml.safe_dump({**header, "node_types": node_types, "relationships": floor_links,
                           "node_templates": templates}, sort_keys=False)


def floor_relationship(relationship: dict[str, Any]) -> dict[str, Any]:
    """Derived from the same base (Cloudify's graph is the same), each mapped operation of
    either side the empty one; a side that maps nothing stays out."""
    found: dict[str, Any] = {"derived_from": relationship["derived_from"]}
    for side in ("source_interfaces", "target_interfaces"):
        if interfaces := noop_interfaces(relationship.get(side)):
            found[side] = interfaces
    return found


def noop_kubernetes_blueprint(count: int, plugin_yaml: dict[str, Any]) -> str:
    """The floor of kubernetes_blueprint: a Master, `count` Microservices connected_to_master."""
    return floor_blueprint({"master": master_node(), **kubernetes_nodes(range(count), "floor")},
                           plugin_yaml)


def noop_swarm_blueprint(count: int, plugin_yaml: dict[str, Any]) -> str:
    """The floor of swarm_blueprint: a Manager, per index a Microservice contained_in it and a
    Container contained_in_microservice it."""
    return floor_blueprint({"swarm": {"type": "cloudify.swarm.Manager"},
                            **swarm_nodes(range(count), 1.5)}, plugin_yaml)


def noop_mixed_blueprint(count: int, plugin_yaml: dict[str, Any]) -> str:
    """The floor of mixed_blueprint: a Master and a Manager, half the microservices of each
    platform's shape."""
    return floor_blueprint(mixed_nodes(count, "floor"), plugin_yaml)
