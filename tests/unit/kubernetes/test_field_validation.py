"""Issue 27, Kubernetes: a field the cluster's schema lacks (the 1.20 API server drops it
silently) is found before anything is applied, named with its file, object and path; strict
refuses, warn logs, ignore does not look. The schema walk runs on a canned OpenAPI v2 document
in the shape the 1.20 server publishes (with a CRD's converted schema); the schema cache on
a fake source that counts its fetches."""
from __future__ import annotations

import copy
import json
import logging
import shlex
from pathlib import Path
from typing import Any

import pytest

from cloudify_kubernetes import engine, kubectl_ssh_backend
from cloudify_kubernetes.backend import UnknownKind
from cloudify_kubernetes.field_validation import check_fields, refusal
from cloudify_kubernetes.microservice import parse_settings, render
from cloudify_kubernetes.openapi_schema import (
    Schema,
    crd_schemas,
    find,
    strip_document,
    unknown_fields,
)
from cloudify_kubernetes.schema_cache import SchemaCache
from cloudify_shared.errors import UserError
from tests.unit.kubernetes.test_kubectl_arguments import Result
from tests.unit.kubernetes.test_kubectl_arguments import backend as ssh_backend

REF = "#/definitions/"
META = {"$ref": REF + "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}


def gvk(group: str, version: str, kind: str) -> list[dict[str, str]]:
    return [{"group": group, "version": version, "kind": kind}]


# The parts of Kubernetes 1.20's /openapi/v2 the tests walk (descriptions kept where the server
# has them: strip_document must drop them).
DOCUMENT: dict[str, Any] = {"swagger": "2.0", "definitions": {
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": {"description": "meta", "properties": {
        "name": {"type": "string", "description": "the name"}, "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}}}},
    "io.k8s.api.batch.v1.Job": {"properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": META,
        "spec": {"$ref": REF + "io.k8s.api.batch.v1.JobSpec"},
        "status": {"type": "object"}},
                                "x-kubernetes-group-version-kind": gvk("batch", "v1", "Job")},
    "io.k8s.api.batch.v1.JobSpec": {"required": ["template"], "properties": {
        "completions": {"type": "integer"}, "parallelism": {"type": "integer"},
        "template": {"$ref": REF + "io.k8s.api.core.v1.PodTemplateSpec"}}},
    "io.k8s.api.core.v1.PodTemplateSpec": {"properties": {
        "metadata": META, "spec": {"$ref": REF + "io.k8s.api.core.v1.PodSpec"}}},
    "io.k8s.api.core.v1.PodSpec": {"properties": {
        "restartPolicy": {"type": "string"},
        "nodeSelector": {"type": "object", "additionalProperties": {"type": "string"}},
        "containers": {"type": "array", "items": {"$ref": REF + "io.k8s.api.core.v1.Container"}}}},
    "io.k8s.api.core.v1.Container": {"properties": {
        "name": {"type": "string"}, "image": {"type": "string"},
        "ports": {"type": "array", "items": {"$ref": REF + "io.k8s.api.core.v1.ContainerPort"}},
        "resources": {"properties": {"limits": {"type": "object", "additionalProperties": {
            "$ref": REF + "io.k8s.apimachinery.pkg.api.resource.Quantity"}}}}}},
    "io.k8s.api.core.v1.ContainerPort": {"properties": {"containerPort": {"type": "integer"},
                                                        "protocol": {"type": "string"}}},
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string"},
    "io.k8s.api.core.v1.Service": {"properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": META,
        "spec": {"properties": {"type": {"type": "string"}, "ports": {"type": "array", "items": {
            "properties": {"port": {"type": "integer"},
                           "targetPort": {
                               "$ref": REF + "io.k8s.apimachinery.pkg.util.intstr.IntOrString"}
                           }}}}}},
        "x-kubernetes-group-version-kind": gvk("", "v1", "Service")},
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"type": "string",
                                                        "format": "int-or-string"},
    "io.k8s.api.networking.v1.IngressClass": {"properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": META,
        "spec": {"properties": {"controller": {"type": "string"}, "parameters": {"properties": {
            "apiGroup": {"type": "string"}, "kind": {"type": "string"},
            "name": {"type": "string"}}}}}},
        "x-kubernetes-group-version-kind": gvk("networking.k8s.io", "v1", "IngressClass")},
    # a CRD's structural schema as 1.20 publishes it (preserve-unknown-fields kept)
    "com.example.fv.v1.Probe": {"type": "object", "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": META,
        "spec": {"type": "object", "properties": {
            "size": {"type": "integer"}, "free": {"x-kubernetes-preserve-unknown-fields": True},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}}}}},
        "x-kubernetes-group-version-kind": gvk("fv.example.com", "v1", "Probe")},
}}
SCHEMA = Schema.of(strip_document(DOCUMENT))


def job(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "j", "labels": {"a": "b"}},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
                {"name": "c", "image": "i", "ports": [{"containerPort": 80}],
                 "resources": {"limits": {"cpu": "1"}}}]}}, **spec}}


def unknown(obj: dict[str, Any], schema: Schema = SCHEMA) -> list[str]:
    result = find(schema, [obj], ["ref"], ["file"])
    return [field for f in result.found for field in f.fields]


def test_a_valid_object_has_no_unknown_fields() -> None:
    assert unknown(job(completions=2)) == []


def test_the_fields_issue_27_found_are_unknown_to_1_20() -> None:
    assert unknown(job(completionMode="Indexed")) == ["spec.completionMode"]
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
               "spec": {"ipFamily": "IPv4", "ports": [{"port": 80, "targetPort": "http"}]}}
    assert unknown(service) == ["spec.ipFamily"]
    ingress_class = {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
                     "metadata": {"name": "c"}, "spec": {"controller": "x/y", "parameters": {
                         "kind": "K", "name": "n", "scope": "Namespace"}}}
    assert unknown(ingress_class) == ["spec.parameters.scope"]


def test_every_unknown_field_is_found_with_its_path_through_refs_and_lists() -> None:
    obj = job()
    container = obj["spec"]["template"]["spec"]["containers"][0]
    container["ports"][0]["hostPortt"] = 1
    container["imagePullPolicyy"] = "Never"
    obj["metadata"]["labelz"] = {}
    obj["top"] = 1
    assert sorted(unknown(obj)) == [
        "metadata.labelz", "spec.template.spec.containers[0].imagePullPolicyy",
        "spec.template.spec.containers[0].ports[0].hostPortt", "top"]


def test_maps_and_free_form_values_are_open() -> None:
    obj = job()
    obj["metadata"]["annotations"] = {"any.key/x": "v"}
    obj["spec"]["template"]["spec"]["nodeSelector"] = {"disk": "ssd"}
    obj["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] = "1"
    obj["status"] = {"anything": {"goes": 1}}  # a schema without properties is open
    assert unknown(obj) == []


def test_a_custom_resource_is_checked_against_its_crd_schema_from_the_server() -> None:
    probe = {"apiVersion": "fv.example.com/v1", "kind": "Probe", "metadata": {"name": "p"},
             "spec": {"size": 1, "free": {"x": {"y": 1}}, "labels": {"a": "b"}, "colour": "red"}}
    assert unknown(probe) == ["spec.colour"]


CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
       "metadata": {"name": "routers.new.example.com"},
       "spec": {"group": "new.example.com", "scope": "Namespaced",
                "names": {"kind": "Router", "plural": "routers"},
                "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                    "openAPIV3Schema": {"type": "object", "description": "d", "properties": {
                        "spec": {"type": "object", "properties": {
                            "asn": {"type": "integer"},
                            "template": {"type": "object", "x-kubernetes-embedded-resource": True,
                                         "properties": {"data": {"type": "object"}}}}}}}}}]}}


def test_a_custom_resource_of_a_crd_among_the_objects_is_checked_against_that_crd() -> None:
    router = {"apiVersion": "new.example.com/v1", "kind": "Router", "metadata": {"name": "r"},
              "spec": {"asn": 1, "asm": 2, "template": {"apiVersion": "v1", "kind": "ConfigMap",
                                                        "metadata": {"name": "x"}, "data": {},
                                                        "extra": 1}}}
    assert crd_schemas([CRD]).keys() == {"new.example.com/v1/Router"}
    result = find(SCHEMA, [CRD, router], ["crd", "router"], ["f", "f"])
    assert [f.fields for f in result.found] == [("spec.asm", "spec.template.extra")]
    assert result.missing == ["apiextensions.k8s.io/v1/CustomResourceDefinition"]  # not canned here
    alone = find(SCHEMA, [router], ["router"], ["f"])  # without its CRD: not known
    assert alone.missing == ["new.example.com/v1/Router"] and alone.found == []


def test_a_v1beta1_crd_validation_schema_is_used_for_every_version() -> None:
    beta = copy.deepcopy(CRD)
    beta["apiVersion"] = "apiextensions.k8s.io/v1beta1"
    schema = beta["spec"]["versions"][0].pop("schema")
    beta["spec"]["validation"] = schema
    beta["spec"]["versions"].append({"name": "v2", "served": True, "storage": False})
    assert set(crd_schemas([beta])) == {"new.example.com/v1/Router", "new.example.com/v2/Router"}


def test_a_kind_without_schema_is_missing_not_judged() -> None:
    other = {"apiVersion": "x.example.com/v1", "kind": "Thing", "metadata": {"name": "t"},
             "spec": {"whatever": 1}}
    result = find(SCHEMA, [other], ["t"], ["f"])
    assert result.found == [] and result.missing == ["x.example.com/v1/Thing"]
    assert result.stale_possible


def test_an_unknown_field_of_a_built_in_kind_cannot_be_a_stale_schema_but_a_crds_can() -> None:
    assert not find(SCHEMA, [job(completionMode="Indexed")], ["j"], ["f"]).stale_possible
    probe = {"apiVersion": "fv.example.com/v1", "kind": "Probe", "metadata": {"name": "p"},
             "spec": {"colour": "red"}}
    assert find(SCHEMA, [probe], ["p"], ["f"]).stale_possible


def test_stripping_keeps_only_what_the_walk_reads() -> None:
    stripped = strip_document(DOCUMENT)
    assert stripped["kinds"]["batch/v1/Job"] == "io.k8s.api.batch.v1.Job"
    assert stripped["kinds"]["/v1/Service"] == "io.k8s.api.core.v1.Service"
    text = json.dumps(stripped)
    assert "description" not in text and "required" not in text and "int-or-string" not in text
    assert stripped["definitions"]["io.k8s.api.core.v1.ContainerPort"] == {
        "properties": {"containerPort": {}, "protocol": {}}}
    again = Schema.of(json.loads(text))
    node = {"$ref": REF + "io.k8s.api.batch.v1.Job"}
    assert list(unknown_fields(again, node, job(completionMode="x"))) == ["spec.completionMode"]


def test_the_refusal_names_file_object_and_field_and_the_switch() -> None:
    result = find(SCHEMA, [job(completionMode="Indexed")], ["Job default/j"],
                  ["properties.config_files[0] (file resources/job.yaml)"])
    message = str(refusal(result.found, "Kubernetes v1.20.2"))
    assert ("properties.config_files[0] (file resources/job.yaml): Job default/j: unknown field "
            "spec.completionMode") in message
    assert "Kubernetes v1.20.2" in message and "nothing was applied" in message
    assert "field_validation: warn" in message


def test_a_long_refusal_is_cut() -> None:
    obj = job(**{f"f{i:02}": i for i in range(30)})
    message = str(refusal(find(SCHEMA, [obj], ["j"], ["f"]).found, "k"))
    assert "30 field(s)" in message and "... and 10 more" in message
    assert "spec.f19" in message and "spec.f20" not in message


def test_the_property_defaults_to_strict_and_refuses_an_unknown_mode() -> None:
    assert parse_settings({}, {}).options.field_validation == "strict"
    assert parse_settings({"field_validation": "ignore"},
                          {"field_validation": "warn"}).options.field_validation == "warn"
    with pytest.raises(UserError, match=r"field_validation: expected one of strict, warn, ignore"):
        parse_settings({"field_validation": "loose"}, {})
    assert engine.Options().field_validation == "ignore"  # the engine alone does not look


def test_render_gives_each_object_its_file() -> None:
    files = {"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\n---\n"
                       "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: two}\n"}
    settings = parse_settings({"config_files": ["a.yaml"],
                               "config": {"apiVersion": "v1", "kind": "Secret",
                                          "metadata": {"name": "s"}}}, {})
    origins: list[str] = []
    labels = {"cloudify.co/node-instance": "i", "cloudify.co/deployment": "d"}
    objects = render(settings, files.__getitem__, labels, "-x1", origins)
    assert [o["metadata"]["name"] for o in objects] == ["one-x1", "two-x1", "s-x1"]
    assert origins == ["properties.config_files[0] (file a.yaml)"] * 2 + ["properties.config"]


# ---- the check before anything is applied, and the cache ------------------------------------

class FakeSource:
    """A ClusterBackend's schema side (and namespaced): counts what it is asked."""

    def __init__(self, document: dict[str, Any] = DOCUMENT, version: str = "v1.20.2") -> None:
        self.document, self.version = document, version
        self.fetches: list[str | None] = []
        self.etag = "e1"

    def namespaced(self, api_version: str, kind: str) -> bool:
        if kind not in {"Job", "Service", "Probe", "Thing"}:
            raise UnknownKind(f"no {kind}")
        return True

    def server_endpoint(self) -> str:
        return "https://10.0.0.1:6443"

    def server_version(self) -> str:
        return self.version

    def openapi_v2(self, etag: str | None) -> tuple[bytes | None, str | None]:
        self.fetches.append(etag)
        if etag == self.etag:
            return None, etag
        return json.dumps(self.document).encode(), self.etag

    def apply(self, obj: Any) -> Any:
        raise AssertionError("nothing may be applied")


def check(source: FakeSource, objects: list[dict[str, Any]], mode: str, folder: Path,
          logger: logging.Logger | None = None) -> None:
    check_fields(source, objects, ["properties.config_files[0] (file "
                                   "job.yaml)"] * len(objects),  # type: ignore[arg-type]
                        engine.Options(field_validation=mode, default_namespace="team"),
                        SchemaCache(folder), logger or logging.getLogger("test"))


def test_strict_refuses_naming_the_placed_object(tmp_path: Path) -> None:
    with pytest.raises(UserError) as caught:
        check(FakeSource(), [job(completionMode="Indexed")], "strict", tmp_path)
    assert ("properties.config_files[0] (file job.yaml): Job team/j: unknown field "
            "spec.completionMode") in str(caught.value)


def test_warn_logs_every_field_and_goes_on(tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        check(FakeSource(), [job(completionMode="Indexed", parallelizm=2)], "warn", tmp_path)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and all("field_validation: warn" in line for line in lines)
    assert any("Job team/j: unknown field spec.completionMode" in line for line in lines)


def test_ignore_never_asks_the_server(tmp_path: Path) -> None:
    source = FakeSource()
    check(source, [job(completionMode="Indexed")], "ignore", tmp_path)
    assert source.fetches == [] and not list(tmp_path.iterdir())


def test_the_schema_is_fetched_once_then_read_from_disk(tmp_path: Path) -> None:
    source = FakeSource()
    check(source, [job()], "strict", tmp_path)
    check(source, [job()], "strict", tmp_path)
    # a built-in kind's unknown field: the cached schema is the server's
    with pytest.raises(UserError):
        check(source, [job(completionMode="Indexed")], "strict", tmp_path)
    assert source.fetches == [None]
    (cached,) = tmp_path.iterdir()
    assert (cached.name.startswith("openapi-v2-")
            and cached.stat().st_size < len(json.dumps(DOCUMENT)))


def test_another_version_or_endpoint_is_another_file(tmp_path: Path) -> None:
    check(FakeSource(), [job()], "strict", tmp_path)
    check(FakeSource(version="v1.21.0"), [job()], "strict", tmp_path)
    assert len(list(tmp_path.iterdir())) == 2
    assert SchemaCache(tmp_path).path("a", "v1") != SchemaCache(tmp_path).path("b", "v1")


def test_a_kind_missing_from_the_cache_asks_again_with_the_etag(tmp_path: Path) -> None:
    old = copy.deepcopy(DOCUMENT)
    del old["definitions"]["com.example.fv.v1.Probe"]
    source = FakeSource(old)
    check(source, [job()], "strict", tmp_path)
    probe = {"apiVersion": "fv.example.com/v1", "kind": "Probe", "metadata": {"name": "p"},
             "spec": {"colour": "red"}}
    source.document, source.etag = DOCUMENT, "e2"  # its CRD was applied since
    with pytest.raises(UserError, match=r"Probe team/p: unknown field spec.colour"):
        check(source, [probe], "strict", tmp_path)
    assert source.fetches == [None, "e1"]
    with pytest.raises(UserError):  # the file now has it: asked again only for the CRD's field
        check(source, [probe], "strict", tmp_path)
    assert source.fetches == [None, "e1", "e2"]  # answered 304: nothing downloaded


def test_a_cache_file_that_cannot_be_read_is_fetched_again(tmp_path: Path) -> None:
    source = FakeSource()
    check(source, [job()], "strict", tmp_path)
    (cached,) = tmp_path.iterdir()
    cached.write_text('{"format": 1, "kinds": ')  # cut short
    check(source, [job()], "strict", tmp_path)
    assert source.fetches == [None, None]
    assert json.loads(cached.read_text())["kinds"]["batch/v1/Job"]


def test_the_cache_is_written_whole_by_rename_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "folder"
    cache = SchemaCache(folder)
    for _ in range(3):
        cache.refresh(FakeSource(), "v1.20.2", None)
    assert [p.name for p in folder.iterdir() if not p.name.startswith("openapi-v2-")] == []
    assert oct(folder.stat().st_mode & 0o777) == "0o700"


def test_a_folder_that_cannot_be_written_only_costs_a_fetch(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    source = FakeSource()
    check(source, [job()], "strict", blocker / "cache")
    check(source, [job()], "strict", blocker / "cache")
    assert source.fetches == [None, None]


def test_kubectl_over_ssh_validates_unless_the_user_applies_unknown_fields() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "a"}}
    ssh, conn = ssh_backend()
    ssh.apply(obj)
    assert "--validate=false" not in shlex.split(conn.commands[-1])
    ssh.validate = False
    ssh.apply(obj)
    ssh.replace(obj)
    assert all("--validate=false" in shlex.split(c) for c in conn.commands[-2:])


def test_a_custom_resource_whose_crd_is_not_applied_yet_is_named_as_its_crd_places_it(
        tmp_path: Path) -> None:
    router = {"apiVersion": "new.example.com/v1", "kind": "Router",
              "metadata": {"name": "r", "namespace": "n"}, "spec": {"asm": 1}}
    with pytest.raises(UserError, match=r"Router n/r: unknown field spec.asm"):
        check(FakeSource(), [CRD, router], "strict", tmp_path)
    del router["metadata"]["namespace"]
    with pytest.raises(UserError, match=r"Router team/r: unknown field spec.asm"):
        check(FakeSource(), [CRD, router], "strict", tmp_path)
    cluster_scoped = copy.deepcopy(CRD)
    cluster_scoped["spec"]["scope"] = "Cluster"
    with pytest.raises(UserError, match=r"Router r: unknown field spec.asm"):
        check(FakeSource(), [cluster_scoped, router], "strict", tmp_path)


def test_a_schema_document_beyond_the_bound_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    ssh, conn = ssh_backend()
    monkeypatch.setattr(conn, "run", lambda command, **_: Result('{"definitions": {}}' + " " * 40))
    assert ssh.openapi_v2(None)[0] is not None
    monkeypatch.setattr(kubectl_ssh_backend, "MAX_SCHEMA_BYTES", 50)
    with pytest.raises(UserError, match=r"/openapi/v2 is larger than 50 bytes"):
        ssh.openapi_v2(None)
