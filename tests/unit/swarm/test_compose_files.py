"""Every file a compose file names is checked by the local-file policy on the path that is opened:
after interpolation and `~` expansion (issue 24, class 2). On a "manager" (LocalFiles with
on_manager=True) a path outside the allowed directory is refused naming the key path and the
setting, with none of the file's content; relative paths stay blueprint resources."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cloudify_shared.errors import UserError
from cloudify_shared.local_files import LocalFiles
from cloudify_swarm.compose.engine_spec import NAMESPACE, stack_service_spec
from cloudify_swarm.compose.files import ComposeFiles
from cloudify_swarm.compose.stack import parse_compose_file

CONTENT = "secret_key=do-not-leak-this"


def blueprint(files: dict[str, str],
              asked: list[str] | None = None):  # type: ignore[no-untyped-def]
    """A fake ctx.get_resource over a blueprint holding `files` (path -> text)."""
    def get(path: str) -> bytes:
        if asked is not None:
            asked.append(path)
        if path not in files:
            raise UserError(f"blueprint resource {path!r} not found")
        return files[path].encode()
    return get


def compose(**top: object) -> str:
    return yaml.safe_dump({"version": "3.8", **top})


@pytest.fixture
def host(tmp_path: Path) -> dict[str, Path]:
    """An allowed directory and, outside it, a manager file."""
    allowed, outside = tmp_path / "allowed", tmp_path / "opt" / "manager"
    allowed.mkdir()
    outside.mkdir(parents=True)
    (outside / "rest-security.conf").write_text(CONTENT)
    (allowed / "ok.txt").write_text("fine")
    return {"allowed": allowed, "outside": outside}


def manager(host: dict[str, Path], resources: dict[str, str] | None = None) -> LocalFiles:
    return LocalFiles(True, blueprint(resources or {}), (str(host["allowed"]),))


def refusal(source: ComposeFiles, variables: dict[str, str]) -> str:
    with pytest.raises(UserError) as error:
        parse_compose_file(source, "properties.compose_file", "st", variables)
    message = str(error.value)
    assert ("is a file of the manager's own host" in message
            and "CLOUDIFY_VNF_ALLOWED_DIRS" in message)
    assert CONTENT not in message
    return message


@pytest.mark.parametrize("section", ["configs", "secrets"])
def test_an_interpolated_config_or_secret_file_is_checked_as_opened(
    host: dict[str, Path], section: str,
) -> None:
    text = compose(services={"web": {"image": "i"}},
                   **{section: {"keys": {"file": "${DIR}/rest-security.conf"}}})
    source = ComposeFiles("app/stack.yml", manager(host, {"app/stack.yml": text}))
    message = refusal(source, {"DIR": str(host["outside"])})
    # the key path and the variable are named, not the variable's value
    assert message.startswith(f"properties.compose_file (stack.yml).{section}.keys.file: "
                              "'${DIR}/rest-security.conf'")
    assert str(host["outside"]) not in message


def test_a_host_compose_file_in_an_allowed_directory_cannot_interpolate_its_way_out(
    host: dict[str, Path],
) -> None:
    # as written, `${DIR}/...` joined to the allowed folder lies inside it: the old check passed it
    (host["allowed"] / "stack.yml").write_text(
        compose(services={"web": {"image": "i"}},
                configs={"c": {"file": "${DIR}/rest-security.conf"}}))
    source = ComposeFiles(str(host["allowed"] / "stack.yml"), manager(host))
    refusal(source, {"DIR": str(host["outside"])})
    # `..` out of the allowed folder, relative to the compose file, is refused by its real path
    (host["allowed"] / "stack.yml").write_text(
        compose(services={"web": {"image": "i"}},
                configs={"c": {"file": "../opt/manager/rest-security.conf"}}))
    refusal(ComposeFiles(str(host["allowed"] / "stack.yml"), manager(host)), {})


def test_an_env_file_is_checked_after_interpolation_and_home_expansion(
    host: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOME", str(host["outside"]))
    text = compose(services={"web": {"image": "i", "env_file": ["${NAME:-~/rest-security.conf}"]}})
    source = ComposeFiles("stack.yml", manager(host, {"stack.yml": text}))
    message = refusal(source, {})
    assert "services.web.env_file[0]: '~/rest-security.conf'" in message
    text = compose(services={"web": {"image": "i", "env_file": "${WHERE}"}})
    source = ComposeFiles("stack.yml", manager(host, {"stack.yml": text}))
    assert "services.web.env_file[0]: '${WHERE}'" in refusal(
        source, {"WHERE": str(host["outside"] / "rest-security.conf")})


def test_the_compose_file_itself_is_checked(host: dict[str, Path]) -> None:
    with pytest.raises(UserError,
                       match="properties.compose_file: .* is a file of the manager's own host"):
        ComposeFiles(str(host["outside"] / "rest-security.conf"), manager(host))


def test_allowed_and_relative_files_are_read(host: dict[str, Path]) -> None:
    # a host compose file in the allowed directory reads its relative files and .env beside it
    (host["allowed"] / ".env").write_text("F=ok.txt\n")
    (host["allowed"] / "stack.yml").write_text(compose(services={"web": {"image": "i"}},
                                                       configs={"c": {"file": "${F}"}}))
    stack = parse_compose_file(ComposeFiles(str(host["allowed"] / "stack.yml"), manager(host)), "p",
                               "st")
    assert [o.data for o in stack.objects if o.kind == "config"] == ["fine"]
    # a blueprint-resource compose file: relative files (interpolated) are blueprint resources
    asked: list[str] = []
    resources = {"app/stack.yml": compose(services={"web": {"image": "i", "env_file": "${E}"}},
                                          secrets={"s": {"file": "files/s.txt"}}),
                 "app/files/s.txt": "pw", "app/conf/web.env": "A=1\n",
                 "app/.env": "E=conf/web.env\n"}
    files = LocalFiles(True, blueprint(resources, asked), ())
    stack = parse_compose_file(ComposeFiles("app/stack.yml", files), "p", "st")
    assert asked == ["app/stack.yml", "app/.env", "app/files/s.txt", "app/conf/web.env"]
    assert stack_service_spec("st", stack.services[0], {NAMESPACE: "st"}, {})[
        "TaskTemplate"]["ContainerSpec"]["Env"] == ["A=1"]
    assert "pw" not in repr(stack)  # a secret's content is never in a repr


def test_a_relative_file_may_not_leave_the_blueprint(host: dict[str, Path]) -> None:
    text = compose(services={"web": {"image": "i"}},
                   configs={"c": {"file": "${UP}/other-blueprint/x"}})
    source = ComposeFiles("app/stack.yml", manager(host, {"app/stack.yml": text}))
    with pytest.raises(UserError, match=r"configs.c.file: '\${UP}/other-blueprint/x' points "
                                        r"outside the blueprint"):
        parse_compose_file(source, "p", "st", {"UP": "../.."})
    with pytest.raises(UserError, match="points outside the blueprint"):
        ComposeFiles("../other/stack.yml", manager(host))


def test_in_the_local_profile_a_host_path_is_read_as_it_is(host: dict[str, Path]) -> None:
    text = compose(services={"web": {"image": "i"}},
                   configs={"c": {"file": "${DIR}/rest-security.conf"}})
    files = LocalFiles(False, blueprint({"stack.yml": text}))
    stack = parse_compose_file(ComposeFiles("stack.yml", files), "p", "st",
                               {"DIR": str(host["outside"])})
    assert [o.data for o in stack.objects if o.kind == "config"] == [CONTENT]


def test_bind_sources_are_the_engines_not_under_the_file_policy(host: dict[str, Path]) -> None:
    # the worker never opens a bind source: the Engine mounts it from its own host (which
    # Engines a blueprint may reach is the endpoint allowlist's decision); sent as written
    text = compose(services={"web": {"image": "i", "volumes": ["${SRC}:/data:ro"]}})
    (host["allowed"] / "stack.yml").write_text(text)
    stack = parse_compose_file(ComposeFiles(str(host["allowed"] / "stack.yml"), manager(host)), "p",
                               "st",
                               {"SRC": "/srv/data"})
    mounts = stack_service_spec("st", stack.services[0], {},
                                {})["TaskTemplate"]["ContainerSpec"]["Mounts"]
    assert mounts == [{"Type": "bind", "Source": "/srv/data", "Target": "/data", "ReadOnly": True}]
    # relative: only beside a host compose file; in a blueprint resource it names no host folder
    source = ComposeFiles("stack.yml", manager(host, {"stack.yml": compose(
        services={"web": {"image": "i", "volumes": ["./data:/data"]}})}))
    with pytest.raises(UserError, match="the relative bind source './data'"):
        parse_compose_file(source, "p", "st")
