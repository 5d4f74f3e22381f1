"""The deployment proxy against the real Cloudify REST service.

Upstream deployments are real deployments on the real manager, installed by its mgmtworker. The
proxy runs two ways: on the manager itself (`manager: {}`, the manager running the operation),
and in-process (cloudify.workflows.local, as in the cfy local profile) reaching the manager over
https with the manager's CA: a token, basic auth, a second tenant, and every failure the real
service can be made to give (401, 403, missing deployment, missing output, failed upstream,
upstream still installing, a list of executions longer than one page), and the day-2 workflows
(check_status, check_drift, pull, a deployment update) on a proxy that runs on the manager.
Capabilities (inherit_capabilities) come from GET /deployments/<id>/capabilities: the forms,
the errors, the day-2 workflows, and examples/blueprints/k8s-cluster's kubernetes_info capability
carried into a service deployment whose Microservice reaches the real cluster with it.
What a real manager cannot be made to do (answer 5xx, drop connections) stays with the fake
server in tests/integration/proxy/test_manager_mode.py.
"""
from __future__ import annotations

import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from examples.demo import BLUEPRINTS
from examples.manager import CfyFailed, ManagerAccess, ManagerCfy
from tests.helpers import clusters
from tests.helpers.local_workflows import LocalDeployment
from tests.helpers.paths import K8S_TOKEN_FILE, ROOT, TEST_BLUEPRINTS

UPSTREAM = TEST_BLUEPRINTS / "proxy-upstream" / "blueprint.yaml"
FAILING = TEST_BLUEPRINTS / "proxy-upstream-failing" / "blueprint.yaml"
SLOW = TEST_BLUEPRINTS / "proxy-upstream-slow" / "blueprint.yaml"
DOWNSTREAM = TEST_BLUEPRINTS / "proxy-downstream" / "blueprint.yaml"
CAPAB_DOWNSTREAM = TEST_BLUEPRINTS / "proxy-capab-downstream" / "blueprint.yaml"
CAPAB_SERVICE = TEST_BLUEPRINTS / "capab-k8s-service" / "blueprint.yaml"
UPSTREAM_K8S_INFO = {"host": "https://127.0.0.1:6443", "subnet": "10.10.0.0/24"}
UPSTREAM_TOKEN = "upstream-secret-token-0123"  # proxy-upstream's api_token = its cluster_token
UPSTREAM_IPS = ["10.10.0.2", "10.10.0.3"]  # proxy-upstream's default backend_ips
TENANT_B = "vnf_tenant_b"
RUN = uuid.uuid4().hex[:6]  # users are made per run: the password is too
USER_B, USER_C = f"proxy_b_{RUN}", f"proxy_c_{RUN}"


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def cli(manager_access: ManagerAccess, suite_plugin: str,
        tmp_path_factory: pytest.TempPathFactory) -> ManagerCfy:
    return ManagerCfy(tmp_path_factory.mktemp("cfy-proxy"), manager_access)


@pytest.fixture(scope="module")
def upstream(cli: ManagerCfy) -> Iterator[str]:
    """proxy-upstream, installed on the manager."""
    name = unique("proxy-up")
    cli.install(UPSTREAM, name)
    yield name
    cli.uninstall(name)


@pytest.fixture(scope="module")
def tenant_b(manager_access: ManagerAccess, suite_plugin: str,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ManagerCfy, str, str]]:
    """A second tenant with a user (role `user`) and proxy-upstream installed in it, plus a
    user of a third tenant only; yields (cli in tenant B, its upstream, the users' password)."""
    password = f"pw-{uuid.uuid4().hex}"
    for tenant, user in ((TENANT_B, USER_B), ("vnf_tenant_c", USER_C)):
        subprocess.run(["bash", str(ROOT / "scripts" / "real-manager"), "add-tenant", tenant, user],
                       input=password + "\n", text=True, check=True, capture_output=True)
    access = ManagerAccess(host=manager_access.host, port=manager_access.port,
                           ca_cert=manager_access.ca_cert,
                           password_file=manager_access.password_file,
                           tenant=TENANT_B)
    in_b = ManagerCfy(tmp_path_factory.mktemp("cfy-tenant-b"), access)
    name = unique("proxy-up-b")
    in_b.install(UPSTREAM, name, {"backend_ips": ["10.40.0.2"]})
    yield in_b, name, password
    in_b.uninstall(name)


def local_proxy(upstream: str, manager: dict[str, Any], **inputs: Any) -> LocalDeployment:
    return LocalDeployment(DOWNSTREAM, {"upstream": upstream, "manager": manager, **inputs},
                           name=unique("down"), retries=2, retry_interval=1)


def token_settings(access: ManagerAccess) -> dict[str, Any]:
    token = access.client().tokens.create(description="proxy test", expiration="+1h").value
    return access.as_proxy_settings(token=token)


def failure_of(deployment: LocalDeployment, capfd: pytest.CaptureFixture[str]) -> str:
    capfd.readouterr()
    with pytest.raises(Exception) as error:
        deployment.install()
    captured = capfd.readouterr()
    return f"{error.value}\n{captured.out}\n{captured.err}"


# ---- the proxy on the manager --------------------------------------------------------------------

def test_proxy_on_the_manager_reads_the_manager_it_runs_on(cli: ManagerCfy, upstream: str) -> None:
    name = unique("down-self")
    try:
        cli.install(DOWNSTREAM, name, {"upstream": upstream})
        outputs = cli.outputs(name)
        assert outputs["proxied_ips"] == UPSTREAM_IPS and outputs["router_ips"] == UPSTREAM_IPS
        assert outputs["proxy_deployment"] == upstream
    finally:
        cli.uninstall(name)


def test_proxy_on_the_manager_names_a_missing_deployment_in_the_events(cli: ManagerCfy) -> None:
    name = unique("down-missing")
    try:
        with pytest.raises(CfyFailed):
            cli.install(DOWNSTREAM, name, {"upstream": "no-such-deployment", "timeout": 0})
        install = [e for e in cli.executions(name) if e.workflow_id == "install"][-1]
        assert "deployment 'no-such-deployment' does not exist" in cli.events(install.id)
    finally:
        cli.uninstall(name)


# ---- the proxy in-process, reaching the manager over https ---------------------------------------

def test_token_and_ca_over_https(manager_access: ManagerAccess, upstream: str,
                                 capfd: pytest.CaptureFixture[str]) -> None:
    settings = token_settings(manager_access)
    deployment = local_proxy(upstream, settings)
    deployment.install()
    props = deployment.runtime_properties("kubernetes_proxy")
    assert props["vm_info"]["ips"] == UPSTREAM_IPS and props["deployment_id"] == upstream
    assert deployment.outputs()["router_ips"] == UPSTREAM_IPS
    assert settings["token"] not in str(props) + capfd.readouterr().out
    deployment.uninstall()
    assert "vm_info" not in deployment.runtime_properties("router")
    assert deployment.runtime_properties("kubernetes_proxy") == {}


def test_basic_auth_in_a_second_tenant(manager_access: ManagerAccess,
                                       tenant_b: tuple[ManagerCfy, str, str],
                                       capfd: pytest.CaptureFixture[str]) -> None:
    _, name, password = tenant_b
    settings = manager_access.as_proxy_settings(tenant=TENANT_B, username=USER_B, password=password)
    deployment = local_proxy(name, settings)
    deployment.install()
    assert deployment.runtime_properties("kubernetes_proxy")["vm_info"]["ips"] == ["10.40.0.2"]
    assert password not in capfd.readouterr().out


def test_the_other_tenants_deployment_is_not_found_from_the_default_tenant(
        manager_access: ManagerAccess, tenant_b: tuple[ManagerCfy, str, str],
        capfd: pytest.CaptureFixture[str]) -> None:
    _, name, _ = tenant_b
    message = failure_of(local_proxy(name, token_settings(manager_access), timeout=0), capfd)
    assert f"deployment '{name}' does not exist" in message


def test_a_user_without_a_role_in_the_tenant_gets_a_clear_403(
        manager_access: ManagerAccess, tenant_b: tuple[ManagerCfy, str, str],
        capfd: pytest.CaptureFixture[str]) -> None:
    _, name, password = tenant_b
    settings = manager_access.as_proxy_settings(tenant=TENANT_B, username=USER_C, password=password)
    message = failure_of(local_proxy(name, settings), capfd)
    assert "refused the credentials (403)" in message and password not in message


def test_wrong_token_is_a_clear_401_not_retried(manager_access: ManagerAccess, upstream: str,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    settings = manager_access.as_proxy_settings(token="wrong-token-12345")
    message = failure_of(local_proxy(upstream, settings), capfd)
    assert "refused the credentials (401)" in message
    assert "wrong-token-12345" not in message
    assert message.count("Task failed 'cloudify_proxy.tasks.proxy_create'") == 1


def test_unknown_tenant_is_a_clear_403(manager_access: ManagerAccess, upstream: str,
                                       capfd: pytest.CaptureFixture[str]) -> None:
    settings = {**token_settings(manager_access), "tenant": "no_such_tenant"}
    message = failure_of(local_proxy(upstream, settings), capfd)
    assert "refused the credentials (403)" in message


def test_missing_output(manager_access: ManagerAccess, upstream: str,
                        capfd: pytest.CaptureFixture[str]) -> None:
    message = failure_of(local_proxy(upstream, token_settings(manager_access),
                                     wait_for={"outputs": ["no_such_output"]}), capfd)
    assert f"deployment '{upstream}' has no output 'no_such_output'" in message
    assert "vm_info" in message  # names the outputs it does have


def test_failed_upstream_fails_at_once(cli: ManagerCfy, manager_access: ManagerAccess,
                                       capfd: pytest.CaptureFixture[str]) -> None:
    name = unique("proxy-up-failing")
    try:
        with pytest.raises(CfyFailed):
            cli.install(FAILING, name)
        execution = [e for e in cli.executions(name) if e.workflow_id == "install"][-1]
        message = failure_of(local_proxy(name, token_settings(manager_access)), capfd)
        assert (f"the latest install of deployment '{name}' (execution {execution.id}) "
                "ended with status 'failed'") in message
        assert "no-such-deployment-anywhere" in message  # the upstream's own error, last line
    finally:
        cli.uninstall(name)


def test_upstream_still_installing_is_waited_for(cli: ManagerCfy, manager_access: ManagerAccess,
                                                 capfd: pytest.CaptureFixture[str]) -> None:
    """While the slow upstream installs: a proxy with a 1 s timeout gives up saying what it
    waited for; one with time to spare copies the outputs the install set at its end."""
    name = unique("proxy-up-slow")
    client = manager_access.client()
    try:
        cli.upload_blueprint(SLOW, name)
        cli.create_deployment(name, name, {"seconds": 10})
        client.executions.start(name, "install")
        settings = token_settings(manager_access)
        message = failure_of(local_proxy(name, settings, timeout=1), capfd)
        assert f"gave up waiting for deployment '{name}'" in message
        assert "(its install to finish)" in message
        assert f"install of deployment '{name}' is started" in message
        deployment = local_proxy(name, settings, timeout=120,
                                 inherit_outputs=["vm_info", "ready_at"])
        deployment.install()
        props = deployment.runtime_properties("kubernetes_proxy")
        assert props["ready_at"] and props["vm_info"]["ips"] == ["10.30.0.2", "10.30.0.3"]
    finally:
        cli.uninstall(name)


def test_missing_deployment_waited_for_until_it_is_installed(
        cli: ManagerCfy, manager_access: ManagerAccess) -> None:
    name = unique("proxy-up-late")
    errors: list[BaseException] = []

    def install_later() -> None:
        try:
            cli.install(UPSTREAM, name)
        except CfyFailed as error:
            errors.append(error)

    later = threading.Timer(1.0, install_later)
    try:
        later.start()
        deployment = local_proxy(name, token_settings(manager_access), timeout=120,
                                 wait_for={"missing_deployment": "wait"})
        deployment.install()
        assert deployment.runtime_properties("kubernetes_proxy")["vm_info"]["ips"] == UPSTREAM_IPS
    finally:
        later.join()
        cli.uninstall(name)
    assert not errors


def test_executions_beyond_the_first_page_are_read(cli: ManagerCfy, manager_access: ManagerAccess,
                                                   capfd: pytest.CaptureFixture[str]) -> None:
    """With the manager's page size at 2, the upstream's executions (create, install,
    uninstall) span two pages; the uninstall on the second page is what counts."""
    name = unique("proxy-up-pages")
    client = manager_access.client()
    old = next(c.value for c in client.manager.get_config() if c.name == "default_page_size")
    try:
        cli.install(UPSTREAM, name)
        cli.execute("uninstall", name)
        client.manager.put_config("default_page_size", 2)
        assert len(client.executions.list(deployment_id=name)) == 2  # one page is not all of them
        message = failure_of(local_proxy(name, token_settings(manager_access), timeout=0), capfd)
        assert f"deployment '{name}' was uninstalled after its install" in message
    finally:
        client.manager.put_config("default_page_size", old)
        cli.uninstall(name)


def test_https_without_the_managers_ca_fails_clearly(manager_access: ManagerAccess, upstream: str,
                                                     capfd: pytest.CaptureFixture[str]) -> None:
    settings = {k: v for k, v in token_settings(manager_access).items() if k != "ca_cert"}
    message = failure_of(local_proxy(upstream, settings), capfd)
    assert "TLS failed (check manager.ca_cert)" in message


def test_verify_off_warns_and_works(manager_access: ManagerAccess, upstream: str,
                                    capfd: pytest.CaptureFixture[str]) -> None:
    settings = {**token_settings(manager_access), "verify": False}
    settings.pop("ca_cert")
    deployment = local_proxy(upstream, settings)
    capfd.readouterr()
    deployment.install()
    assert "TLS verification is OFF for manager 127.0.0.1" in capfd.readouterr().out
    assert deployment.runtime_properties("kubernetes_proxy")["vm_info"]["ips"] == UPSTREAM_IPS


def test_refresh_picks_up_a_changed_output(cli: ManagerCfy, manager_access: ManagerAccess,
                                           capfd: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    name = unique("proxy-up-change")
    client = manager_access.client()
    try:
        cli.install(UPSTREAM, name)
        deployment = local_proxy(name, token_settings(manager_access))
        deployment.install()
        (backends,) = client.node_instances.list(deployment_id=name, node_id="backends")
        client.node_instances.update(backends.id, runtime_properties={"ips": ["10.20.0.9"]},
                                     version=backends.version)
        capfd.readouterr()
        deployment.operation("kubernetes_proxy", "cloudify.interfaces.proxy.refresh")
        out = capfd.readouterr().out
        assert f"refreshed outputs of deployment '{name}': vm_info changed" in out
        assert "10.20.0.9" not in out  # names what changed, never the value
        assert deployment.runtime_properties("kubernetes_proxy")["vm_info"]["ips"] == ["10.20.0.9"]
    finally:
        cli.uninstall(name)


# ---- Cloudify's day-2 workflows on a proxy that runs on the manager ------------------------------

def set_backend_ips(manager_access: ManagerAccess, deployment_id: str, ips: list[str]) -> None:
    """Change the upstream's vm_info output (its get_attribute reads this runtime property)."""
    client = manager_access.client()
    (backends,) = client.node_instances.list(deployment_id=deployment_id, node_id="backends")
    client.node_instances.update(backends.id, runtime_properties={"ips": ips},
                                 version=backends.version)


def test_day2_workflows_on_a_proxy_on_the_manager(cli: ManagerCfy, manager_access: ManagerAccess,
                                                  tmp_path: Path) -> None:
    """check_status and check_drift follow the upstream (output names, never values); pull
    copies again; a deployment update pointing the proxy at another upstream updates it in place
    (no proxy_create); check_status fails naming a deleted upstream."""
    up1, up2, down = unique("proxy-up-d2a"), unique("proxy-up-d2b"), unique("down-day2")
    client = manager_access.client()
    try:
        cli.install(UPSTREAM, up1)
        cli.install(UPSTREAM, up2, {"backend_ips": ["10.50.0.2"]})
        cli.install(DOWNSTREAM, down, {"upstream": up1})
        cli.execute("check_status", down)
        set_backend_ips(manager_access, up1, ["10.20.0.9"])
        with pytest.raises(CfyFailed):
            cli.execute("check_status", down)
        check = [e for e in cli.executions(down) if e.workflow_id == "check_status"][-1]
        events = cli.events(check.id)
        assert "output 'vm_info' changed" in events and "10.20.0.9" not in events
        cli.execute("check_drift", down)
        (proxy,) = client.node_instances.list(deployment_id=down, node_id="kubernetes_proxy")
        assert proxy.system_properties["configuration_drift"]["result"] == ["output 'vm_info' "
                                                                            "changed"]
        cli.execute("pull", down)
        assert cli.outputs(down)["proxied_ips"] == ["10.20.0.9"]
        cli.execute("check_status", down)

        inputs = tmp_path / "update.json"
        inputs.write_text(f'{{"upstream": "{up2}"}}')
        cli.run("deployments", "update", down, "-i", str(inputs), timeout=600)
        update = [e for e in cli.executions(down) if e.workflow_id == "update"][-1]
        events = cli.events(update.id)
        assert "cloudify_proxy.tasks.proxy_refresh" in events
        assert "cloudify_proxy.tasks.proxy_create" not in events  # in place, not reinstalled
        assert cli.outputs(down)["proxied_ips"] == ["10.50.0.2"]
        assert cli.outputs(down)["proxy_deployment"] == up2

        cli.uninstall(up2)
        with pytest.raises(CfyFailed):
            cli.execute("check_status", down)
        check = [e for e in cli.executions(down) if e.workflow_id == "check_status"][-1]
        assert f"deployment '{up2}' no longer exists" in cli.events(check.id)
    finally:
        for name in (down, up2, up1):
            cli.uninstall(name)


# ---- capabilities --------------------------------------------------------------------------------

def test_capabilities_copied_on_the_manager_and_checked_by_day2_workflows(
        cli: ManagerCfy, manager_access: ManagerAccess) -> None:
    """A proxy on the manager copies vm_info from the outputs and two capabilities; check_status
    passes, then follows a changed capability by name (never its value); pull copies it again."""
    up, down = unique("proxy-up-cap"), unique("down-cap")
    try:
        cli.install(UPSTREAM, up)
        cli.install(CAPAB_DOWNSTREAM, down, {"upstream": up, "inherit_outputs": ["kubernetes_url"],
                                            "inherit_capabilities": ["kubernetes_info", "vm_info"]})
        outputs = cli.outputs(down)
        assert outputs["proxied_kubernetes"] == UPSTREAM_K8S_INFO
        assert outputs["router_kubernetes"] == UPSTREAM_K8S_INFO
        assert outputs["copied_capabilities"] == ["kubernetes_info", "vm_info"]
        cli.execute("check_status", down)
        set_backend_ips(manager_access, up, ["10.20.0.9"])  # the vm_info capability changes
        with pytest.raises(CfyFailed):
            cli.execute("check_status", down)
        check = [e for e in cli.executions(down) if e.workflow_id == "check_status"][-1]
        events = cli.events(check.id)
        assert "capability 'vm_info' changed" in events and "10.20.0.9" not in events
        assert "output 'kubernetes_url'" not in events
        cli.execute("check_drift", down)
        (proxy,) = manager_access.client().node_instances.list(deployment_id=down,
                                                                node_id="kubernetes_proxy")
        assert proxy.system_properties["configuration_drift"]["result"] == ["capability 'vm_info' "
                                                                            "changed"]
        cli.execute("pull", down)
        (proxy,) = manager_access.client().node_instances.list(deployment_id=down,
                                                                node_id="kubernetes_proxy")
        assert proxy.runtime_properties["vm_info"]["ips"] == ["10.20.0.9"]
        cli.execute("check_status", down)
    finally:
        cli.uninstall(down)
        cli.uninstall(up)


def capab_proxy(upstream: str, manager: dict[str, Any], **inputs: Any) -> LocalDeployment:
    return LocalDeployment(CAPAB_DOWNSTREAM, {"upstream": upstream, "manager": manager, **inputs},
                           name=unique("down-cap"), retries=2, retry_interval=1)


def test_all_and_mapped_capabilities_over_https(manager_access: ManagerAccess, upstream: str,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    settings = token_settings(manager_access)
    every = capab_proxy(upstream, settings)
    capfd.readouterr()
    every.install()
    props = every.runtime_properties("kubernetes_proxy")
    assert props["copied_capabilities"] == ["cluster_token", "kubernetes_info", "vm_info"]
    assert props["cluster_token"] == UPSTREAM_TOKEN and props["vm_info"]["ips"] == UPSTREAM_IPS
    assert UPSTREAM_TOKEN not in capfd.readouterr().out  # copied, never logged
    mapped = capab_proxy(upstream, settings, inherit_outputs=["vm_info"],
                         inherit_capabilities={"kubernetes_info": "cluster"})
    mapped.install()
    props = mapped.runtime_properties("kubernetes_proxy")
    assert props["cluster"] == UPSTREAM_K8S_INFO and props["copied_capabilities"] == ["cluster"]
    assert mapped.outputs()["proxied_kubernetes"] is None
    mapped.uninstall()
    assert mapped.runtime_properties("kubernetes_proxy") == {}


def test_a_missing_capability_and_a_clash_fail_naming_them(
        manager_access: ManagerAccess, upstream: str, capfd: pytest.CaptureFixture[str]) -> None:
    settings = token_settings(manager_access)
    message = failure_of(capab_proxy(upstream, settings, inherit_capabilities=["swarm_info"]),
                         capfd)
    assert (f"inherit_capabilities: deployment '{upstream}' has no capability 'swarm_info'; its "
            "capabilities are: cluster_token, kubernetes_info, vm_info") in message
    message = failure_of(capab_proxy(upstream, settings, inherit_outputs=["vm_info"],
                                     inherit_capabilities={"kubernetes_info": "vm_info"}), capfd)
    assert ("output 'vm_info' and capability 'kubernetes_info' would both be copied to runtime "
            "property 'vm_info' with different values") in message
    assert message.count("Task failed 'cloudify_proxy.tasks.proxy_create'") == 1  # not retried


@pytest.mark.usefixtures("kube")
def test_kubernetes_info_capability_flows_from_k8s_cluster_into_a_service_on_the_manager(
        cli: ManagerCfy, manager_access: ManagerAccess) -> None:
    cluster, service = unique("m-k8s-cap"), unique("m-svc-cap")
    namespace = f"capab-{uuid.uuid4().hex[:6]}"
    clusters.kubectl("create", "namespace", namespace)
    try:
        cli.install(BLUEPRINTS / "k8s-cluster" / "blueprint.yaml", cluster,
                    {"namespace": namespace})
        capabilities = manager_access.client().deployments.capabilities.get(cluster)["capabilities"]
        assert capabilities["kubernetes_info"]["endpoint"] == "https://127.0.0.1:6443"
        cli.install(CAPAB_SERVICE, service, {"cluster_deployment": cluster, "namespace": namespace})
        (proxy,) = manager_access.client().node_instances.list(deployment_id=service,
                                                                node_id="kubernetes_proxy")
        assert proxy.runtime_properties["copied_capabilities"] == ["kubernetes_info"]
        assert proxy.runtime_properties["copied_outputs"] == ["vm_info"]
        outputs = cli.outputs(service)
        assert outputs["kubernetes_info"] == capabilities["kubernetes_info"]
        assert outputs["routes_connection"] == capabilities["kubernetes_info"]
        configmap = clusters.kubectl("get", "configmap", "capab-routes", "-n", namespace,
                                     "-o", "jsonpath={.data.source}")
        assert configmap.stdout == "capability kubernetes_info"
        install = [e for e in cli.executions(service) if e.workflow_id == "install"][-1]
        events = cli.events(install.id)
        assert "copied 1 capability(ies) of deployment" in events
        assert K8S_TOKEN_FILE.read_text().strip() not in events + str(proxy.runtime_properties)
        cli.uninstall(service)
        assert clusters.kubectl("get", "configmap", "capab-routes", "-n", namespace,
                                check=False).returncode != 0
    finally:
        cli.uninstall(service)
        cli.uninstall(cluster)
        clusters.wait_gone(lambda: clusters.leftovers(cluster), timeout=90)
        clusters.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
