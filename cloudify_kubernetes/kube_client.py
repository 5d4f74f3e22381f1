"""The Kubernetes client library, loaded for what api_backend uses (issue 28). Import it from here,
never `kubernetes` directly.

On a manager every operation is a fresh process. `import kubernetes` runs the package's
__init__, which imports every API class and every model of kubernetes.client (some 700 modules),
the config loaders, the watch and the websocket stream: about 0.35 s of CPU, which an operation
paid before its first request. api_backend needs the configuration, the ApiClient, the dynamic
client and the exceptions. So the three package inits that load the rest (`kubernetes`,
`kubernetes.client`, `kubernetes.client.models`) are deferred: each package is registered empty
(its submodules import normally) and runs its real __init__ the first time a name it would define
is asked for (a typed API such as CoreV1Api, a model). Nothing is left out: a deferred name costs
its import when first used, as before. An import of `kubernetes` that came first wins (nothing
is deferred then).

Written against kubernetes 35.0.0: kubernetes/__init__.py defines __version__ (which the dynamic
client's discovery cache reads) and imports client, config, dynamic, watch, stream, utils and
leaderelection; kubernetes/config/kube_config.py takes ApiClient and Configuration from
kubernetes.client, kubernetes/client/api_client.py imports kubernetes.client.models and reads a
model from it only to deserialise a typed response. tests/unit/kubernetes/test_kube_client.py
pins that the deferred names still resolve to the library's own.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from types import ModuleType
from typing import Any

DEFERRED = ("kubernetes", "kubernetes.client", "kubernetes.client.models")


def deferred_package(name: str) -> ModuleType:
    """Package `name` registered without running its __init__ until a name it defines is asked
    for (PEP 562 module __getattr__); a submodule asked for is imported alone."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        raise ImportError(f"no package {name}")
    module = importlib.util.module_from_spec(spec)
    base = list(spec.submodule_search_locations)[0]

    def __getattr__(attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        if (os.path.exists(os.path.join(base, attr + ".py"))
                or os.path.isdir(os.path.join(base, attr))):
            return importlib.import_module(f"{name}.{attr}")  # a submodule: only itself
        del module.__dict__["__getattr__"]
        assert spec is not None and spec.loader is not None
        spec.loader.exec_module(module)  # the real __init__, into the registered module
        return getattr(module, attr)

    module.__dict__["__getattr__"] = __getattr__
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module


@contextmanager
def deferred_package_inits() -> Iterator[None]:
    if "kubernetes" in sys.modules:  # loaded already (by a caller, or a test): nothing to defer
        yield
        return
    top = deferred_package("kubernetes")
    vars(top)["__version__"] = version("kubernetes")
    client = deferred_package("kubernetes.client")
    deferred_package("kubernetes.client.models")
    from kubernetes.client.api_client import ApiClient
    from kubernetes.client.configuration import Configuration
    from kubernetes.client.exceptions import ApiException
    vars(client).update(ApiClient=ApiClient, Configuration=Configuration, ApiException=ApiException)
    yield


with deferred_package_inits():
    import kubernetes
    import kubernetes.client.api_client
    import kubernetes.client.configuration
    import kubernetes.config
    from kubernetes.client.rest import ApiException
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

__all__ = ["ApiException", "DynamicClient", "ResourceNotFoundError", "kubernetes"]
