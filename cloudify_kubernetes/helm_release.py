"""One Helm release, with the suite's readiness and the suite's rules for what a failure leaves.

- install is `helm upgrade --install` without `--wait`; then the suite's readiness engine
  (waits.wait_ready) waits on every object of the release's manifest, and ends at once on a
  failing pod (crash loop, missing image, unschedulable) with its events and last log lines.
- A failed first install uninstalls the release and waits until its objects (and their pods)
  are gone: nothing is left. A failed upgrade rolls back to the last deployed revision and waits
  until that is ready again. A failure before helm made a new revision (a values schema, a
  template error) has nothing to undo.
- A release an earlier, killed run left in pending-install/-upgrade/-rollback is recovered
  first: rolled back to its last deployed revision, or uninstalled when it has none (so is a
  release whose first install failed).
- The release carries this node instance's ownership labels (helm's release labels): a release
  of that name made by another node instance, deployment or tenant, or by hand, is never
  taken over, upgraded or uninstalled.
- Every uninstall (delete, scale-in, the undo of a failed first install, the recovery of one)
  then deletes the PersistentVolumeClaims the release's StatefulSets made and waits until they
  are gone, unless keep_volume_claims (logged by name, left). A claim is the release's when it
  is named <template>-<statefulset>-<ordinal> for a StatefulSet and template of the release's
  manifest, in that StatefulSet's namespace, and was made at or after the release began (the
  chart's objects carry no labels of ours): one older than the release is someone else's data
  and is never deleted (volume_claims). The release began when its revision 1 was stored (that
  Secret's creationTimestamp, the API server's clock), or, once helm pruned revision 1, at the
  first_deployed its latest record keeps (helm's clock).
The release's state is read from its storage Secrets (helm_history). Service layer: no ctx;
helm is behind the Helm protocol (helm_cli.HelmCli).
"""
from __future__ import annotations

import logging
import os
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cloudify_kubernetes import drift, engine
from cloudify_kubernetes.backend import ClusterBackend, ObjectRef, UnknownKind
from cloudify_kubernetes.helm_cli import Release
from cloudify_kubernetes.helm_history import (
    Revision,
    last_deployed,
    owner_problem,
    release_began,
    release_history,
)
from cloudify_kubernetes.helm_values import differing_paths, manifest_objects, placed_ref_fields
from cloudify_kubernetes.volume_claims import ClaimOwner
from cloudify_kubernetes.waits import PodSet, problem, wait_gone, wait_ready
from cloudify_shared.errors import PluginError, UserError, WaitTimeout, WorkloadFailed
from cloudify_shared.limits import load_yaml

PENDING = ("pending-install", "pending-upgrade", "pending-rollback")
FAILURES = (UserError, WorkloadFailed, WaitTimeout)
MAX_CHART_ENTRIES = 10_000
MAX_CHART_YAML = 1_000_000  # bytes of a Chart.yaml read for its name and version


class Helm(Protocol):
    def upgrade_install(self, release: str, chart: str, namespace: str,
                        values_files: Sequence[str], labels: Mapping[str, str],
                        timeout: float) -> Release: ...

    def status(self, release: str, namespace: str) -> Release: ...

    def manifest(self, release: str, namespace: str) -> str: ...

    def values(self, release: str, namespace: str) -> dict[str, Any]: ...

    def uninstall(self, release: str, namespace: str, timeout: float) -> None: ...

    def rollback(self, release: str, revision: int, namespace: str, timeout: float) -> None: ...


@dataclass(frozen=True)
class ReleaseSpec:
    name: str
    namespace: str
    chart: str          # a local path helm reads (a private copy of a blueprint resource)
    chart_source: str   # what the blueprint named, for messages
    values_files: list[str]
    labels: dict[str, str]
    timeout: float
    keep_volume_claims: bool = False


@dataclass(frozen=True)
class Wanted:
    """What the node's current properties ask for: the chart's name and version and the
    user-supplied values (merged as helm merges them); None where it is not known."""

    chart: str | None
    chart_version: str | None
    values: dict[str, Any]


def check_owner(history: Sequence[Revision], spec: ReleaseSpec) -> None:
    other = owner_problem(history, spec.labels)
    if other:
        raise UserError(f"release {spec.name} in namespace {spec.namespace} already exists and "
                        f"belongs to {other}: it is never taken over; choose another release_name")


def manifest_refs(backend: ClusterBackend, text: str, namespace: str,
                  where: str) -> list[ObjectRef]:
    return [ref for ref, _obj in placed_objects(backend, text, namespace, where)]


def placed_objects(backend: ClusterBackend, text: str, namespace: str,
                   where: str) -> list[tuple[ObjectRef, dict[str, Any]]]:
    """The manifest's objects, each with its ref (in the namespace it is placed in)."""
    def namespaced(api_version: str, kind: str) -> bool:
        try:
            return backend.namespaced(api_version, kind)
        except UnknownKind:  # its CRD is not there (a failed install): as the manifest says
            return True
    return [(ObjectRef(*placed_ref_fields(obj, namespaced, namespace)), obj)
            for obj in manifest_objects(text, where)]


def claim_owners(backend: ClusterBackend, helm: Helm, spec: ReleaseSpec,
                 logger: logging.Logger) -> list[ClaimOwner]:
    """The StatefulSets of the release's manifest, whose claims made since the release began
    are the release's (none, logged, when that time cannot be read)."""
    placed = placed_objects(backend, helm.manifest(spec.name, spec.namespace), spec.namespace,
                            f"the manifest of release {spec.name}")
    sets = [(ref, obj) for ref, obj in placed if ref.kind == "StatefulSet"]
    began = release_began(backend, spec.namespace, spec.name) if sets else None
    if sets and began is None:
        logger.warning("release %s: when it began cannot be read from its records: the "
                       "PersistentVolumeClaims of its StatefulSets are left in place", spec.name)
    return [owner for ref, obj in sets
            if began and (owner := ClaimOwner.of(ref, obj, began)) is not None]


def release_refs(backend: ClusterBackend, helm: Helm, spec: ReleaseSpec) -> list[ObjectRef]:
    return manifest_refs(backend, helm.manifest(spec.name, spec.namespace), spec.namespace,
                         f"the manifest of release {spec.name}")


def with_uids(backend: ClusterBackend, refs: Sequence[ObjectRef]) -> list[ObjectRef]:
    """The refs with the live objects' uids (a delete then waits for those very objects)."""
    result = []
    for ref in refs:
        live = backend.get(ref)
        result.append(ObjectRef.of({**live, "apiVersion": ref.api_version, "kind": ref.kind})
                      if live else ref)
    return result


def recover(backend: ClusterBackend, helm: Helm, spec: ReleaseSpec, history: list[Revision],
            logger: logging.Logger) -> bool:
    """Put right what an earlier run left (pending-*, or a failed first install); True when
    something was done."""
    if not history:
        return False
    latest, deployed = history[-1], last_deployed(history)
    if deployed is None and latest.status != "deployed":
        logger.warning("release %s is %s (revision %d) and was never deployed (an earlier run "
                       "was stopped or failed): uninstalling it first", spec.name, latest.status,
                       latest.number)
        remove_release(backend, helm, spec, release_refs(backend, helm, spec), logger)
        return True
    if latest.status in PENDING and deployed is not None:
        logger.warning("release %s is %s (revision %d; an earlier run was stopped): rolling back "
                       "to revision %d first", spec.name, latest.status, latest.number, deployed)
        helm.rollback(spec.name, deployed, spec.namespace, spec.timeout)
        return True
    return False


def install(backend: ClusterBackend, helm: Helm, spec: ReleaseSpec,
            logger: logging.Logger) -> tuple[Release, list[ObjectRef]]:
    """Install or upgrade until every object is ready; on failure leave the cluster as it was
    (see the module docstring) and raise the cause."""
    history = release_history(backend, spec.namespace, spec.name)
    check_owner(history, spec)
    if recover(backend, helm, spec, history, logger):
        history = release_history(backend, spec.namespace, spec.name)
    previous = last_deployed(history)
    latest = history[-1].number if history else 0
    logger.info("helm upgrade --install %s (chart %s) in namespace %s%s", spec.name,
                spec.chart_source, spec.namespace,
                f" over revision {previous}" if previous else "")
    try:
        release = helm.upgrade_install(spec.name, spec.chart, spec.namespace, spec.values_files,
                                       spec.labels, spec.timeout)
        # the manifest upgrade printed (its JSON holds it), else `helm get manifest`
        refs = (manifest_refs(backend, release.manifest, spec.namespace,
                              f"the manifest of release {spec.name}")
                if release.manifest else release_refs(backend, helm, spec))
        logger.info("release %s revision %d (chart %s %s): %d object(s): %s", spec.name,
                    release.revision, release.chart, release.chart_version, len(refs),
                    ", ".join(map(str, refs)) or "none")
        if refs:
            wait_ready(backend, refs, spec.timeout, logger)
    except FAILURES as error:
        undo(backend, helm, spec, previous, latest, logger, error)
        raise
    return release, with_uids(backend, refs)


def undo(backend: ClusterBackend, helm: Helm, spec: ReleaseSpec, previous: int | None,
         latest: int, logger: logging.Logger, error: PluginError) -> None:
    """After a failure: uninstall a first install, roll an upgrade back to `previous`; nothing
    when helm made no new revision (beyond `latest`)."""
    history = release_history(backend, spec.namespace, spec.name)
    if not history or history[-1].number <= latest:
        logger.error("helm made no new revision of %s: nothing to undo", spec.name)
        return
    # the reason now, before the clean-up (waiting until objects are gone can take a while)
    logger.error("release %s failed: %s", spec.name, error)
    try:
        if previous is None:
            logger.error("install failed: uninstalling release %s and waiting until its objects "
                         "are gone", spec.name)
            remove_release(backend, helm, spec, release_refs(backend, helm, spec), logger)
        else:
            logger.error("upgrade failed: rolling release %s back to revision %d", spec.name,
                         previous)
            helm.rollback(spec.name, previous, spec.namespace, spec.timeout)
            refs = release_refs(backend, helm, spec)
            if refs:
                wait_ready(backend, refs, spec.timeout, logger, judge_pods=False)
    except (PluginError, OSError) as cleanup:
        logger.error("undo incomplete: %s", cleanup)
        raise type(error)(f"{error}\n  (undo incomplete, a retry or uninstall removes the rest: "
                          f"{cleanup})") from error


def remove_release(backend: ClusterBackend, helm: Helm, spec: ReleaseSpec,
                   refs: Sequence[ObjectRef], logger: logging.Logger) -> None:
    """helm uninstall, then wait until every object of the release and its pods are gone;
    then its StatefulSets' claims go too (waited on), unless keep_volume_claims."""
    live = [obj for ref in refs if (obj := _get(backend, ref)) is not None]
    pod_sets = [pods for obj in live if (pods := PodSet.of(obj)) is not None]
    targets = [ObjectRef.of(obj) for obj in live]
    owners = claim_owners(backend, helm, spec, logger)  # before uninstall drops the records
    helm.uninstall(spec.name, spec.namespace, spec.timeout)
    logger.info("release %s uninstalled; waiting for %d object(s) to be gone", spec.name,
                len(targets))
    wait_gone(backend, targets, pod_sets, spec.timeout, logger)
    if owners:
        engine.remove_claims(backend, owners, {}, spec.keep_volume_claims, spec.timeout, logger)


def _get(backend: ClusterBackend, ref: ObjectRef) -> dict[str, Any] | None:
    try:
        live = backend.get(ref)
    except UnknownKind:
        return None
    return {**live, "apiVersion": ref.api_version, "kind": ref.kind} if live else None


def uninstall(backend: ClusterBackend, helm: Helm | None, spec: ReleaseSpec,
              recorded: Sequence[ObjectRef], logger: logging.Logger) -> None:
    """Uninstall this instance's release (a release of that name another owns is left, logged)
    and wait until its objects are gone; safe to repeat. `helm` may be None when there is no
    release (then only the recorded objects are waited on)."""
    history = release_history(backend, spec.namespace, spec.name)
    other = owner_problem(history, spec.labels)
    if other:
        logger.warning("release %s in namespace %s belongs to %s: left in place", spec.name,
                       spec.namespace, other)
        return
    if not history or helm is None:
        wait_gone(backend, list(recorded), [], spec.timeout, logger)
        return
    refs = list(recorded) or release_refs(backend, helm, spec)
    remove_release(backend, helm, spec, refs, logger)


def check_status(backend: ClusterBackend, spec: ReleaseSpec,
                 recorded: Sequence[ObjectRef]) -> list[str]:
    """What is wrong: the release not deployed, an object missing or not ready."""
    history = release_history(backend, spec.namespace, spec.name)
    if not history:
        return [f"release {spec.name} in namespace {spec.namespace}: missing"]
    found = []
    if history[-1].status != "deployed":
        found.append(f"release {spec.name}: {history[-1].status} (revision {history[-1].number})")
    for ref in recorded:
        reason = problem(backend, ref)
        if reason:
            found.append(f"{ref}: {reason}")
    return found


def rollback(backend: ClusterBackend, helm: Helm, spec: ReleaseSpec, revision: int,
             logger: logging.Logger) -> tuple[Release, list[ObjectRef]]:
    """Roll this instance's release back to `revision` (one helm still keeps) and wait until
    every object is ready; a rollback that does not get ready is itself rolled back to the
    revision that was deployed before."""
    history = release_history(backend, spec.namespace, spec.name)
    if not history:
        raise UserError(f"release {spec.name} in namespace {spec.namespace}: missing, nothing "
                        "to roll back")
    check_owner(history, spec)
    latest, previous = history[-1], last_deployed(history)
    if latest.status in PENDING or previous is None:
        raise UserError(f"release {spec.name} is {latest.status} (revision {latest.number}): "
                        "run start (it recovers the release) before a rollback")
    kept = [r.number for r in history]
    if revision not in kept:
        raise UserError(f"inputs.revision: {revision} is not a revision of release {spec.name} "
                        f"(helm keeps {', '.join(map(str, kept))})")
    logger.info("helm rollback %s to revision %d (revision %d is %s)", spec.name, revision,
                latest.number, latest.status)
    try:
        helm.rollback(spec.name, revision, spec.namespace, spec.timeout)
        refs = release_refs(backend, helm, spec)
        if refs:
            wait_ready(backend, refs, spec.timeout, logger)
    except FAILURES as error:
        undo(backend, helm, spec, previous, latest.number, logger, error)
        raise
    return helm.status(spec.name, spec.namespace), with_uids(backend, refs)


def release_drift(backend: ClusterBackend, helm: Helm, spec: ReleaseSpec,
                  wanted: Wanted | None = None) -> list[str]:
    """The live objects against the release's manifest, one line per difference (secret and
    env values only as "differs"), a release that is not deployed, and (`wanted`) a chart or
    values the node's properties now name that the release was not made with (what a
    deployment update changed: Cloudify updates an instance only when its check_drift says)."""
    history = release_history(backend, spec.namespace, spec.name)
    if not history:
        return [f"release {spec.name} in namespace {spec.namespace}: missing"]
    check_owner(history, spec)
    found = []
    if history[-1].status != "deployed":
        found.append(f"release {spec.name}: {history[-1].status} (revision {history[-1].number})")
    if wanted is not None:
        found += properties_drift(helm, spec, wanted)
    objects = manifest_objects(helm.manifest(spec.name, spec.namespace),
                               f"the manifest of release {spec.name}")
    return found + drift.drift(backend, objects, spec.namespace)


def properties_drift(helm: Helm, spec: ReleaseSpec, wanted: Wanted) -> list[str]:
    """The chart (name, version) and values paths where the release's latest revision differs
    from the node's properties (paths only: a value may be secret)."""
    release = helm.status(spec.name, spec.namespace)
    found = []
    made = (release.chart, release.chart_version)
    asked = (wanted.chart or release.chart, wanted.chart_version or release.chart_version)
    if asked != made:
        found.append(f"release {spec.name}: chart {' '.join(made)} (revision "
                     f"{release.revision}), the node's properties name {' '.join(asked)}")
    paths = differing_paths(wanted.values, helm.values(spec.name, spec.namespace))
    found += [f"release {spec.name}: values {path}: differs from the node's properties"
              for path in paths]
    return found


def chart_metadata(path: str) -> tuple[str | None, str | None]:
    """The name and version in the Chart.yaml of a chart directory or packaged chart (None,
    None when it has none that reads)."""
    try:
        if os.path.isdir(path):
            with open(os.path.join(path, "Chart.yaml"), "rb") as handle:
                text = handle.read(MAX_CHART_YAML)
        else:
            with tarfile.open(path) as package:
                member = next((m for m in package
                               if m.isfile() and m.name.count("/") == 1
                               and m.name.endswith("/Chart.yaml")), None)
                extracted = package.extractfile(member) if member else None
                text = extracted.read(MAX_CHART_YAML) if extracted else b""
        # under the suite's YAML bounds (size, expanded nodes), as helm reads it (sigs.k8s.io/yaml)
        data = load_yaml(text, f"{path}: Chart.yaml")
    except (OSError, tarfile.TarError, UserError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    return (str(data["name"]) if data.get("name") else None,
            str(data["version"]) if data.get("version") else None)


def describe(backend: ClusterBackend, release: Release, refs: Sequence[ObjectRef],
             helm_version: str) -> dict[str, Any]:
    """Runtime facts: the release, the objects, services and pods as a Microservice's."""
    facts = engine.describe(backend, [engine.Applied(ref) for ref in refs])
    facts["objects"] = [ref.as_dict() for ref in refs]
    return {"release_name": release.name, "namespace": release.namespace,
            "revision": release.revision, "status": release.status, "chart": release.chart,
            "chart_version": release.chart_version, "app_version": release.app_version,
            "helm_version": helm_version, **facts}


def check_chart_dir(path: str, host_path: Any, field: str) -> None:
    """A chart directory of the host: every symlink in it must resolve where the local-file
    policy allows (`host_path` raises otherwise); at most MAX_CHART_ENTRIES entries."""
    count = 0
    for root, dirs, names in os.walk(path):
        for name in dirs + names:
            count += 1
            if count > MAX_CHART_ENTRIES:
                raise UserError(f"{field}: more than {MAX_CHART_ENTRIES} files in {path}")
            full = os.path.join(root, name)
            if os.path.islink(full):
                host_path(os.path.realpath(full), f"{field} ({full})")
