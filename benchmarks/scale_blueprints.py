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
    kube, _ = mixed_split(count)
    return render_blueprint({"master": master_node(), "swarm": {"type": "cloudify.swarm.Manager"},
                             **kubernetes_nodes(range(kube), prefix),
                             **swarm_nodes(range(kube, count), stability)})


NOOP_IMPLEMENTATION = "noop_bench.cloudify_noop_bench.noop"
NOOP_VERSION = "0.2.0"  # benchmarks/noop_plugin's: its operation also runs as a relationship's
KUBERNETES_TYPES = ("cloudify.kubernetes.Master", "cloudify.kubernetes.Microservice")
KUBERNETES_RELATIONSHIP = "cloudify.kubernetes.relationships.connected_to_master"


def noop_interfaces(interfaces: dict[str, Any]) -> dict[str, Any]:
    """The same interfaces and operations, each mapped to the empty operation, no inputs."""
    return {name: {op: NOOP_IMPLEMENTATION for op in operations}
            for name, operations in (interfaces or {}).items()}


def noop_kubernetes_blueprint(count: int, plugin_yaml: dict[str, Any]) -> str:
    """The floor of kubernetes_blueprint (issue 28): the same nodes and relationship, each
    operation that `plugin_yaml` (a parsed plugin_1_5.yaml) maps for the Master, the
    Microservice and connected_to_master mapped to benchmarks/noop_plugin's empty operation.
    What Cloudify's dispatch costs for the same graph and the same tasks."""
    types, relationships = plugin_yaml["node_types"], plugin_yaml["relationships"]
    relationship = relationships[KUBERNETES_RELATIONSHIP]
    header = {**HEADER, "imports": [HEADER["imports"][0],
                                    f"plugin:cloudify-noop-bench?version={NOOP_VERSION}"]}
    node_types = {f"floor.{name.rsplit('.', 1)[1]}": {
        "derived_from": "cloudify.nodes.Root",
        "interfaces": noop_interfaces(types[name].get("interfaces"))} for name in KUBERNETES_TYPES}
    nodes: dict[str, Any] = {"master": {"type": "floor.Master"}}
    nodes.update({f"svc{index}": {
        "type": "floor.Microservice",
        "relationships": [{"type": "floor.connected_to_master", "target": "master"}],
    } for index in range(count)})
    return yaml.safe_dump({**header, "node_types": node_types, "relationships": {
        "floor.connected_to_master": {
            "derived_from": relationship["derived_from"],
            "source_interfaces": noop_interfaces(relationship.get("source_interfaces"))}},
        "node_templates": nodes}, sort_keys=False)
