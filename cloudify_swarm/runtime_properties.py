"""Runtime properties the Swarm node types write: what `get_attribute` can read.

A declared list, kept next to the code that writes them (tasks.py, tasks_lifecycle.py,
context/links.py, and the facts of docker_engine.swarm_facts / services.service_facts /
stacks.deploy_stack). The reference pages (docs/reference, made by
`python -m cloudify_shared.offline.reference`) show PUBLISHED; INTERNAL names bookkeeping the
operations keep for themselves (not an interface: it may change). Plain data, no imports.
tests/unit/test_runtime_properties.py fails when a tasks module writes a literal name that
is in neither.
"""
from __future__ import annotations

_SERVICE = ("The Swarm service: id, name, published_ports, tasks (the running ones: id, slot, "
            "state, desired_state, error, node_id, node, container_id, addresses, ports).")

PUBLISHED: dict[str, dict[str, str]] = {
    "cloudify.swarm.Manager": {
        "swarm_info": "endpoint (docker_host, timeout, TLS file paths or the names of the "
                      "inline PEM fields; no key material), swarm_id, node_id, managers, nodes, "
                      "engine_version. Join tokens are never stored.",
    },
    "cloudify.swarm.Microservice": {
        "endpoint": "The Engine endpoint it uses (as swarm_info's, no key material).",
        "service_name": "The service's name (or, with compose_file, the stack's).",
        "service": _SERVICE + " Copied from its Container.",
        "stack": "With compose_file: name, and services, compose key -> the service as "
                 "`service` describes it.",
        "object_ids": "The networks, secrets and configs it uses: kind (Network, Secret, "
                      "Config) -> name -> id.",
        "name_suffix": "What every name this instance creates ends in: '' for a node's only "
                       "instance. Kept for the instance's life.",
    },
    "cloudify.swarm.Container": {
        "service": _SERVICE,
    },
    "cloudify.swarm.Port": {
        "port": "The port: target, published, protocol, mode.",
    },
}

INTERNAL: dict[str, dict[str, str]] = {
    "cloudify.swarm.Microservice": {
        "service_config": "The settings create recorded; later operations read them.",
        "linked_ports": "Ports of related Port nodes, as create found them.",
        "container": "The instance id of the Container that claimed it.",
        "invalid": "Why it cannot be deployed (a second Container), when so.",
    },
    "cloudify.swarm.Container": {
        "env_input_keys": "Names (never values) of env given as operation inputs.",
        "create_env_keys": "Names (never values) of the create operation's env input.",
        "removing": "Set by stop until delete (or start) has waited for the service to go.",
    },
}
