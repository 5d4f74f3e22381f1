"""Operations named in plugin.yaml for the Kubernetes types. Thin: read ctx, call the service
layer (microservice, engine), write runtime properties. The only modules of this plugin that
import cloudify."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cloudify.exceptions import HttpException

from cloudify_kubernetes import engine
from cloudify_kubernetes.backend import ClusterBackend, ObjectRef
from cloudify_kubernetes.connection import (
    Settings,
    from_info,
    parse_connection,
    public_info,
    warn_if_insecure,
)
from cloudify_kubernetes.microservice import (
    MicroserviceSettings,
    for_microservice,
    open_backend,
    parse_settings,
    render,
    scale_overrides,
)
from cloudify_shared.errors import UserError
from cloudify_shared.ownership import ownership_labels
from cloudify_shared.redaction import register_secret
from cloudify_shared.tasks import task

INFO = "kubernetes_info"
MASTER_TYPE = "cloudify.kubernetes.Master"
RELATIONSHIP = "cloudify.kubernetes.relationships.connected_to_master"


def read_local_file(path: str) -> str:
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as handle:
            return handle.read()
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror}") from None


def resource_reader(ctx: Any) -> Any:
    def read(path: str) -> str:
        try:
            return str(ctx.get_resource(path).decode("utf-8"))
        except (OSError, HttpException) as error:
            raise UserError(f"blueprint resource {path!r} not found ({error})") from None
    return read


def _register_inline_secrets(api: Any) -> None:
    """Only the inline token and kubeconfig content are secret (never URLs or file paths)."""
    api = api or {}
    content = api.get("kubeconfig_content")
    values = [api.get("token"), content]
    if isinstance(content, dict):
        values += [v for user in content.get("users") or [] for v in (user.get("user") or {}).values()]
    for value in values:
        register_secret(value if isinstance(value, str) else None)


@contextmanager
def connected(connection: Settings) -> Iterator[ClusterBackend]:
    backend = open_backend(connection, read_local_file)
    try:
        yield backend
    finally:
        backend.close()


# ---- Master ---------------------------------------------------------------------------------

@task
def master_create(ctx: Any, **_: Any) -> None:
    props = ctx.node.properties
    _register_inline_secrets(props.get("api"))
    connection = parse_connection(props.get("api"), props.get("ssh"))
    warn_if_insecure(connection, ctx.logger)
    with connected(connection) as backend:
        backend.get(ObjectRef("v1", "Namespace", "default"))
    ctx.instance.runtime_properties[INFO] = public_info(connection)
    ctx.logger.info("kubernetes reachable at %s", connection.endpoint)


@task
def master_delete(ctx: Any, **_: Any) -> None:
    ctx.instance.runtime_properties.pop(INFO, None)


@task
def connect_to_master(ctx: Any, info_key: str = INFO, **_: Any) -> None:
    """Relationship preconfigure: copy the target's connection info (under `info_key`)."""
    info = ctx.target.instance.runtime_properties.get(info_key)
    if info is None:
        raise UserError(f"target {ctx.target.node.id} has no runtime property {info_key!r}")
    from_info(info, f"{ctx.target.node.id}.{info_key}", inline=_inline(ctx.target.node))
    ctx.source.instance.runtime_properties[INFO] = info


# ---- Microservice -----------------------------------------------------------------------------

def _inline(node: Any) -> dict[str, Any] | None:
    api = node.properties.get("api") if MASTER_TYPE in node.type_hierarchy else None
    return dict(api) if api else None


def _connection(ctx: Any, settings: MicroserviceSettings) -> Settings:
    info = ctx.instance.runtime_properties.get(INFO)
    masters = [r.target.node for r in ctx.instance.relationships if RELATIONSHIP in r.type_hierarchy]
    if info is None:
        raise UserError(f"no cluster: add a {RELATIONSHIP} relationship to a Master or a proxy")
    inline = _inline(masters[0]) if masters else None
    _register_inline_secrets(inline)
    connection = for_microservice(from_info(info, INFO, inline), settings)
    warn_if_insecure(connection, ctx.logger)
    return connection


def _labels(ctx: Any) -> dict[str, str]:
    return ownership_labels(ctx.deployment.id, ctx.instance.id)


def _settings(ctx: Any, inputs: dict[str, Any]) -> MicroserviceSettings:
    used = ctx.instance.runtime_properties.get("inputs_used") or {}
    return parse_settings(ctx.node.properties, {**used, **inputs})


def _known(ctx: Any) -> list[engine.Applied]:
    return [engine.Applied.from_dict(d) for d in ctx.instance.runtime_properties.get("objects") or []]


def _record(ctx: Any) -> engine.Recorder:
    def record(applied: list[engine.Applied]) -> None:
        ctx.instance.runtime_properties["objects"] = [a.as_dict() for a in applied]
        ctx.instance.update()
    return record


def _deploy(ctx: Any, settings: MicroserviceSettings) -> None:
    objects = render(settings, resource_reader(ctx), _labels(ctx))
    with connected(_connection(ctx, settings)) as backend:
        applied = engine.install(backend, objects, _labels(ctx), settings.options, ctx.logger,
                                 _record(ctx), _known(ctx))
        facts = engine.describe(backend, applied)
    ctx.instance.runtime_properties.update(facts)


@task
def microservice_create(ctx: Any, **inputs: Any) -> None:
    settings = _settings(ctx, inputs)
    if settings.config_files or settings.config:
        objects = render(settings, resource_reader(ctx), _labels(ctx))
        ctx.logger.info("%d object(s) to apply: %s", len(objects),
                        ", ".join(str(ObjectRef.of(o)) for o in objects))


@task
def microservice_start(ctx: Any, **inputs: Any) -> None:
    settings = _settings(ctx, inputs)
    _deploy(ctx, settings)
    ctx.instance.runtime_properties["inputs_used"] = {k: v for k, v in inputs.items() if v is not None
                                                      and k in ("config_files", "config", "env",
                                                                "env_containers", "overrides")}


@task
def microservice_stop(ctx: Any, **inputs: Any) -> None:
    known = _known(ctx)
    if not known:  # nothing was applied (e.g. create failed on bad properties): nothing to parse
        return
    settings = _settings(ctx, inputs)
    with connected(_connection(ctx, settings)) as backend:
        engine.remove(backend, known, settings.options.timeout, ctx.logger)
    for key in ("objects", "services", "pods"):
        ctx.instance.runtime_properties.pop(key, None)


@task
def microservice_delete(ctx: Any, **_: Any) -> None:
    for key in ("objects", "services", "pods", "inputs_used", "drift", INFO):
        ctx.instance.runtime_properties.pop(key, None)


@task
def microservice_update(ctx: Any, **inputs: Any) -> None:
    """Re-apply with new overrides / env / files and wait for the rollout."""
    changes = {k: v for k, v in inputs.items() if v is not None and k in (
        "config_files", "config", "env", "env_containers", "overrides")}
    used = {**(ctx.instance.runtime_properties.get("inputs_used") or {}), **changes}
    _deploy(ctx, parse_settings(ctx.node.properties, used))
    ctx.instance.runtime_properties["inputs_used"] = used


@task
def microservice_scale(ctx: Any, replicas: int, kind: str | None = None,
                       name: str | None = None, **_: Any) -> None:
    used = dict(ctx.instance.runtime_properties.get("inputs_used") or {})
    settings = parse_settings(ctx.node.properties, used)
    objects = render(settings, resource_reader(ctx), _labels(ctx))
    extra = [o for o in used.get("overrides") or []
             if not (isinstance(o, dict) and o.get("path") == ["spec", "replicas"])]
    used["overrides"] = extra + scale_overrides(objects, replicas, kind, name)
    _deploy(ctx, parse_settings(ctx.node.properties, used))
    ctx.instance.runtime_properties["inputs_used"] = used
    ctx.logger.info("scaled to %d replica(s)", replicas)


@task
def microservice_check_drift(ctx: Any, **_: Any) -> list[str]:
    settings = _settings(ctx, {})
    objects = render(settings, resource_reader(ctx), _labels(ctx))
    with connected(_connection(ctx, settings)) as backend:
        found = engine.drift(backend, objects, settings.namespace)
    ctx.instance.runtime_properties["drift"] = found
    for line in found:
        ctx.logger.warning("drift: %s", line)
    ctx.logger.info("drift check: %d difference(s)", len(found))
    return found
