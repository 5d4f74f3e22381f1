"""A Microservice's settings (node properties, overridden by operation inputs) and the objects
they render to, plus opening the backend its connection asks for. Service layer: no ctx; the
tasks layer passes `read_file` for blueprint resources and local files.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cloudify_kubernetes import manifests, naming
from cloudify_kubernetes.backend import ClusterBackend
from cloudify_kubernetes.connection import ApiSettings, Settings, SshSettings, ssh_target
from cloudify_kubernetes.engine import Options
from cloudify_kubernetes.field_validation import STRICT, check_mode
from cloudify_kubernetes.overrides import apply_overrides, parse_override
from cloudify_shared.errors import UserError
from cloudify_shared.limits import duration
from cloudify_shared.reach import SSH, ReachPolicy
from cloudify_shared.validation import Field, parse_mapping

SETTING_FIELDS = {
    "name": Field((str,), default=""),
    "namespace": Field((str,), default="default"),
    "config_files": Field((list,), default=[]),
    "config": Field((dict, list)),
    "env": Field((dict,), default={}),
    "env_containers": Field((list,), default=[]),
    "overrides": Field((list,), default=[]),
    "timeout": Field((int, float), default=300, check=duration),
    "wait_for_load_balancer": Field((bool,), default=False),
    "adopt_existing": Field((bool,), default=False),
    "keep_volume_claims": Field((bool,), default=False),
    "field_validation": Field((str,), default=STRICT, check=check_mode),
    "ssh_username": Field((str,)),
    "ssh_keyfilename": Field((str,)),
}
SCALABLE_KINDS = {"Deployment", "ReplicaSet", "ReplicationController", "StatefulSet"}


@dataclass(frozen=True)
class MicroserviceSettings:
    name: str
    namespace: str
    config_files: list[Any]
    config: Any
    env: dict[str, Any]
    env_containers: list[str]
    overrides: list[Any]
    timeout: float
    wait_for_load_balancer: bool
    adopt_existing: bool
    keep_volume_claims: bool
    field_validation: str
    ssh_username: str | None
    ssh_keyfilename: str | None

    @property
    def options(self) -> Options:
        return Options(timeout=float(self.timeout),
                       wait_for_load_balancer=self.wait_for_load_balancer,
                       adopt_existing=self.adopt_existing, default_namespace=self.namespace,
                       keep_volume_claims=self.keep_volume_claims,
                       field_validation=self.field_validation)


REMOVAL_FIELDS = ("timeout", "keep_volume_claims", "ssh_username", "ssh_keyfilename")


def removal_record(settings: MicroserviceSettings) -> dict[str, Any]:
    """What delete needs of stop's settings to finish a removal without reading the node again
    (parse_settings turns it back into settings); no secret is among them."""
    return {key: getattr(settings, key) for key in REMOVAL_FIELDS
            if getattr(settings, key) is not None}


def parse_settings(properties: Mapping[str, Any],
                   inputs: Mapping[str, Any]) -> MicroserviceSettings:
    """Node properties with every operation input that is set (not None) taking precedence."""
    merged = {k: v for k, v in properties.items() if k in SETTING_FIELDS}
    merged.update({k: v for k, v in inputs.items() if k in SETTING_FIELDS and v is not None})
    return MicroserviceSettings(**parse_mapping(merged, SETTING_FIELDS, "properties"))


def render(settings: MicroserviceSettings, read_file: Callable[[str], str],
           labels: Mapping[str, str], name_suffix: str = "",
           sources_of: list[str] | None = None) -> list[dict[str, Any]]:
    """The objects to apply, in order: files and inline config, overrides, env, labels, then
    the instance's names (naming.per_instance; overrides match the descriptors' names).
    `sources_of`, when given, is filled with each object's origin (its file, or the inline
    config), in the same order."""
    sources = manifests.load_sources(settings.config_files, settings.config, read_file)
    origins: dict[tuple[str, str], str] = {}
    objects = manifests.build_objects(sources, settings.env, settings.env_containers, labels,
                                      origins=origins)
    extra = [parse_override(o, f"overrides[{i}]") for i, o in enumerate(settings.overrides)]
    objects = apply_overrides(objects, extra, "overrides") if extra else objects
    if sources_of is not None:
        sources_of[:] = [origins.get((str(o["kind"]), str(o["metadata"]["name"])), "properties")
                         for o in objects]
    return naming.per_instance(objects, name_suffix, labels, origins)


def scale_overrides(objects: list[dict[str, Any]], replicas: int, kind: str | None,
                    name: str | None) -> list[dict[str, Any]]:
    """Overrides setting spec.replicas of the scalable objects matching kind/name."""
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        raise UserError(f"replicas: expected a non-negative integer, got {replicas!r}")
    targets = [o for o in objects if o["kind"] in SCALABLE_KINDS
               and (kind is None or o["kind"] == kind)
               and (name is None or o["metadata"]["name"] == name)]
    if not targets:
        raise UserError(f"scale: no scalable object matches kind={kind!r} name={name!r}")
    return [{"path": ["spec", "replicas"], "value": replicas, "kind": o["kind"],
             "name": o["metadata"]["name"]} for o in targets]


def for_microservice(connection: Settings, settings: MicroserviceSettings) -> Settings:
    """The seed's ssh_username / ssh_keyfilename override the Master's SSH user and key."""
    if isinstance(connection, SshSettings):
        user = settings.ssh_username or connection.user
        if settings.ssh_keyfilename:  # the seed's key file wins over the Master's key, inline too
            return dataclasses.replace(connection, user=user, key_file=settings.ssh_keyfilename,
                                       private_key=None)
        return dataclasses.replace(connection, user=user)
    return connection


def open_backend(connection: Settings, read_file: Callable[[str], str], reach: ReachPolicy,
                 where: str = "properties", validate: bool = True) -> ClusterBackend:
    """A backend for the connection, once `reach` (the administrator's allowlists) allows its
    endpoint: the API server the client loaded, or the SSH host and port (`where`: the
    settings' origin, for messages). `validate` False: kubectl over SSH applies fields the
    server's schema lacks (field_validation warn / ignore) instead of refusing them."""
    if isinstance(connection, ApiSettings):
        from cloudify_kubernetes.api_backend import ApiBackend, open_api_client
        client = open_api_client(connection, read_file, reach, f"{where}.api")
        try:
            return ApiBackend(client, connection.request_timeout)
        except Exception:
            client.close()
            raise
    reach.check(SSH, ssh_target(connection), f"{where}.ssh.host", default_scheme="ssh")
    from cloudify_kubernetes.kubectl_ssh_backend import KubectlSshBackend
    return KubectlSshBackend(connection, validate)
