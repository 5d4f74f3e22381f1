"""The local-file policy (cloudify_shared.local_files): blueprint resources for relative paths,
host paths as they are in the local profile, and on a manager only under the administrator's
CLOUDIFY_VNF_ALLOWED_DIRS after symlinks and `..` are resolved."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from cloudify_kubernetes.connection import (
    ApiSettings,
    SshSettings,
    check_kubeconfig,
    with_local_paths,
)
from cloudify_shared.errors import UserError
from cloudify_shared.local_files import (
    ALLOWED_DIRS_ENV,
    LocalFiles,
    allowed_dirs_from,
    check_host_path,
)
from cloudify_shared.tasks import on_manager


def resources(**files: bytes) -> Any:
    def get(path: str) -> bytes:
        if path not in files:
            raise UserError(f"blueprint resource {path!r} not found")
        return files[path]
    return get


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    allowed = tmp_path / "allowed"
    outside = tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (allowed / "token").write_text("tok\n")
    (outside / "keys.conf").write_text("secret_key: manager\n")
    (allowed / "link").symlink_to(outside / "keys.conf")
    return {"allowed": allowed, "outside": outside}


def manager(tree: dict[str, Path], **files: bytes) -> LocalFiles:
    return LocalFiles(True, resources(**files),
                      allowed_dirs_from({ALLOWED_DIRS_ENV: str(tree["allowed"])}))


def test_a_relative_path_is_a_blueprint_resource_on_a_manager_and_locally(
    tree: dict[str, Path],
) -> None:
    for files in (manager(tree, **{"secrets/token.txt": b"from the blueprint"}),
                  LocalFiles(False, resources(**{"secrets/token.txt": b"from the blueprint"}))):
        assert files.read_text("secrets/token.txt",
                               "properties.secrets[0].file") == "from the blueprint"
    with pytest.raises(UserError, match="blueprint resource 'missing.txt' not found"):
        manager(tree).read_text("missing.txt", "properties.secrets[0].file")


def test_the_local_profile_reads_any_host_path(tree: dict[str, Path]) -> None:
    files = LocalFiles(False, resources())
    assert files.read_text(str(tree["outside"] / "keys.conf"), "f") == "secret_key: manager\n"
    assert files.local_path(str(tree["outside"] / "keys.conf"),
                            "f") == str(tree["outside"] / "keys.conf")


def test_a_manager_reads_a_host_path_only_under_an_allowed_directory(tree: dict[str, Path]) -> None:
    files = manager(tree)
    assert files.read_text(str(tree["allowed"] / "token"), "properties.api.token_file") == "tok\n"
    with pytest.raises(UserError) as error:
        files.read_text(str(tree["outside"] / "keys.conf"), "properties.secrets[0].file")
    message = str(error.value)
    assert message.startswith(f"properties.secrets[0].file: '{tree['outside'] / 'keys.conf'}' is a "
                              "file "
                              "of the manager's own host, outside the blueprint")
    assert "blueprint's resources" in message and "get_secret" in message
    assert f"listing it in {ALLOWED_DIRS_ENV} in the mgmtworker's environment" in message
    assert f"allowed now: {tree['allowed']}" in message
    assert "secret_key" not in message


def test_dot_dot_and_symlinks_out_of_an_allowed_directory_are_refused(
    tree: dict[str, Path],
) -> None:
    files = manager(tree)
    escape = f"{tree['allowed']}/../outside/keys.conf"
    with pytest.raises(UserError, match=r"resolves to .*outside/keys\.conf"):
        files.read_text(escape, "properties.api.ca_file")
    with pytest.raises(UserError, match=r"properties\.api\.ca_file: .*link. \(resolves to "
                                        r".*outside/keys\.conf"):
        files.local_path(str(tree["allowed"] / "link"), "properties.api.ca_file")
    # a directory whose name only starts like the allowed one is not under it
    sibling = Path(str(tree["allowed"]) + "-not")
    sibling.mkdir()
    (sibling / "x").write_text("x")
    with pytest.raises(UserError):
        files.read_text(str(sibling / "x"), "f")


def test_no_directory_is_allowed_by_default_and_relative_entries_are_ignored(
    tree: dict[str, Path],
) -> None:
    assert allowed_dirs_from({}) == ()
    assert allowed_dirs_from({ALLOWED_DIRS_ENV: os.pathsep.join(["", "relative/dir",
                                                                 "/srv/certs"])}) == ("/srv/certs",)
    with pytest.raises(UserError, match="allowed now: none"):
        check_host_path(str(tree["allowed"] / "token"), "f", True, ())
    with pytest.raises(UserError, match="manager's own host"):
        check_host_path("~/.ssh/id_rsa", "properties.ssh.key_file", True, ())


def test_an_allowed_directory_given_through_a_symlink_is_resolved_too(
    tree: dict[str, Path], tmp_path: Path,
) -> None:
    (tmp_path / "alias").symlink_to(tree["allowed"])
    dirs = allowed_dirs_from({ALLOWED_DIRS_ENV: str(tmp_path / "alias")})
    assert check_host_path(str(tree["allowed"] / "token"), "f", True,
                           dirs) == str(tree["allowed"] / "token")


def test_a_missing_host_file_names_the_field(tree: dict[str, Path]) -> None:
    with pytest.raises(UserError,
                       match=r"properties\.api\.token_file: cannot read .*nothing: No such file"):
        manager(tree).read_text(str(tree["allowed"] / "nothing"), "properties.api.token_file")


def test_a_resource_a_library_opens_is_a_private_copy_removed_by_close(
    tree: dict[str, Path],
) -> None:
    with manager(tree, **{"tls/ca.pem": b"PEM"}) as files:
        path = files.local_path("tls/ca.pem", "properties.endpoint.tls.ca_cert")
        assert Path(path).read_bytes() == b"PEM" and path.endswith("ca.pem")
        assert os.stat(path).st_mode & 0o077 == 0
        assert files.local_path("tls/ca.pem", "f") != path  # copies never overwrite each other
    assert not Path(path).exists()


def test_only_an_operation_marked_local_is_outside_a_manager() -> None:
    class Ctx:
        def __init__(self, local: Any) -> None:
            self._local = local
    assert on_manager(Ctx(False)) and on_manager(object()) and on_manager(Ctx("yes"))
    assert not on_manager(Ctx(True))


def test_every_kubernetes_file_setting_goes_through_the_policy() -> None:
    seen: list[str] = []

    def record(value: str, field: str) -> str:
        seen.append(field)
        return "/checked/" + os.path.basename(value)

    api = ApiSettings(host="https://h", token_file="/t", ca_file="ca", client_cert_file="/c",
                      client_key_file="/k")
    checked = with_local_paths(api, record, "kubernetes_info")
    assert (isinstance(checked,
                      ApiSettings) and checked.token_file == "/checked/t" and checked.ca_file
            == "/checked/ca")
    assert seen == [f"kubernetes_info.api.{n}"
                    for n in ("token_file", "ca_file", "client_cert_file", "client_key_file")]
    seen.clear()
    ssh = with_local_paths(SshSettings(host="m", key_file="~/.ssh/id", known_hosts="/kh"), record)
    assert isinstance(ssh, SshSettings) and (ssh.key_file, ssh.known_hosts) == ("/checked/id",
                                                                                "/checked/kh")
    assert seen == ["properties.ssh.key_file", "properties.ssh.known_hosts"]


def test_a_blueprint_kubeconfig_on_a_manager_runs_no_command_and_names_only_allowed_files(
    tree: dict[str, Path],
) -> None:
    files = manager(tree)
    where = "properties.api.kubeconfig_content"
    ok = {"clusters": [{"cluster": {"server": "https://h", "certificate-authority-data": "eA=="}}],
          "users": [{"user": {"tokenFile": str(tree["allowed"] / "token")}}]}
    check_kubeconfig(ok, where, files.host_path)
    with pytest.raises(UserError,
                       match=r"users\[0\]\.user\.tokenFile: .*keys\.conf.* manager's own host"):
        check_kubeconfig({"users": [{"user": {"tokenFile": str(tree["outside"] / "keys.conf")}}]},
                         where, files.host_path)
    with pytest.raises(UserError, match=r"clusters\[0\]\.cluster\.certificate-authority: 'ca.crt' "
                                        r"is relative"):
        check_kubeconfig("clusters: [{cluster: {certificate-authority: ca.crt}}]", where,
                         files.host_path)
    with pytest.raises(UserError, match=r"users\[1\]\.user\.exec: a kubeconfig that runs a command "
                                        r"is refused"):
        check_kubeconfig({"users": [{"user": {}}, {"user": {"exec": {"command": "sh"}}}]}, where,
                         files.host_path)
    with pytest.raises(UserError, match=r"auth-provider: a kubeconfig that runs a command"):
        check_kubeconfig(
            {"users": [{"user": {"auth-provider": {"config": {"cmd-path": "/bin/sh"}}}}]},
            where, files.host_path)


def test_swarm_files_are_read_with_their_field_before_anything_is_made() -> None:
    from cloudify_swarm.objects import object_data
    from cloudify_swarm.spec.microservice import parse_microservice

    service = parse_microservice({"secrets": [{"name": "s", "data": "inline"}, {"name": "e"}],
                                  "configs": [{"name": "a", "file": "conf/a"},
                                              {"name": "b", "file": "/etc/b"}]})
    asked: list[tuple[str, str]] = []

    def read(path: str, field: str) -> str:
        asked.append((path, field))
        if path.startswith("/"):
            raise UserError(f"{field}: refused")
        return "text"

    with pytest.raises(UserError, match=r"properties\.configs\[1\]\.file: refused"):
        object_data(service, read)
    assert asked == [("conf/a", "properties.configs[0].file"),
                     ("/etc/b", "properties.configs[1].file")]
