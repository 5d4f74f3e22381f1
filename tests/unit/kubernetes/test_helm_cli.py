"""The helm adapter's pure parts: where helm is found, the command built (values only as files,
no --wait), helm's failures mapped to retryable or not, versions."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from cloudify_kubernetes.helm_cli import (
    HelmCli,
    Release,
    error_for,
    find_helm,
    parse_version,
    upgrade_args,
)
from cloudify_shared.errors import TransientError, UserError


def executable(tmp_path: Path, name: str = "helm", body: str = "#!/bin/sh\necho v4.1.4\n") -> str:
    path = tmp_path / name
    path.write_text(body)
    path.chmod(0o755)
    return str(path)


def test_helm_found_by_property_setting_or_path(tmp_path: Path) -> None:
    own = executable(tmp_path, "own-helm")
    admin = executable(tmp_path, "admin-helm")
    assert find_helm(own, False, {"CLOUDIFY_VNF_HELM": admin}) == own
    assert find_helm("", False, {"CLOUDIFY_VNF_HELM": admin}) == admin
    assert find_helm("", True, {"CLOUDIFY_VNF_HELM": admin}) == admin


def test_a_blueprint_never_names_the_program_a_manager_runs(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"properties.helm: on a manager the helm binary is the "
                                        r"administrator's \(CLOUDIFY_VNF_HELM"):
        find_helm(executable(tmp_path), True, {})


def test_a_missing_helm_says_where_it_looked(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError, match=r"no helm binary: set CLOUDIFY_VNF_HELM .* or put helm on "
                                        r"PATH; scripts/local-clusters up installs helm 4.1.4"):
        find_helm("", False, {})
    with pytest.raises(UserError, match=r"helm binary '/nowhere/helm' \(from CLOUDIFY_VNF_HELM\) "
                                        r"is not an executable file"):
        find_helm("", False, {"CLOUDIFY_VNF_HELM": "/nowhere/helm"})


def test_too_old_a_helm_fails_at_once(tmp_path: Path) -> None:
    old = HelmCli(executable(tmp_path, body="#!/bin/sh\necho v3.12.3\n"), "")
    try:
        with pytest.raises(UserError, match=r"is v3.12.3: too old, at least v3.13.0"):
            old.version()
    finally:
        old.close()
    new = HelmCli(executable(tmp_path, "new"), "")
    assert new.version() == "v4.1.4"
    home = new.home
    new.close()
    assert not os.path.exists(home)


def test_helm_is_asked_its_version_once_per_binary_file(tmp_path: Path) -> None:
    """create and start of one install (one process offline) ask helm once; a binary replaced
    by another (an upgrade) is asked again."""
    calls = tmp_path / "calls"
    body = f"#!/bin/sh\necho x >> {calls}\necho v4.1.4\n"
    path = executable(tmp_path, "counted-helm", body)
    for _ in range(3):
        cli = HelmCli(path, "")
        try:
            assert cli.version() == "v4.1.4" and cli.server_side
        finally:
            cli.close()
    assert calls.read_text().count("x") == 1
    replaced = tmp_path / "replaced"
    replaced.write_text(body.replace("v4.1.4", "v3.12.3"))
    replaced.chmod(0o755)
    os.replace(replaced, path)  # another file (inode) under the same name
    old = HelmCli(path, "")
    try:
        with pytest.raises(UserError, match=r"is v3.12.3: too old"):
            old.version()
    finally:
        old.close()
    assert calls.read_text().count("x") == 2


def test_helm_runs_with_an_environment_of_its_own(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELM_REPOSITORY_CONFIG", "/root/.config/helm/repositories.yaml")
    monkeypatch.setenv("SECRET_OF_THE_WORKER", "x")
    cli = HelmCli(executable(tmp_path, body="#!/bin/sh\nenv\n"), "/private/kubeconfig")
    try:
        env = dict(line.split("=", 1) for line in cli.run(["x"], 10, "env").splitlines())
        assert os.stat(cli.home).st_mode & 0o777 == 0o700
    finally:
        cli.close()
    assert env["KUBECONFIG"] == "/private/kubeconfig" and env["HOME"] == cli.home
    assert env["HELM_CONFIG_HOME"].startswith(cli.home) and env["HELM_PLUGINS"].startswith(cli.home)
    assert "HELM_REPOSITORY_CONFIG" not in env and "SECRET_OF_THE_WORKER" not in env


def test_upgrade_command_has_files_labels_and_no_wait() -> None:
    args = upgrade_args("web-abc", "/tmp/p/0-web.tgz", "ns1",
                        ["/tmp/p/1-values.yaml", "/tmp/p/2-set.yaml"],
                        {"cloudify.co/deployment": "d1",
                         "app.kubernetes.io/managed-by": "cloudify-vnf-suite"},
                        120.0)
    assert args[:4] == ["upgrade", "--install", "web-abc", "/tmp/p/0-web.tgz"]
    assert args[args.index("--namespace") + 1] == "ns1"
    assert args[args.index("--timeout") + 1] == "120s"
    assert [args[i + 1] for i, a in enumerate(args) if a == "--values"] == [
        "/tmp/p/1-values.yaml", "/tmp/p/2-set.yaml"]
    assert args[args.index("--labels") + 1] == (
        "app.kubernetes.io/managed-by=cloudify-vnf-suite,cloudify.co/deployment=d1")
    assert not any(a.startswith(("--wait", "--set", "--atomic", "--rollback-on-failure"))
                   for a in args)


@pytest.mark.parametrize("stderr, kind", [
    ("Error: Kubernetes cluster unreachable: Get \"https://127.0.0.1:6443/version\": dial tcp "
     "127.0.0.1:6443: connect: connection refused", TransientError),
    ("Error: values don't meet the specifications of the schema(s) in the following chart(s):\n"
     "web:\n- at '/replicaCount': got string, want integer", UserError),
    ("Error: INSTALLATION FAILED: unable to build kubernetes objects", UserError),
])
def test_helm_failures_are_retried_only_when_the_cluster_is_away(stderr: str, kind: type) -> None:
    error = error_for("upgrade --install", stderr)
    assert type(error) is kind
    assert str(error).startswith("helm upgrade --install: ") and "Error: " not in str(error)


def test_long_helm_messages_are_cut() -> None:
    assert len(str(error_for("x", "e" * 10_000))) < 1600


def test_versions_and_release_json() -> None:
    assert parse_version("v4.1.4") == (4, 1, 4) and parse_version("v3.13.0+g1234") == (3, 13, 0)
    with pytest.raises(UserError):
        parse_version("dev")
    release = Release.from_json({"name": "r", "namespace": "n", "version": 3,
                                 "info": {"status": "deployed"}, "config": {"password": "x"},
                                 "chart": {"metadata": {"name": "web", "version": "0.1.0",
                                                        "appVersion": "1.36"}},
                                 "manifest": "---\nkind: ConfigMap\n"})
    assert release.manifest == "---\nkind: ConfigMap\n" and "manifest" not in repr(release)
    assert release.as_dict() == {"name": "r", "namespace": "n", "revision": 3, "status": "deployed",
                                 "chart": "web", "chart_version": "0.1.0", "app_version": "1.36"}


def test_helm_4_forces_conflicts_helm_3_cannot() -> None:
    args = upgrade_args("web-abc", "/tmp/c.tgz", "ns1", [], {}, 60.0, force_conflicts=True)
    assert "--force-conflicts" in args and "--server-side=true" in args
    assert "--force-conflicts" not in upgrade_args("web-abc", "/tmp/c.tgz", "ns1", [], {}, 60.0)


def test_status_reads_helm_get_metadata(tmp_path: Path) -> None:
    """As helm 4.1.4 prints it (its `status` lists the objects and names no chart)."""
    printed = ('{"name":"r","chart":"web","version":"0.2.0","appVersion":"1.36","labels":{},'
               '"namespace":"default","revision":3,"status":"deployed","applyMethod":"ssa"}')
    helm = HelmCli(executable(tmp_path, body=f"#!/bin/sh\necho '{printed}'\n"), "")
    try:
        assert helm.status("r", "default") == Release("r", "default", 3, "deployed", "web",
                                                      "0.2.0", "1.36")
    finally:
        helm.close()
    broken = HelmCli(executable(tmp_path, "broken", "#!/bin/sh\necho '{}'\n"), "")
    try:
        with pytest.raises(UserError, match="helm get metadata: its output is not the release"):
            broken.status("r", "default")
    finally:
        broken.close()
