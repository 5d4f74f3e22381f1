"""The pure parts of a Helm release: settings, release names, `set` paths, secret values, the
kubeconfig helm gets and the manifest's objects."""
from __future__ import annotations

import base64

import pytest

from cloudify_kubernetes.helm_values import (
    kubeconfig_for,
    load_values_file,
    manifest_objects,
    parse_key,
    parse_settings,
    placed_ref_fields,
    register_secret_values,
    release_name_for,
    set_values,
)
from cloudify_shared.errors import UserError
from cloudify_shared.redaction import redact

MANIFEST = """---
# Source: web/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: r-web
data:
  index.html: "hello"
---
# Source: web/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: r-web
spec:
  ports: [{port: 8080}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: r-web-reader
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: r-web
  namespace: other
"""


def test_settings_defaults_and_checks() -> None:
    settings = parse_settings({"chart": "resources/web-0.1.0.tgz"})
    assert (settings.namespace, settings.timeout, settings.values, settings.set) == ("default", 300,
                                                                                     {}, {})
    with pytest.raises(UserError, match=r"properties.chart: required"):
        parse_settings({})
    with pytest.raises(UserError, match=r"properties.namespace: 'Bad_NS' is not"):
        parse_settings({"chart": "c.tgz", "namespace": "Bad_NS"})
    with pytest.raises(UserError,
                       match=r"properties.release_name: 'Web' is not a Helm release name"):
        parse_settings({"chart": "c.tgz", "release_name": "Web"})
    with pytest.raises(UserError, match=r"properties.timeout: .* too long"):
        parse_settings({"chart": "c.tgz", "timeout": 10 ** 6})
    assert parse_settings({"chart": "c.tgz", "use_external_resource": False}).chart == "c.tgz"
    with pytest.raises(UserError, match=r"properties.values_files\[1\]: expected a file path"):
        parse_settings({"chart": "c.tgz", "values_files": ["a.yaml", {"x": 1}]})


def test_a_chart_of_a_repository_needs_its_exact_version_and_its_name() -> None:
    settings = parse_settings({"chart": "web", "repository": "http://h/c",
                               "chart_version": "0.1.0"})
    assert (settings.chart, settings.repository, settings.chart_version) == ("web", "http://h/c",
                                                                             "0.1.0")
    with pytest.raises(UserError, match=r"properties.chart_version: required with a repository or "
                                        r"an oci:// chart"):
        parse_settings({"chart": "web", "repository": "http://h/c"})
    with pytest.raises(UserError, match=r"properties.chart_version: only for a chart of a "
                                        r"repository or an oci:// chart"):
        parse_settings({"chart": "c.tgz", "chart_version": "0.1.0"})
    with pytest.raises(UserError,
                       match=r"properties.chart: 'resources/web.tgz': with a repository"):
        parse_settings({"chart": "resources/web.tgz", "repository": "http://h",
                        "chart_version": "1"})


@pytest.mark.parametrize("instance_id, given, suffix, expected", [
    ("web_x8u01s", "", "", "web-x8u01s"),
    ("web_x8u01s", "shop", "", "shop"),
    ("web_x8u01s", "shop", "-x8u01s", "shop-x8u01s"),
])
def test_release_names(instance_id: str, given: str, suffix: str, expected: str) -> None:
    assert release_name_for(instance_id, given, suffix) == expected


def test_release_names_never_collide_when_made_valid_or_cut() -> None:
    upper, lower = release_name_for("Web_abc123"), release_name_for("web_abc123")
    assert upper != lower and upper.startswith("web-abc123-")
    long_a, long_b = (release_name_for("n" * 60 + f"_{s}") for s in ("aaaaaa", "bbbbbb"))
    assert long_a != long_b and len(long_a) <= 53 and len(long_b) <= 53
    assert len(release_name_for("x", "a" * 50, "-x8u01s")) <= 53


@pytest.mark.parametrize("key, path", [
    ("replicaCount", ["replicaCount"]),
    ("image.tag", ["image", "tag"]),
    ("a.b[0].c", ["a", "b", 0, "c"]),
    ("m[1][0]", ["m", 1, 0]),
    (r"annotations.example\.com/x", ["annotations", "example.com/x"]),
])
def test_set_keys_read_as_helm_reads_them(key: str, path: list[object]) -> None:
    assert parse_key(key, "set") == path


@pytest.mark.parametrize("key", ["", "a..b", ".a", "a.", "a[x]", "a]b"])
def test_bad_set_keys_are_refused_naming_the_field(key: str) -> None:
    with pytest.raises(UserError, match=r"^properties.set: the key"):
        parse_settings({"chart": "c.tgz", "set": {key: 1}})


def test_set_values_nest_and_keep_types() -> None:
    values = set_values({"image.tag": "1", "replicaCount": 2, "a.b[0].c": True, "a.b[1]": "x",
                         "a.d": None})
    assert values == {"image": {"tag": "1"}, "replicaCount": 2,
                      "a": {"b": [{"c": True}, "x"], "d": None}}
    with pytest.raises(UserError, match=r"index \[2\] skips"):
        set_values({"l[2]": 1})
    with pytest.raises(UserError, match="not a mapping"):
        set_values({"a": 1, "a.b": 2})


def test_values_under_secret_looking_keys_are_masked() -> None:
    register_secret_values({"db": {"password": "s3cr3t-pw-1"}, "auth": {"apiToken": ["tok-ab12cd"]},
                            "plain": "visible-value"})
    assert redact("s3cr3t-pw-1 tok-ab12cd visible-value") == "*** *** visible-value"


def test_values_files_hold_one_mapping() -> None:
    assert load_values_file("a: 1\n", "f") == {"a": 1}
    assert load_values_file("", "f") == {}
    with pytest.raises(UserError, match="f: a values file holds one mapping"):
        load_values_file("- a\n", "f")


def test_kubeconfig_carries_the_credentials_inline() -> None:
    config = kubeconfig_for("https://127.0.0.1:6443", "tok", b"CA", None, None, True)
    assert config["clusters"][0]["cluster"] == {
        "server": "https://127.0.0.1:6443",
        "certificate-authority-data": base64.b64encode(b"CA").decode()}
    assert config["users"][0]["user"] == {"token": "tok"}
    insecure = kubeconfig_for("https://h:6443", None, b"CA", b"C", b"K", False)
    assert insecure["clusters"][0]["cluster"]["insecure-skip-tls-verify"] is True
    assert set(insecure["users"][0]["user"]) == {"client-certificate-data", "client-key-data"}


def test_manifest_objects_and_where_they_live() -> None:
    objects = manifest_objects(MANIFEST, "manifest")
    assert [o["kind"] for o in objects] == ["ConfigMap", "Service", "ClusterRole", "Deployment"]
    cluster_wide = {("rbac.authorization.k8s.io/v1", "ClusterRole")}

    def namespaced(api_version: str, kind: str) -> bool:
        return (api_version, kind) not in cluster_wide

    refs = [placed_ref_fields(o, namespaced, "rel-ns") for o in objects]
    assert refs == [("v1", "ConfigMap", "r-web", "rel-ns"), ("v1", "Service", "r-web", "rel-ns"),
                    ("rbac.authorization.k8s.io/v1", "ClusterRole", "r-web-reader", None),
                    ("apps/v1", "Deployment", "r-web", "other")]
    with pytest.raises(UserError, match="not a Kubernetes object"):
        manifest_objects("just: text\n", "manifest")
    with pytest.raises(UserError, match="too many YAML nodes"):
        bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefg", "bcdefgh", strict=True))
        manifest_objects(bomb, "manifest")


def test_values_merge_as_helm_merges_values_files() -> None:
    from cloudify_kubernetes.helm_values import merge_values
    merged = merge_values([{"a": {"b": 1, "c": [1, 2]}, "d": "x"}, {"a": {"c": [3]}, "d": None},
                           {"a": {"e": {"f": True}}}])
    assert merged == {"a": {"b": 1, "c": [3], "e": {"f": True}}, "d": None}


def test_differing_paths_name_paths_only() -> None:
    from cloudify_kubernetes.helm_values import differing_paths
    assert differing_paths({"a": {"b": 1}, "c": "s"}, {"a": {"b": 1}, "c": "s"}) == []
    assert differing_paths({"a": {"b": 1}, "c": "s"}, {"a": {"b": 2}, "x": 1}) == ["a.b", "c", "x"]
    assert differing_paths({"a": 1}, None) == ["(all)"]
    assert len(differing_paths({str(i): i for i in range(50)}, {})) == 20
