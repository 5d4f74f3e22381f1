"""The runtime properties each plugin declares (cloudify_*/runtime_properties.py, shown on the
reference pages) cover what its code writes.

What this can see, statically: a subscript assignment with a literal key, or a key named by a
module-level string constant of the same package (INFO = "kubernetes_info"), on
`<anything>.runtime_properties[...]` or on a variable of the names the code uses for them
(props, runtime, runtime_properties), and set_on_microservice(host, "<key>", ...) calls. What it
cannot see: keys written through `.update(facts)` (checked below for the functions that make
those facts), keys computed at run time (a proxy's copied outputs), or a variable of another name.
It does not tell node types apart: a key declared for any type of the plugin counts.
"""
from __future__ import annotations

import ast
from types import ModuleType
from typing import Any

import pytest

from cloudify_kubernetes import engine
from cloudify_kubernetes import runtime_properties as kubernetes_runtime
from cloudify_proxy import mapping
from cloudify_proxy import runtime_properties as proxy_runtime
from cloudify_swarm import runtime_properties as swarm_runtime
from tests.helpers.paths import ROOT

RUNTIME_NAMES = {"props", "runtime", "runtime_properties"}
# function name -> position of the key argument, for helpers that write one runtime property
WRITER_CALLS = {"set_on_microservice": 1}
PLUGINS = {"cloudify_kubernetes": kubernetes_runtime, "cloudify_swarm": swarm_runtime,
           "cloudify_proxy": proxy_runtime}


def declared(module: ModuleType) -> set[str]:
    return {key for table in (module.PUBLISHED, module.INTERNAL)
            for names in table.values() for key in names}


def string_constants(trees: list[ast.Module]) -> dict[str, str]:
    """Module-level NAME = "text" assignments (a name given two values is left out)."""
    found: dict[str, set[str]] = {}
    for tree in trees:
        for node in tree.body:
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found.setdefault(target.id, set()).add(node.value.value)
    return {name: values.pop() for name, values in found.items() if len(values) == 1}


def key_of(node: ast.expr, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def is_runtime_mapping(node: ast.expr) -> bool:
    return ((isinstance(node, ast.Attribute) and node.attr == "runtime_properties")
            or (isinstance(node, ast.Name) and node.id in RUNTIME_NAMES))


def written_keys(tree: ast.AST, constants: dict[str, str]) -> set[str]:
    keys: set[str | None] = set()
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else []
        keys |= {key_of(t.slice, constants) for t in targets
                 if isinstance(t, ast.Subscript) and is_runtime_mapping(t.value)}
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in WRITER_CALLS and len(node.args) > WRITER_CALLS[node.func.id]):
            keys.add(key_of(node.args[WRITER_CALLS[node.func.id]], constants))
    return {key for key in keys if key is not None}


def package_writes(package: str) -> dict[str, set[str]]:
    """Module (relative path) -> the runtime property keys it writes, for every module."""
    paths = sorted((ROOT / package).rglob("*.py"))
    trees = [ast.parse(path.read_text(), filename=str(path)) for path in paths]
    constants = string_constants(trees)
    return {str(path.relative_to(ROOT)): written_keys(tree, constants)
            for path, tree in zip(paths, trees, strict=True)}


@pytest.mark.parametrize("package", sorted(PLUGINS))
def test_every_literal_key_written_is_declared(package: str) -> None:
    known = declared(PLUGINS[package])
    undeclared = {module: sorted(keys - known)
                  for module, keys in package_writes(package).items() if keys - known}
    assert not undeclared, (f"runtime properties written but not declared in {package}/"
                            f"runtime_properties.py (PUBLISHED, or INTERNAL): {undeclared}")


def test_the_scan_sees_what_the_tasks_write() -> None:
    """Not vacuous: the scan finds the writes we know of, through each pattern it claims."""
    kubernetes = set().union(*package_writes("cloudify_kubernetes").values())
    swarm = set().union(*package_writes("cloudify_swarm").values())
    assert {"kubernetes_info", "name_suffix", "release_name", "drift", "inputs_used"} <= kubernetes
    assert {"swarm_info", "port", "service_name", "service", "container", "invalid",
            "create_env_keys"} <= swarm


def test_scan_patterns() -> None:
    source = ('KEY = "from_constant"\n'
              'def f(ctx, props, other):\n'
              '    ctx.instance.runtime_properties["literal"] = 1\n'
              '    props[KEY] = 2\n'
              '    other["not_runtime"] = 3\n'
              '    props[computed()] = 4\n'
              '    set_on_microservice(host, "via_helper", 5)\n')
    tree = ast.parse(source)
    assert written_keys(tree, string_constants([tree])) == {"literal", "from_constant",
                                                            "via_helper"}


def test_facts_written_through_update_are_declared() -> None:
    """The keys of the facts dicts the tasks merge with .update(), which the scan cannot see."""
    no_backend: Any = None  # describe asks the backend only about the objects it is given
    microservice = set(kubernetes_runtime.PUBLISHED["cloudify.kubernetes.Microservice"])
    assert set(engine.describe(no_backend, [])) <= microservice
    from cloudify_kubernetes.tasks_helm import FACTS
    assert set(FACTS) <= set(kubernetes_runtime.PUBLISHED["cloudify.kubernetes.HelmRelease"])
    proxy = set(proxy_runtime.PUBLISHED["cloudify.nodes.DeploymentProxy"])
    assert set(mapping.proxy_properties("upstream", {}, capabilities={})) <= proxy


def test_declared_types_exist_in_the_plugin_yaml() -> None:
    import yaml
    node_types = set(yaml.safe_load((ROOT / "plugin_1_5.yaml").read_text())["node_types"])
    for module in PLUGINS.values():
        assert set(module.PUBLISHED) | set(module.INTERNAL) <= node_types
