"""Ownership labels: every object a plugin creates on a cluster carries them, so that a re-run
adopts instead of duplicating, uninstall finds everything, and a leak check can list leftovers.
The same keys serve Kubernetes labels and Docker labels. Plain Python: no I/O.

Ownership never collides (issue 24): a value that is not a valid label value as it is (too long,
or with characters a label cannot hold) becomes a readable prefix and a hash of the whole text,
never a cut that two ids share; and the tenant is a label of its own, so two tenants' deployments
of the same name own different objects.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "cloudify-vnf-suite"
DEPLOYMENT = "cloudify.co/deployment"
NODE_INSTANCE = "cloudify.co/node-instance"
TENANT = "cloudify.co/tenant"
OWNER_KEYS = (DEPLOYMENT, TENANT)

_VALID = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?")
_INVALID = re.compile(r"[^A-Za-z0-9_.-]")
HASH_LENGTH = 10


def label_value(text: str) -> str:
    """A Kubernetes-valid label value for `text` (<= 63 chars, alphanumeric at both ends): the
    text itself when it is one, else a prefix of it and a hash of all of it (so that two texts
    never share a value)."""
    if _VALID.fullmatch(text):
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_LENGTH]
    prefix = _INVALID.sub("-", text)[:63 - HASH_LENGTH - 1].strip("-_.")
    return f"{prefix}-{digest}" if prefix else digest


def ownership_labels(deployment_id: str, node_instance_id: str,
                     tenant: str | None = None) -> dict[str, str]:
    labels = {
        MANAGED_BY: MANAGED_BY_VALUE,
        DEPLOYMENT: label_value(deployment_id),
        NODE_INSTANCE: label_value(node_instance_id),
    }
    if tenant:
        labels[TENANT] = label_value(tenant)
    return labels


def deployment_selector(deployment_id: str) -> str:
    """A Kubernetes label selector for everything one deployment made."""
    return f"{MANAGED_BY}={MANAGED_BY_VALUE},{DEPLOYMENT}={label_value(deployment_id)}"


def foreign_owner(labels: Mapping[str, str] | None, ours: Mapping[str, str]) -> str | None:
    """Who else owns an object carrying `labels`, when it is another deployment's (of this suite,
    by its ownership labels) than the one `ours` names: 'deployment D (tenant T)'; None when it
    is ours or nobody's. A key only one side has (objects labelled before the tenant label) is
    not compared."""
    labels = labels or {}
    if labels.get(MANAGED_BY) != MANAGED_BY_VALUE:
        return None
    if all(labels[key] == ours[key] for key in OWNER_KEYS if key in ours and key in labels):
        return None
    tenant = labels.get(TENANT)
    return f"deployment {labels.get(DEPLOYMENT, '?')}" + (f" (tenant {tenant})" if tenant else "")
