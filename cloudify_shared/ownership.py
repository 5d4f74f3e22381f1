"""Ownership labels: every object a plugin creates on a cluster carries them, so that a re-run
adopts instead of duplicating, uninstall finds everything, and a leak check can list leftovers.
The same keys serve Kubernetes labels and Docker labels. Plain Python: no I/O.
"""
from __future__ import annotations

import re

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "cloudify-vnf-suite"
DEPLOYMENT = "cloudify.co/deployment"
NODE_INSTANCE = "cloudify.co/node-instance"

_INVALID = re.compile(r"[^A-Za-z0-9_.-]")


def label_value(text: str) -> str:
    """A Kubernetes-valid label value for `text` (<= 63 chars, alphanumeric at both ends)."""
    value = _INVALID.sub("-", text)[:63].strip("-_.")
    return value or "none"


def ownership_labels(deployment_id: str, node_instance_id: str) -> dict[str, str]:
    return {
        MANAGED_BY: MANAGED_BY_VALUE,
        DEPLOYMENT: label_value(deployment_id),
        NODE_INSTANCE: label_value(node_instance_id),
    }


def deployment_selector(deployment_id: str) -> str:
    """A Kubernetes label selector for everything one deployment made."""
    return f"{MANAGED_BY}={MANAGED_BY_VALUE},{DEPLOYMENT}={label_value(deployment_id)}"
