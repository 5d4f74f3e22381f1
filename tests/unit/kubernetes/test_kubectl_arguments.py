"""Issue 24, class 8: over SSH, what reaches kubectl is one shlex-quoted argument list; options
carry their value in the same argument, positional arguments follow `--`; names, namespaces and
apiVersions are checked as Kubernetes checks them before any command runs; a delete is a raw
DELETE with the uid precondition, and a Conflict means the object is not ours."""
from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

import pytest

from cloudify_kubernetes.backend import NotOurs, ObjectRef
from cloudify_kubernetes.connection import SshSettings
from cloudify_kubernetes.kubectl_ssh_backend import KubectlSshBackend
from cloudify_kubernetes.naming import check_api_version, check_name
from cloudify_shared.errors import TransientError, UserError

DISCOVERY = {"v1": {"resources": [
    {"name": "configmaps", "kind": "ConfigMap", "namespaced": True},
    {"name": "namespaces", "kind": "Namespace", "namespaced": False},
    {"name": "pods", "kind": "Pod", "namespaced": True}]},
    "rbac.authorization.k8s.io/v1": {"resources": [
        {"name": "clusterroles", "kind": "ClusterRole", "namespaced": False}]}}


@dataclass
class Result:
    stdout: str = ""
    stderr: str = ""
    exited: int = 0


class FakeConnection:
    """Records the command lines the master's shell would run, answers like kubectl 1.20."""

    def __init__(self, stderr: str = "") -> None:
        self.commands: list[str] = []
        self.stdin: list[str] = []
        self.stderr = stderr

    def run(self, command: str, **kwargs: Any) -> Result:
        self.commands.append(command)
        stream = kwargs.get("in_stream")
        if stream:
            self.stdin.append(stream.getvalue())
        argv = shlex.split(command)
        raw = next((a.split("=", 1)[1] for a in argv if a.startswith("--raw=")), None)
        if "get" in argv and raw is not None:
            return Result(json.dumps(DISCOVERY[raw.split("/", 2)[2]]))
        if self.stderr:
            return Result(stderr=self.stderr, exited=1)
        return Result("{}")

    def close(self) -> None:
        pass


def backend(kubectl: str = "kubectl", stderr: str = "") -> tuple[KubectlSshBackend, FakeConnection]:
    ssh = KubectlSshBackend.__new__(KubectlSshBackend)
    ssh.settings = SshSettings(host="m", key_file="/k", kubectl=kubectl,
                               kubeconfig="/etc/kube config")
    ssh._discovery = {}
    ssh._session_worked = False
    conn = FakeConnection(stderr)
    ssh.conn = conn
    return ssh, conn


def test_positional_names_follow_a_double_dash_and_options_carry_their_values() -> None:
    ssh, conn = backend("/opt/my kubectl")
    ssh.get(ObjectRef("v1", "ConfigMap", "web", "team-a"))
    assert shlex.split(conn.commands[-1]) == [
        "/opt/my kubectl", "--kubeconfig=/etc/kube config", "get", "--ignore-not-found",
        "--namespace=team-a", "--output=json", "--", "configmaps", "web"]
    ssh.list_objects("v1", "Pod", None, "app=-x")
    assert shlex.split(conn.commands[-1])[2:] == [
        "get", "--selector=app=-x", "--all-namespaces", "--output=json", "--", "pods"]
    ssh.logs("team-a", "web-1", "c", 20)
    assert shlex.split(conn.commands[-1])[2:] == [
        "logs", "--namespace=team-a", "--tail=20", "--container=c", "--", "web-1"]


@pytest.mark.parametrize(("ref", "message"), [
    (ObjectRef("v1", "ConfigMap", "--kubeconfig=/etc/shadow", "default"),
     "not a valid name for a ConfigMap"),
    (ObjectRef("v1", "ConfigMap", "-o", "default"), "not a valid name"),
    (ObjectRef("v1", "ConfigMap", "a b;rm -rf /", "default"), "not a valid name"),
    (ObjectRef("v1", "ConfigMap", "web", "--all-namespaces"),
     "metadata.namespace: '--all-namespaces'"),
    (ObjectRef("v1", "ConfigMap", "web", "a.b"), "not a valid name for a Namespace"),
    (ObjectRef("../../x", "ConfigMap", "web", "default"), "is not an apiVersion"),
])
def test_a_name_kubectl_could_read_as_an_option_is_refused_before_any_command(
        ref: ObjectRef, message: str) -> None:
    ssh, conn = backend()
    for call in (ssh.get, ssh.delete):
        with pytest.raises(UserError, match=message):
            call(ref)
    assert not [c for c in conn.commands if " get --raw" not in c]


def test_rbac_names_may_hold_colons() -> None:
    ssh, conn = backend()
    ssh.get(ObjectRef("rbac.authorization.k8s.io/v1", "ClusterRole", "system:aggregate-to-view"))
    assert shlex.split(conn.commands[-1])[-2:] == ["clusterroles.v1.rbac.authorization.k8s.io",
                                                   "system:aggregate-to-view"]


def test_a_delete_is_a_raw_delete_with_the_uid_precondition() -> None:
    ssh, conn = backend()
    ssh.delete(ObjectRef("v1", "ConfigMap", "web", "team-a", uid="u-1"))
    assert shlex.split(conn.commands[-1])[2:] == [
        "delete", "--raw=/api/v1/namespaces/team-a/configmaps/web", "--filename=-"]
    assert json.loads(conn.stdin[-1]) == {"kind": "DeleteOptions", "apiVersion": "v1",
                                          "propagationPolicy": "Foreground",
                                          "preconditions": {"uid": "u-1"}}
    ssh.delete(ObjectRef("v1", "Namespace", "team-a"))
    assert "--raw=/api/v1/namespaces/team-a" in conn.commands[-1]
    assert "preconditions" not in json.loads(conn.stdin[-1])


def test_a_conflict_on_a_delete_with_a_uid_means_not_ours() -> None:
    conflict = ('Error from server (Conflict): Operation cannot be fulfilled on ConfigMap "web": '
                "the UID in the precondition (u-1) does not match the UID in record (u-2)")
    ssh, _ = backend(stderr=conflict)
    with pytest.raises(NotOurs, match="made again by someone else"):
        ssh.delete(ObjectRef("v1", "ConfigMap", "web", "default", uid="u-1"))
    gone, _ = backend(stderr='Error from server (NotFound): configmaps "web" not found')
    gone.delete(ObjectRef("v1", "ConfigMap", "web", "default", uid="u-1"))


def test_kubernetes_name_rules() -> None:
    assert check_name("Deployment", "web.v1-a", "f") == "web.v1-a"
    assert check_name("ConfigMap", "a" * 253, "f")
    for kind, name in (("Service", "web.v1"), ("Namespace", "A"), ("Pod", "a" * 254),
                       ("Pod", "-a"), ("Pod", "a..b"), ("Pod", ""), ("ClusterRole", "a/b"),
                       ("Role", ".."), ("Service", "a" * 64)):
        with pytest.raises(UserError, match="is not a valid name"):
            check_name(kind, name, "f")
    assert check_api_version("apps/v1", "f") and check_api_version("v1", "f")
    for bad in ("", "apps/", "/v1", "a/b/v1", "V1", "apps/v1?x"):
        with pytest.raises(UserError):
            check_api_version(bad, "f")


class DroppingConnection(FakeConnection):
    """Answers until `dropped`, then fails the way paramiko does when the session's process
    is killed (EOFError, a reset) or the master refuses new connections."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error
        self.dropped = False

    def run(self, command: str, **kwargs: Any) -> Result:
        if self.dropped:
            raise self.error
        return super().run(command, **kwargs)


@pytest.mark.parametrize(("error", "worked", "message"), [
    (EOFError(), True, "SSH session to ssh://root@m:22 (kubectl) lost: EOFError: "
                       "the connection closed"),
    (ConnectionResetError(104, "reset by peer"), True,
     "SSH session to ssh://root@m:22 (kubectl) lost: ConnectionResetError"),
    (EOFError(), False, "cannot reach ssh://root@m:22 (kubectl): EOFError: the connection closed"),
    (ConnectionRefusedError(111, "refused"), True,
     "cannot reach ssh://root@m:22 (kubectl): ConnectionRefusedError"),
])
def test_a_dropped_session_is_told_apart_from_a_master_not_reached(
        error: BaseException, worked: bool, message: str) -> None:
    ssh, _ = backend()
    conn = DroppingConnection(error)
    ssh.conn = conn
    if worked:
        ssh.get(ObjectRef("v1", "ConfigMap", "web", "default"))
    conn.dropped = True
    with pytest.raises(TransientError) as raised:
        ssh.get(ObjectRef("v1", "ConfigMap", "web", "default"))
    assert message in str(raised.value)
