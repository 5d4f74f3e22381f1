"""Runtime properties the Kubernetes node types write: what `get_attribute` can read.

A declared list, kept next to the code that writes them (tasks.py, tasks_helm.py, and the facts
of engine.describe / helm_release.describe). The reference pages (docs/reference, made by
`python -m cloudify_shared.offline.reference`) show PUBLISHED; INTERNAL names bookkeeping the
operations keep for themselves (not an interface: it may change). Plain data, no imports.
tests/unit/test_runtime_properties.py fails when a tasks module writes a literal name that
is in neither.
"""
from __future__ import annotations

_FACTS = {
    "objects": "Every object of the instance: apiVersion, kind, namespace, name, uid.",
    "services": "Each Service by name: namespace, cluster_ip, type, ports (name, port, targetPort, "
                "nodePort, protocol).",
    "pods": "The pods of the workloads: name, namespace, pod_ip, host_ip, node, owner "
            "(the object that made them).",
    "drift": "The differences the last check_drift found, one line each (secret and env values "
             "only as \"differs\"); [] when none.",
    "kubernetes_info": "The connection, copied from the Master (or proxy) by "
                       "connected_to_master.",
}

PUBLISHED: dict[str, dict[str, str]] = {
    "cloudify.kubernetes.Master": {
        "kubernetes_info": "How to connect: mode (api or ssh), endpoint, and the api or ssh "
                           "settings without inline secrets (a token, kubeconfig content or SSH "
                           "key stays in the Master's properties). connected_to_master copies it.",
    },
    "cloudify.kubernetes.Microservice": {
        "kubernetes_info": _FACTS["kubernetes_info"],
        "objects": _FACTS["objects"] + " Each also has preexisting (adopted: delete leaves "
                   "it in place) and pending (made by an operation not finished yet).",
        "services": _FACTS["services"],
        "pods": _FACTS["pods"],
        "drift": _FACTS["drift"],
        "name_suffix": "What every object name of this instance ends in: '' for a node's only "
                       "instance. Chosen once, kept for the instance's life.",
    },
    "cloudify.kubernetes.HelmRelease": {
        "kubernetes_info": _FACTS["kubernetes_info"],
        "release_name": "The release's name (chosen once, at create).",
        "namespace": "The release's namespace.",
        "revision": "The deployed revision (helm history numbers them).",
        "status": "helm's status of the release (deployed, ...).",
        "chart": "The chart's name.",
        "chart_version": "The chart's version.",
        "app_version": "The chart's appVersion.",
        "helm_version": "The version of the helm binary that ran.",
        "objects": _FACTS["objects"],
        "services": _FACTS["services"],
        "pods": _FACTS["pods"],
        "drift": _FACTS["drift"],
    },
}

INTERNAL: dict[str, dict[str, str]] = {
    "cloudify.kubernetes.Microservice": {
        "inputs_used": "The day-2 inputs later operations apply again (never a secret value).",
        "removal": "What stop leaves for delete (the settings of the removal).",
    },
}
