"""Registering the credentials a Master's connection holds inline, for redaction, before
anything logs. They may come from get_secret, which cannot be told apart at run time, so every
one is registered: the token, the SSH private key, the kubeconfig content (a mapping or YAML
text) and every value of its users (token, password, client-key-data, auth-provider settings).
URLs, file paths and names are not. Plain Python: no ctx, no I/O.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cloudify_shared.errors import UserError
from cloudify_shared.limits import load_yaml
from cloudify_shared.redaction import register_secret


def register_inline_credentials(api: Mapping[str, Any] | None) -> None:
    api = api or {}
    for name in ("token", "private_key"):  # private_key: the ssh setting's, given the same way
        register_secret(api.get(name) if isinstance(api.get(name), str) else None)
    content = api.get("kubeconfig_content")
    if isinstance(content, str):
        register_secret(content)
        try:  # under the YAML bounds: an alias bomb is refused when the kubeconfig is used
            content = load_yaml(content, "api.kubeconfig_content")
        except UserError:
            return
    if isinstance(content, Mapping):
        for user in content.get("users") or []:
            if isinstance(user, Mapping):
                register_values(user.get("user"))


def register_values(data: Any) -> None:
    """Every string inside `data` (a kubeconfig user's settings)."""
    if isinstance(data, str):
        register_secret(data)
    elif isinstance(data, Mapping):
        for value in data.values():
            register_values(value)
    elif isinstance(data, list):
        for value in data:
            register_values(value)
