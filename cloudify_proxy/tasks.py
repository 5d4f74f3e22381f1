"""Operations named in plugin.yaml for cloudify.nodes.DeploymentProxy and
cloudify.relationships.connected_to_proxy. Thin: read ctx, call the service layer, write
runtime properties. The only module of this plugin that imports cloudify's ctx machinery.

Where the upstream deployment is looked up (decided here, once):
1. the node's `manager` property, when set: that manager's REST API (on a manager, only one
   the administrator allows in CLOUDIFY_VNF_ALLOWED_MANAGERS: cloudify_shared.reach);
2. in the cfy local profile (cloudify.workflows.local marks every operation it runs:
   cloudify_shared.internals.is_local): the local profile's file storage. Its folder is the
   `storage_dir` property if set, else the folder of the FileStorage this very deployment runs
   from (cloudify_shared.internals.local_storage_dir: the cfy CLI's
   `$CFY_WORKDIR/.cloudify/profiles/local`), else `$CFY_WORKDIR` (default: home) +
   `.cloudify/profiles/local`, as the CLI computes it;
3. otherwise, on a manager: the manager itself, through cloudify.manager.get_rest_client(),
   as the execution that runs the operation (its tenant and execution token): allowed by
   construction, nothing to check.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from cloudify_proxy import waiter
from cloudify_proxy.config import PROXY_FIELDS, RESERVED, ProxyConfig, parse_proxy, parse_selection
from cloudify_proxy.local_source import LocalProfileSource, default_storage_dir
from cloudify_proxy.mapping import (
    copied_from,
    copied_names,
    describe_values,
    outputs_from_proxy,
    outputs_of,
    shown_properties,
)
from cloudify_proxy.rest_source import RestSource
from cloudify_proxy.source import DeploymentSource
from cloudify_shared import internals
from cloudify_shared.ctx_protocol import Ctx
from cloudify_shared.errors import UserError
from cloudify_shared.tasks import local_files, reach_policy, task

# The operation inputs a proxy operation takes: its properties' names (an input that is set
# wins over the property; plugin yaml declares deployment_id on create). Anything else is refused.
PROXY_INPUTS = tuple(PROXY_FIELDS)
RELATIONSHIP_INPUTS = ("inherit_outputs",)


def local_storage_dir(ctx: Ctx) -> str:
    return internals.local_storage_dir(ctx) or default_storage_dir()


def open_source(ctx: Ctx, config: ProxyConfig) -> DeploymentSource:
    if config.manager is not None:
        manager = config.manager
        if manager.ca_cert:  # requests opens it: the local-file policy first
            manager = dataclasses.replace(manager, ca_cert=local_files(ctx).local_path(
                manager.ca_cert, "properties.manager.ca_cert"))
        source = RestSource.from_settings(manager, reach_policy(ctx))  # the allowlist first
        if not manager.verify:
            ctx.logger.warning("TLS verification is OFF for manager %s: its identity is not "
                               "checked", manager.host)
        return source
    if internals.is_local(ctx):
        return LocalProfileSource(config.storage_dir or local_storage_dir(ctx))
    # The execution's own identity: get_rest_client() takes the tenant from the operation's
    # context and authenticates with the execution token. A deployment of another tenant is
    # not visible with it (it reads as missing); manager: {tenant, token or username/password}
    # reaches one with credentials for that tenant.
    from cloudify.manager import get_rest_client
    return RestSource(get_rest_client(), f"this manager (tenant '{ctx.tenant_name}', the "
                                         f"execution's own)")


def read_config(ctx: Ctx, inputs: dict[str, Any]) -> ProxyConfig:
    return parse_proxy(ctx.node.properties, inputs)


def forget(runtime_properties: Any, names: list[str]) -> None:
    for name in names:
        runtime_properties.pop(name, None)


@task(inputs=PROXY_INPUTS)
def proxy_create(ctx: Ctx, **inputs: Any) -> None:
    config = read_config(ctx, inputs)
    source = open_source(ctx, config)
    snapshot = waiter.wait_for_upstream(source, config, ctx.logger)
    props = waiter.copy_outputs(snapshot, config)
    ctx.instance.runtime_properties.update(props)
    ctx.logger.info("copied %d output(s) of deployment '%s' from %s: %s",
                    len(props["copied_outputs"]), config.deployment_id, source.describe(),
                    ", ".join(props["copied_outputs"]) or "(none)")
    if config.wants_capabilities:
        ctx.logger.info("copied %d capability(ies) of deployment '%s': %s",
                        len(props["copied_capabilities"]), config.deployment_id,
                        ", ".join(props["copied_capabilities"]) or "(none)")
    values = describe_values(copied_from(props), shown(config))
    if values:
        ctx.logger.info("values (log_values_of): %s", values)


def shown(config: ProxyConfig) -> set[str]:
    return shown_properties(config.log_values_of, config.selection, config.capabilities)


def day2_config(ctx: Ctx, inputs: dict[str, Any]) -> ProxyConfig:
    """The settings for an operation on a created proxy. Its properties as they are now (a
    deployment update may have changed them); when neither they nor the inputs name the
    upstream (create was given it as an input), the deployment it copied from."""
    runtime = ctx.instance.runtime_properties
    if not ctx.node.properties.get("deployment_id") and not inputs.get("deployment_id"):
        inputs = {**inputs, "deployment_id": runtime.get("deployment_id") or ""}
    return read_config(ctx, inputs)


@task(inputs=PROXY_INPUTS)
def proxy_refresh(ctx: Ctx, **inputs: Any) -> None:
    """pull, heal, update and cloudify.interfaces.proxy.refresh: copy again, with the current
    properties (a new deployment_id, inherit_outputs or inherit_capabilities take effect);
    logs names, not values."""
    config = day2_config(ctx, inputs)
    source = open_source(ctx, config)
    runtime = ctx.instance.runtime_properties
    was = runtime.get("deployment_id")
    new, changes = waiter.refresh_outputs(source, config, dict(runtime), ctx.logger)
    forget(runtime, list(changes.removed))
    runtime.update(new)
    moved = f" (was '{was}')" if was and was != config.deployment_id else ""
    ctx.logger.info("refreshed outputs of deployment '%s'%s: %s", config.deployment_id, moved,
                    changes.describe(shown(config)))


@task(inputs=PROXY_INPUTS)
def proxy_check_status(ctx: Ctx, **inputs: Any) -> None:
    """cloudify.interfaces.validation.check_status: the upstream is still there (and
    installed) and the copied outputs and capabilities equal its present ones; else a
    UserError naming what."""
    config = day2_config(ctx, inputs)
    source = open_source(ctx, config)
    runtime = ctx.instance.runtime_properties
    found = waiter.find_problems(source, config, dict(runtime))
    if found:
        raise UserError(f"the outputs copied from deployment '{config.deployment_id}' are not "
                        f"current: {'; '.join(found)}")
    capabilities = len(runtime.get("copied_capabilities") or [])
    ctx.logger.info("deployment '%s' on %s is there and the %d copied output(s)%s are current",
                    config.deployment_id, source.describe(),
                    len(runtime.get("copied_outputs") or []),
                    f" and {capabilities} copied capability(ies)" if capabilities else "")


@task(inputs=PROXY_INPUTS)
def proxy_check_drift(ctx: Ctx, **inputs: Any) -> list[str]:
    """cloudify.interfaces.lifecycle.check_drift: the same findings as check_status, returned
    (names only) rather than raised; an empty list means no drift."""
    config = day2_config(ctx, inputs)
    found = waiter.find_problems(open_source(ctx, config), config,
                                 dict(ctx.instance.runtime_properties))
    for line in found:
        ctx.logger.warning("drift: %s", line)
    ctx.logger.info("drift check: %d difference(s)", len(found))
    return found


@task
def proxy_delete(ctx: Ctx, **_: Any) -> None:
    runtime = ctx.instance.runtime_properties
    forget(runtime, [*copied_names(runtime), *RESERVED])


def relationship_selection(ctx: Ctx, inputs: dict[str, Any]) -> dict[str, Any]:
    selection = parse_selection(inputs.get("inherit_outputs") or [], "inputs.inherit_outputs")
    return outputs_from_proxy(ctx.target.instance.runtime_properties, selection)


@task(inputs=RELATIONSHIP_INPUTS)
def connect_to_proxy(ctx: Ctx, **inputs: Any) -> None:
    copied = relationship_selection(ctx, inputs)
    ctx.source.instance.runtime_properties.update(copied)
    ctx.logger.info("copied %s from proxy '%s'", ", ".join(sorted(copied)) or "nothing",
                    ctx.target.node.id)


@task(inputs=RELATIONSHIP_INPUTS)
def disconnect_from_proxy(ctx: Ctx, **inputs: Any) -> None:
    # Lenient on purpose: uninstall must get through even if the proxy never copied anything.
    selection = parse_selection(inputs.get("inherit_outputs") or [], "inputs.inherit_outputs")
    names = outputs_of(ctx.target.instance.runtime_properties, selection)
    forget(ctx.source.instance.runtime_properties, names)
