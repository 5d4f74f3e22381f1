"""Operations named in plugin.yaml for the Kubernetes types. Thin: read ctx, call the service
layer (microservice, engine), write runtime properties. The only modules of this plugin that
import cloudify."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cloudify_kubernetes import drift, engine, naming, stored_inputs
from cloudify_kubernetes.backend import ClusterBackend, ObjectRef
from cloudify_kubernetes.connection import (
    ApiSettings,
    Settings,
    check_kubeconfig,
    from_info,
    parse_connection,
    public_info,
    wants_inline,
    warn_if_insecure,
    with_local_paths,
)
from cloudify_kubernetes.credentials import register_inline_credentials
from cloudify_kubernetes.field_validation import STRICT, check_fields
from cloudify_kubernetes.microservice import (
    SETTING_FIELDS,
    MicroserviceSettings,
    for_microservice,
    open_backend,
    parse_settings,
    removal_record,
    render,
    scale_overrides,
)
from cloudify_kubernetes.schema_cache import SchemaCache
from cloudify_shared.ctx_protocol import Ctx
from cloudify_shared.errors import UserError
from cloudify_shared.local_files import LocalFiles, is_host_path
from cloudify_shared.ownership import ownership_labels
from cloudify_shared.tasks import (
    has_type,
    instance_count,
    local_files,
    reach_policy,
    task,
    tenant_of,
)

INFO = "kubernetes_info"
NAME_SUFFIX = "name_suffix"
REMOVAL = "removal"  # what stop leaves for delete (microservice.removal_record)
DAY2_INPUTS = ("config_files", "config", "env", "env_containers", "overrides")
MASTER_TYPE = "cloudify.kubernetes.Master"
RELATIONSHIP = "cloudify.kubernetes.relationships.connected_to_master"


def read_checked_file(path: str) -> str:
    """A file that with_local_paths has already put through the local-file policy."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror}") from None


def resource_reader(ctx: Ctx) -> Any:
    """Descriptor files: blueprint resources, or host paths under the local-file policy."""
    def read(path: str) -> str:
        return local_files(ctx).read_text(path, "properties.config_files[].file")
    return read


def check_blueprint_kubeconfig(files: LocalFiles, connection: ApiSettings, where: str) -> None:
    """A kubeconfig the blueprint wrote (inline or a resource; not an allowed host file, which is
    the administrator's) holds only the keys of an allowlist (no command, no auth-provider, no
    proxy) and names only host files the policy allows."""
    if connection.kubeconfig_content is not None:
        check_kubeconfig(connection.kubeconfig_content, f"{where}.kubeconfig_content",
                         files.host_path)
    elif connection.kubeconfig and not is_host_path(connection.kubeconfig):
        check_kubeconfig(files.read_text(connection.kubeconfig, f"{where}.kubeconfig"),
                         f"{where}.kubeconfig ({connection.kubeconfig})", files.host_path)


@contextmanager
def connected(ctx: Ctx, connection: Settings, where: str = "properties",
              validate: bool = True) -> Iterator[ClusterBackend]:
    """A backend for the connection, its local files under the local-file policy and its
    endpoint under the reach policy (`where`: the settings' origin, for messages; `validate`:
    see open_backend)."""
    files = local_files(ctx)
    if files.on_manager and isinstance(connection, ApiSettings):
        check_blueprint_kubeconfig(files, connection, f"{where}.api")
    checked = with_local_paths(connection, files.local_path, where)
    backend = open_backend(checked, read_checked_file, reach_policy(ctx), where, validate)
    try:
        yield backend
    finally:
        backend.close()


# ---- Master ---------------------------------------------------------------------------------

@task
def master_create(ctx: Ctx, **_: Any) -> None:
    props = ctx.node.properties
    register_inline_credentials(props.get("api"))
    register_inline_credentials(props.get("ssh"))
    connection = parse_connection(props.get("api"), props.get("ssh"))
    warn_if_insecure(connection, ctx.logger)
    with connected(ctx, connection) as backend:
        backend.get(ObjectRef("v1", "Namespace", "default"))
    ctx.instance.runtime_properties[INFO] = public_info(connection)
    ctx.logger.info("kubernetes reachable at %s", connection.endpoint)


@task
def master_delete(ctx: Ctx, **_: Any) -> None:
    """Not mapped since issue 28 (the Master made nothing to delete; an unmapped operation
    costs no task). Kept for deployments whose plan, parsed with an earlier plugin.yaml, still
    names it."""
    ctx.instance.runtime_properties.pop(INFO, None)


@task
def connect_to_master(ctx: Ctx, info_key: str = INFO, **_: Any) -> None:
    """Relationship preconfigure: copy the target's connection info (under `info_key`)."""
    info = ctx.target.instance.runtime_properties.get(info_key)
    if info is None:
        raise UserError(f"target {ctx.target.node.id} has no runtime property {info_key!r}")
    # the Master's node is read only for inline credentials the info says it keeps
    inline = _inline(ctx.target.node) if wants_inline(info) else None
    from_info(info, f"{ctx.target.node.id}.{info_key}", inline=inline)
    ctx.source.instance.runtime_properties[INFO] = info


# ---- Microservice -----------------------------------------------------------------------------

def _inline(node: Any) -> dict[str, Any] | None:
    """A Master's inline credentials (api token / kubeconfig content, ssh private_key): they
    are not in kubernetes_info, so the Microservice takes them from the Master's properties."""
    if MASTER_TYPE not in node.type_hierarchy:
        return None
    inline = {**(node.properties.get("api") or {}), **(node.properties.get("ssh") or {})}
    return inline or None


def master_connection(ctx: Ctx) -> Settings:
    """The cluster connection connect_to_master recorded (kubernetes_info), with the Master's
    inline credentials when it has them (registered as secrets): a Microservice's and a
    HelmRelease's."""
    info = ctx.instance.runtime_properties.get(INFO)
    if info is None:
        raise UserError(f"no cluster: add a {RELATIONSHIP} relationship to a Master or a proxy")
    inline = None
    if wants_inline(info):  # only then is the Master's node read
        masters = [r.target.node for r in ctx.instance.relationships
                   if has_type(r, RELATIONSHIP)]
        inline = _inline(masters[0]) if masters else None
    register_inline_credentials(inline)
    return from_info(info, INFO, inline)


def _connection(ctx: Ctx, settings: MicroserviceSettings) -> Settings:
    connection = for_microservice(master_connection(ctx), settings)
    warn_if_insecure(connection, ctx.logger)
    return connection


def _labels(ctx: Ctx) -> dict[str, str]:
    return ownership_labels(ctx.deployment.id, ctx.instance.id, tenant_of(ctx))


def _settings(ctx: Ctx, inputs: dict[str, Any]) -> MicroserviceSettings:
    used = ctx.instance.runtime_properties.get("inputs_used") or {}
    return parse_settings(ctx.node.properties, {**used, **inputs})


def _known(ctx: Ctx) -> list[engine.Applied]:
    return [engine.Applied.from_dict(d)
            for d in ctx.instance.runtime_properties.get("objects") or []]


def _record(ctx: Ctx) -> engine.Recorder:
    def record(applied: list[engine.Applied]) -> None:
        ctx.instance.runtime_properties["objects"] = [a.as_dict() for a in applied]
        ctx.instance.update()
    return record


def _name_suffix(ctx: Ctx) -> str:
    """Chosen when the instance first applies, then kept (naming.choose_suffix)."""
    props = ctx.instance.runtime_properties
    if NAME_SUFFIX not in props:
        props[NAME_SUFFIX] = naming.choose_suffix(ctx.instance.id, instance_count(ctx),
                                                  bool(props.get("objects")))
    return str(props[NAME_SUFFIX])


def _render(ctx: Ctx, settings: MicroserviceSettings) -> list[dict[str, Any]]:
    return render(settings, resource_reader(ctx), _labels(ctx), _name_suffix(ctx))


def _deploy(ctx: Ctx, settings: MicroserviceSettings, apply: Any = None) -> None:
    """Render, check the fields against the server's schema (field_validation), then apply
    with `apply` (engine.install, or engine.heal), and record the facts."""
    origins: list[str] = []
    objects = render(settings, resource_reader(ctx), _labels(ctx), _name_suffix(ctx), origins)
    strict = settings.field_validation == STRICT
    with connected(ctx, _connection(ctx, settings), INFO, validate=strict) as backend:
        objects = stored_inputs.restore(backend, objects, settings.namespace)
        check_fields(backend, objects, origins, settings.options, SchemaCache(), ctx.logger)
        applied = (apply or engine.install)(backend, objects, _labels(ctx), settings.options,
                                            ctx.logger, _record(ctx), _known(ctx))
        facts = engine.describe(backend, applied)
    ctx.instance.runtime_properties.update(facts)


def _day2(inputs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in inputs.items() if v is not None and k in DAY2_INPUTS}


def _keep_inputs(ctx: Ctx, used: dict[str, Any]) -> None:
    """inputs_used holds what day-2 operations need, never a value that may be secret (env
    values, Secret data): stored_inputs decides, and restores those from the live objects."""
    ctx.instance.runtime_properties["inputs_used"] = stored_inputs.stored(used)


@task(inputs=SETTING_FIELDS)
def microservice_create(ctx: Ctx, **inputs: Any) -> None:
    """Not mapped since issue 28: start renders and checks the same before it touches the
    cluster. Kept for deployments whose plan, parsed with an earlier plugin.yaml, still names it."""
    settings = _settings(ctx, inputs)
    suffix = _name_suffix(ctx)
    if settings.config_files or settings.config:
        objects = _render(ctx, settings)
        ctx.logger.info("%d object(s) to apply%s: %s", len(objects),
                        f" (names of this instance end in {suffix})" if suffix else "",
                        ", ".join(str(ObjectRef.of(o)) for o in objects))


@task(inputs=SETTING_FIELDS)
def microservice_start(ctx: Ctx, **inputs: Any) -> None:
    settings = _settings(ctx, inputs)
    if REMOVAL in ctx.instance.runtime_properties:  # a stop ran without delete (restart workflow)
        _finish_removal(ctx)
    _deploy(ctx, settings)
    _keep_inputs(ctx, _day2(inputs))


@task(inputs=SETTING_FIELDS)
def microservice_stop(ctx: Ctx, **inputs: Any) -> None:
    """Ask for the workloads' deletion; delete (microservice_delete), which every Cloudify
    workflow runs next, waits until they are gone and removes their prerequisites. So an
    uninstall asks for every microservice's deletion before it waits for any (issue 15)."""
    known = _known(ctx)
    if not known:  # nothing was applied (e.g. create failed on bad properties): nothing to parse
        return
    settings = _settings(ctx, inputs)
    with connected(ctx, _connection(ctx, settings), INFO) as backend:
        engine.remove(backend, known, settings.options.timeout, ctx.logger, _labels(ctx),
                      settings.keep_volume_claims, wait=False)
    props = ctx.instance.runtime_properties
    props[REMOVAL] = removal_record(settings)
    for key in ("services", "pods"):
        props.pop(key, None)


@task
def microservice_delete(ctx: Ctx, **_: Any) -> None:
    """Finish the removal stop began (or all of it, when stop did not run): wait until every
    object is gone, prerequisites and claims last. The objects stay recorded until then, so a
    failed or resumed delete picks up where it stopped."""
    _finish_removal(ctx)
    for key in ("inputs_used", "drift", NAME_SUFFIX, INFO):
        ctx.instance.runtime_properties.pop(key, None)


def _finish_removal(ctx: Ctx) -> None:
    """Wait until every recorded object is gone (asking again for what is left), prerequisites
    and claims last, with the settings stop left (or the node's); then forget them."""
    props = ctx.instance.runtime_properties
    known = _known(ctx)
    if known:
        record = props.get(REMOVAL)
        settings = parse_settings(record, {}) if record is not None else _settings(ctx, {})
        with connected(ctx, _connection(ctx, settings), INFO) as backend:
            engine.remove(backend, known, settings.options.timeout, ctx.logger, _labels(ctx),
                          settings.keep_volume_claims)
    for key in ("objects", "services", "pods", REMOVAL):
        props.pop(key, None)


@task(inputs=DAY2_INPUTS)
def microservice_update(ctx: Ctx, **inputs: Any) -> None:
    """Re-apply in place from the node's current properties (a deployment update changes them),
    with the inputs of earlier day-2 operations and these; Deployments roll."""
    used = {**(ctx.instance.runtime_properties.get("inputs_used") or {}), **_day2(inputs)}
    _deploy(ctx, parse_settings(ctx.node.properties, used))
    _keep_inputs(ctx, used)


@task
def microservice_heal(ctx: Ctx, **_: Any) -> None:
    """Re-apply what is missing or unhealthy; healthy objects are left untouched."""
    _deploy(ctx, _settings(ctx, {}), engine.heal)


@task
def microservice_check_status(ctx: Ctx, **_: Any) -> None:
    """Fails, naming what is wrong, unless every object of the instance exists and is ready."""
    known = _known(ctx)
    if not known:
        raise UserError("no objects recorded: the instance is not installed")
    settings = _settings(ctx, {})
    with connected(ctx, _connection(ctx, settings), INFO) as backend:
        problems = engine.check_status(backend, known, settings.wait_for_load_balancer)
    if problems:
        raise UserError(f"{len(problems)} of {len(known)} object(s) unhealthy: "
                        + "; ".join(problems))
    ctx.logger.info("check_status: %d object(s) healthy", len(known))


@task
def microservice_scale(ctx: Ctx, replicas: int, kind: str | None = None,
                       name: str | None = None, **_: Any) -> None:
    used = dict(ctx.instance.runtime_properties.get("inputs_used") or {})
    settings = parse_settings(ctx.node.properties, used)
    objects = render(settings, resource_reader(ctx), _labels(ctx))  # the descriptors' names
    extra = [o for o in used.get("overrides") or []
             if not (isinstance(o, dict) and o.get("path") == ["spec", "replicas"])]
    used["overrides"] = extra + scale_overrides(objects, replicas, kind, name)
    _deploy(ctx, parse_settings(ctx.node.properties, used))
    _keep_inputs(ctx, used)
    ctx.logger.info("scaled to %d replica(s)", replicas)


@task
def microservice_check_drift(ctx: Ctx, **_: Any) -> list[str]:
    """Differences desired (current properties) vs live, secret values masked; returned for
    Cloudify's check_drift workflow (empty: no drift) and kept in the runtime property drift."""
    settings = _settings(ctx, {})
    objects = _render(ctx, settings)
    with connected(ctx, _connection(ctx, settings), INFO) as backend:
        objects = stored_inputs.restore(backend, objects, settings.namespace, strict=False)
        found = drift.drift(backend, objects, settings.namespace, _known(ctx))
    ctx.instance.runtime_properties["drift"] = found
    for line in found:
        ctx.logger.warning("drift: %s", line)
    ctx.logger.info("drift check: %d difference(s)", len(found))
    return found
