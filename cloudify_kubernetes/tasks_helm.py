"""Operations of cloudify.kubernetes.HelmRelease: thin, read ctx, call helm_release with a
HelmCli whose kubeconfig and values are private files of the operation (mode 600 in a mode-700
folder, removed when the operation ends). The connection is the Master's (api mode; kubectl
over SSH is refused: helm talks to the API server itself).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urljoin

from cloudify_kubernetes import helm_history, helm_release, helm_repo
from cloudify_kubernetes.backend import ObjectRef
from cloudify_kubernetes.connection import SshSettings, warn_if_insecure
from cloudify_kubernetes.helm_cli import HelmCli, find_helm
from cloudify_kubernetes.helm_oci import is_oci, registry_config, registry_of
from cloudify_kubernetes.helm_values import (
    HelmSettings,
    kubeconfig_for,
    load_values_file,
    merge_values,
    parse_settings,
    register_secret_values,
    release_name_for,
    set_values,
)
from cloudify_kubernetes.tasks import INFO, connected, master_connection
from cloudify_shared import limits
from cloudify_shared.ctx_protocol import Ctx
from cloudify_shared.errors import UserError
from cloudify_shared.go_yaml import dump_for_sigs
from cloudify_shared.local_files import LocalFiles, is_host_path
from cloudify_shared.naming import instance_suffix
from cloudify_shared.ownership import ownership_labels
from cloudify_shared.reach import CHARTS
from cloudify_shared.tasks import instance_count, local_files, reach_policy, task, tenant_of

RELEASE = "release_name"
FACTS = ("release_name", "namespace", "revision", "status", "chart", "chart_version",
         "app_version", "helm_version", "objects", "services", "pods", "drift")
WHY_NOT_SSH = ("a HelmRelease needs the Master's api connection: helm talks to the API server "
               "itself, and running helm on the master over SSH would need helm there and the "
               "values on its disk; connect it to a Master with api settings")


def _settings(ctx: Ctx) -> HelmSettings:
    settings = parse_settings(ctx.node.properties)
    register_secret_values(settings.values)
    register_secret_values(set_values(settings.set))
    return settings


def _release_name(ctx: Ctx, settings: HelmSettings) -> str:
    """Chosen once (create) and kept: a later change of instance count never renames it."""
    props = ctx.instance.runtime_properties
    if RELEASE not in props:
        suffix = instance_suffix(ctx.instance.id, instance_count(ctx))
        props[RELEASE] = release_name_for(ctx.instance.id, settings.release_name, suffix)
    return str(props[RELEASE])


def _connection(ctx: Ctx) -> Any:
    connection = master_connection(ctx)
    if isinstance(connection, SshSettings):
        raise UserError(WHY_NOT_SSH)
    warn_if_insecure(connection, ctx.logger)
    return connection


def _read(path: str | None) -> bytes | None:
    if not path:
        return None
    with open(path, "rb") as handle:
        return handle.read()


def _kubeconfig(files: LocalFiles, backend: Any) -> str:
    """A private kubeconfig with what the suite's own client uses (its server already allowed
    by the reach policy, its files already under the local-file policy)."""
    config = backend.api_client.configuration
    token = config.get_api_key_with_prefix("authorization") or None
    if token and token.startswith("Bearer "):
        token = token[len("Bearer "):]
    data = kubeconfig_for(config.host, token, _read(config.ssl_ca_cert), _read(config.cert_file),
                          _read(config.key_file), bool(config.verify_ssl),
                          getattr(config, "tls_server_name", None))
    return files.private_file(dump_for_sigs(data).encode(), "kubeconfig")


def _repository_chart(ctx: Ctx, files: LocalFiles, settings: HelmSettings) -> str:
    """The chart of a chart repository, fetched (every URL under the reach policy) into a
    private file."""
    policy = reach_policy(ctx)
    data, url = helm_repo.fetch_chart(
        settings.repository, settings.chart, settings.chart_version,
        lambda value, field: policy.check(CHARTS, value, field), min(settings.timeout, 120),
        settings.repository_credentials)
    ctx.logger.info("chart %s %s fetched from %s (%d bytes, digest checked)", settings.chart,
                    settings.chart_version, url, len(data))
    return files.private_file(data, f"{settings.chart}-{settings.chart_version}.tgz")


def _check_reach(ctx: Ctx, settings: HelmSettings) -> None:
    """The registry or repository the chart comes from, under the reach policy (checked again
    on each URL when it is used)."""
    policy = reach_policy(ctx)
    if is_oci(settings.chart):
        policy.check(CHARTS, settings.chart, "properties.chart")
    elif settings.repository:
        field = "properties.repository"
        index = urljoin(helm_repo.check_repository(settings.repository, field), "index.yaml")
        policy.check(CHARTS, index, field)


def _oci_chart(ctx: Ctx, files: LocalFiles, settings: HelmSettings, helm: HelmCli) -> str:
    """The chart of an OCI registry, pulled by helm with a registry config of this operation
    (a private file holding the node's registry_credentials for that registry only)."""
    reach_policy(ctx).check(CHARTS, settings.chart, "properties.chart")
    registry = registry_of(settings.chart, "properties.chart")
    config = files.private_file(registry_config(registry, settings.registry_credentials),
                                "registry.json")
    path = helm.pull(settings.chart, settings.chart_version, config, settings.plain_http,
                     min(settings.timeout, 120))
    # the same bound as a chart of a repository or any file a blueprint names, before helm reads it
    limits.check_size(os.path.getsize(path), f"properties.chart: {settings.chart} "
                      f"{settings.chart_version}")
    ctx.logger.info("chart %s %s pulled from %s%s", settings.chart, settings.chart_version,
                    registry, " with the node's registry_credentials"
                    if settings.registry_credentials else "")
    return path


def _chart(files: LocalFiles, chart: str) -> str:
    field = "properties.chart"
    if "://" in chart:
        raise UserError(f"{field}: {chart!r}: a chart of a repository is named by its name "
                        "here and the repository URL in properties.repository (with "
                        "properties.chart_version); a chart of an OCI registry by an oci:// "
                        "reference")
    if is_host_path(chart):
        path = files.host_path(chart, field)
        if os.path.isdir(path):
            if files.on_manager:
                helm_release.check_chart_dir(path, files.host_path, field)
        elif not os.path.isfile(path):
            raise UserError(f"{field}: {chart!r} is neither a chart directory nor a chart file")
        return path
    if not chart.endswith((".tgz", ".tar.gz")):
        raise UserError(f"{field}: {chart!r}: a chart of the blueprint must be packaged (.tgz, "
                        "`helm package`): an operation reads blueprint files one by one and "
                        "cannot read a directory of them")
    return files.local_path(chart, field)


def _values_files(files: LocalFiles, settings: HelmSettings) -> list[str]:
    """values_files, then values, then set (the last wins), each as a private file."""
    paths = []
    for index, item in enumerate(settings.values_files):
        where = f"properties.values_files[{index}]"
        data = load_values_file(files.read_text(item, where), f"{where} ({item})")
        register_secret_values(data)
        paths.append(files.private_file(dump_for_sigs(data).encode(), "values.yaml"))
    for name, data in (("values", settings.values), ("set", set_values(settings.set))):
        if data:
            paths.append(files.private_file(dump_for_sigs(data).encode(), f"{name}.yaml"))
    return paths


def _wanted(files: LocalFiles, settings: HelmSettings) -> helm_release.Wanted:
    """The chart and values the node's properties ask for now (a chart of a repository or
    registry by its exact version, a chart of the blueprint or host by its Chart.yaml)."""
    layers = [load_values_file(files.read_text(item, f"properties.values_files[{index}]"),
                               f"properties.values_files[{index}] ({item})")
              for index, item in enumerate(settings.values_files)]
    values = merge_values([*layers, settings.values, set_values(settings.set)])
    if settings.repository or is_oci(settings.chart):
        name = settings.chart.rstrip("/").rsplit("/", 1)[-1]
        return helm_release.Wanted(name, settings.chart_version, values)
    return helm_release.Wanted(*helm_release.chart_metadata(_chart(files, settings.chart)),
                               values)


def _spec(ctx: Ctx, settings: HelmSettings, chart: str = "", values: list[str] | None = None
          ) -> helm_release.ReleaseSpec:
    source = (f"{settings.chart} {settings.chart_version} of {settings.repository}"
              if settings.repository else f"{settings.chart} {settings.chart_version}"
              if is_oci(settings.chart) else settings.chart)
    return helm_release.ReleaseSpec(
        _release_name(ctx, settings), settings.namespace, chart, source, values or [],
        ownership_labels(ctx.deployment.id, ctx.instance.id, tenant_of(ctx)), settings.timeout,
        settings.keep_volume_claims)


@contextmanager
def _helm(ctx: Ctx, settings: HelmSettings, backend: Any) -> Iterator[tuple[HelmCli, str]]:
    """A HelmCli with a private kubeconfig for `backend`'s cluster, and helm's version."""
    files = local_files(ctx)
    helm = HelmCli(find_helm(settings.helm, files.on_manager), _kubeconfig(files, backend))
    try:
        yield helm, helm.version()
    finally:
        helm.close()


def _recorded(ctx: Ctx) -> list[ObjectRef]:
    return [ObjectRef.from_dict(d) for d in ctx.instance.runtime_properties.get("objects") or []]


@task
def helm_create(ctx: Ctx, **_: Any) -> None:
    """Check the settings and the helm binary (found, recent enough) before anything is made
    (the connection comes later: connected_to_master copies it at preconfigure)."""
    settings = _settings(ctx)
    _check_reach(ctx, settings)
    name = _release_name(ctx, settings)
    helm = HelmCli(find_helm(settings.helm, local_files(ctx).on_manager), "")
    try:
        version = helm.version()
    finally:
        helm.close()
    ctx.logger.info("release %s in namespace %s, chart %s, helm %s (%s)", name,
                    settings.namespace, settings.chart, version, helm.binary)


def _install(ctx: Ctx) -> None:
    """upgrade --install with the node's current properties, then wait until every object of
    the release is ready (a failure leaves the previous revision, or nothing)."""
    settings = _settings(ctx)
    files = local_files(ctx)
    with connected(ctx, _connection(ctx), INFO) as backend, \
            _helm(ctx, settings, backend) as (helm, version):
        chart = (_repository_chart(ctx, files, settings) if settings.repository
                 else _oci_chart(ctx, files, settings, helm) if is_oci(settings.chart)
                 else _chart(files, settings.chart))
        spec = _spec(ctx, settings, chart, _values_files(files, settings))
        release, refs = helm_release.install(backend, helm, spec, ctx.logger)
        facts = helm_release.describe(backend, release, refs, version)
    ctx.instance.runtime_properties.update(facts)
    ctx.logger.info("release %s revision %d ready (%d object(s))", release.name,
                    release.revision, len(refs))


@task
def helm_start(ctx: Ctx, **_: Any) -> None:
    """Install (or, on a re-run, upgrade) the release until every object is ready."""
    _install(ctx)


@task
def helm_update(ctx: Ctx, **_: Any) -> None:
    """Day 2 (heal, or update after a deployment update changed the properties): an upgrade
    to the current properties; objects deleted out of band are made again, a failure rolls
    back to the last deployed revision."""
    _install(ctx)


@task
def helm_delete(ctx: Ctx, **_: Any) -> None:
    """helm uninstall, then wait until every object is gone; then forget the release. helm is
    needed only when the release is there."""
    props = ctx.instance.runtime_properties
    if RELEASE in props and INFO in props:
        settings = _settings(ctx)
        spec = _spec(ctx, settings)
        with connected(ctx, _connection(ctx), INFO) as backend:
            if helm_history.release_history(backend, spec.namespace, spec.name):
                with _helm(ctx, settings, backend) as (helm, _version):
                    helm_release.uninstall(backend, helm, spec, _recorded(ctx), ctx.logger)
            else:
                helm_release.uninstall(backend, None, spec, _recorded(ctx), ctx.logger)
    for key in FACTS:
        props.pop(key, None)


@task
def helm_check_status(ctx: Ctx, **_: Any) -> None:
    """Fails, naming what is wrong, unless the release is deployed and every object ready."""
    settings = _settings(ctx)
    with connected(ctx, _connection(ctx), INFO) as backend:
        problems = helm_release.check_status(backend, _spec(ctx, settings), _recorded(ctx))
    if problems:
        raise UserError(f"{len(problems)} problem(s): " + "; ".join(problems))
    ctx.logger.info("check_status: release %s deployed, %d object(s) ready",
                    ctx.instance.runtime_properties.get(RELEASE), len(_recorded(ctx)))


@task
def helm_check_drift(ctx: Ctx, **_: Any) -> list[str]:
    """Differences between the live objects and the release's manifest (secret and env values
    only as "differs"), and the chart or values paths the node's properties changed since the
    release's latest revision (a deployment update); returned for Cloudify's check_drift
    workflow (empty: no drift) and kept in the runtime property drift."""
    settings = _settings(ctx)
    wanted = _wanted(local_files(ctx), settings)
    with connected(ctx, _connection(ctx), INFO) as backend, \
            _helm(ctx, settings, backend) as (helm, _version):
        found = helm_release.release_drift(backend, helm, _spec(ctx, settings), wanted)
    ctx.instance.runtime_properties["drift"] = found
    for line in found:
        ctx.logger.warning("drift: %s", line)
    ctx.logger.info("drift check: %d difference(s)", len(found))
    return found


@task
def helm_rollback(ctx: Ctx, revision: Any = None, **_: Any) -> None:
    """Roll the release back to `revision` and wait until every object is ready (a rollback
    that does not get ready is undone)."""
    if isinstance(revision, bool) or not isinstance(revision, int) or revision < 1:
        raise UserError(f"inputs.revision: {revision!r}: required, the number (1 or more) of a "
                        "revision of the release (helm history lists them)")
    settings = _settings(ctx)
    with connected(ctx, _connection(ctx), INFO) as backend, \
            _helm(ctx, settings, backend) as (helm, version):
        release, refs = helm_release.rollback(backend, helm, _spec(ctx, settings), revision,
                                              ctx.logger)
        facts = helm_release.describe(backend, release, refs, version)
    ctx.instance.runtime_properties.update(facts)
    ctx.logger.info("release %s rolled back to revision %d as revision %d, ready (%d "
                    "object(s))", release.name, revision, release.revision, len(refs))
