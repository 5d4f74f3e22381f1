"""Operations named in plugin.yaml for cloudify.nodes.DeploymentProxy and
cloudify.relationships.connected_to_proxy. Thin: read ctx, call the service layer, write
runtime properties. The only module of this plugin that imports cloudify's ctx machinery.

Where the upstream deployment is looked up (decided here, once):
1. the node's `manager` property, when set: that manager's REST API;
2. in the cfy local profile (`ctx._local`, set by cloudify.workflows.local for every operation
   it runs): the local profile's file storage. Its folder is the `storage_dir` property if
   set, else the folder of the FileStorage this very deployment runs from (the cfy CLI's
   `$CFY_WORKDIR/.cloudify/profiles/local`), else `$CFY_WORKDIR` (default: home) +
   `.cloudify/profiles/local`, as the CLI computes it;
3. otherwise, on a manager: the manager itself, through cloudify.manager.get_rest_client().
"""
from __future__ import annotations

from typing import Any

from cloudify_proxy import waiter
from cloudify_proxy.config import RESERVED, ProxyConfig, parse_proxy, parse_selection
from cloudify_proxy.local_source import LocalProfileSource, default_storage_dir
from cloudify_proxy.mapping import outputs_from_proxy, outputs_of
from cloudify_proxy.rest_source import RestSource
from cloudify_proxy.source import DeploymentSource
from cloudify_shared.tasks import task


def local_storage_dir(ctx: Any) -> str:
    storage = getattr(getattr(ctx, "_endpoint", None), "storage", None)
    root = getattr(storage, "_root_storage_dir", None)  # set on the CLI's FileStorage only
    return root if isinstance(root, str) else default_storage_dir()


def open_source(ctx: Any, config: ProxyConfig) -> DeploymentSource:
    if config.manager is not None:
        if not config.manager.verify:
            ctx.logger.warning("TLS verification is OFF for manager %s: its identity is not "
                               "checked", config.manager.host)
        return RestSource.from_settings(config.manager)
    if getattr(ctx, "_local", False):
        return LocalProfileSource(config.storage_dir or local_storage_dir(ctx))
    from cloudify.manager import get_rest_client
    return RestSource(get_rest_client(), "this manager")


def read_config(ctx: Any, inputs: dict[str, Any]) -> ProxyConfig:
    return parse_proxy(ctx.node.properties, inputs)


def forget(runtime_properties: Any, names: list[str]) -> None:
    for name in names:
        runtime_properties.pop(name, None)


@task
def proxy_create(ctx: Any, **inputs: Any) -> None:
    config = read_config(ctx, inputs)
    source = open_source(ctx, config)
    snapshot = waiter.wait_for_upstream(source, config, ctx.logger)
    props = waiter.copy_outputs(snapshot, config)
    ctx.instance.runtime_properties.update(props)
    ctx.logger.info("copied %d output(s) of deployment '%s' from %s: %s",
                    len(props["copied_outputs"]), config.deployment_id, source.describe(),
                    ", ".join(props["copied_outputs"]) or "(none)")


@task
def proxy_refresh(ctx: Any, **inputs: Any) -> None:
    config = read_config(ctx, inputs)
    source = open_source(ctx, config)
    runtime = ctx.instance.runtime_properties
    new, changes = waiter.refresh_outputs(source, config, dict(runtime), ctx.logger)
    forget(runtime, list(changes.removed))
    runtime.update(new)
    ctx.logger.info("refreshed outputs of deployment '%s': %s", config.deployment_id,
                    changes.describe())


@task
def proxy_delete(ctx: Any, **_: Any) -> None:
    runtime = ctx.instance.runtime_properties
    forget(runtime, [*(runtime.get("copied_outputs") or []), *RESERVED])


def relationship_selection(ctx: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    selection = parse_selection(inputs.get("inherit_outputs") or [], "inputs.inherit_outputs")
    return outputs_from_proxy(ctx.target.instance.runtime_properties, selection)


@task
def connect_to_proxy(ctx: Any, **inputs: Any) -> None:
    copied = relationship_selection(ctx, inputs)
    ctx.source.instance.runtime_properties.update(copied)
    ctx.logger.info("copied %s from proxy '%s'", ", ".join(sorted(copied)) or "nothing",
                    ctx.target.node.id)


@task
def disconnect_from_proxy(ctx: Any, **inputs: Any) -> None:
    # Lenient on purpose: uninstall must get through even if the proxy never copied anything.
    selection = parse_selection(inputs.get("inherit_outputs") or [], "inputs.inherit_outputs")
    names = outputs_of(ctx.target.instance.runtime_properties, selection)
    forget(ctx.source.instance.runtime_properties, names)
