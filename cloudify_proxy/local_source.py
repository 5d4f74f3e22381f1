"""Adapter: deployments of the `cfy` local profile, read from its file storage.

The CLI keeps each deployment under `<storage_dir>/deployments/<id>/` (deployment.json,
node-instances/*.json, executions.json); `cloudify.workflows.local.load_env` reads them and
evaluates the outputs (get_attribute, concat...) as `cfy deployments outputs` does. The local
profile has no capabilities command and its environment no capabilities(), but the stored plan
keeps the blueprint's `capabilities:` and dsl_parser's evaluate_capabilities (what the manager's
REST service runs for GET /deployments/<id>/capabilities) evaluates them against the same
storage; that is what `capabilities()` does here. The files
may be half-written while another `cfy` process runs: a file that does not parse is a
TransientError (read again later), never a verdict. No ctx here.

cloudify.workflows.local (dsl_parser, networkx: about 0.2 s) is imported when a deployment is
first read, not when the module loads, so proxy operations that read nothing do not pay for it.
"""
from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from typing import Any

from cloudify_shared.errors import TransientError, described

PROFILE_SUBDIR = os.path.join(".cloudify", "profiles", "local")


def default_storage_dir(environ: Mapping[str, str] = os.environ) -> str:
    """The local profile's storage, as the cfy CLI computes it: $CFY_WORKDIR or the home."""
    base = environ.get("CFY_WORKDIR") or os.path.expanduser("~")
    return os.path.join(base, PROFILE_SUBDIR)


class LocalProfileSource:
    def __init__(self, storage_dir: str) -> None:
        self.storage_dir = storage_dir

    def describe(self) -> str:
        return f"the cfy local profile at {self.storage_dir}"

    def _env(self, deployment_id: str) -> Any:
        from cloudify.workflows import local
        storage = local.FileStorage(storage_dir=self.storage_dir)
        try:
            return local.load_env(deployment_id, storage=storage)
        except (ValueError, KeyError, OSError) as error:  # a file being written right now
            raise TransientError(f"deployment '{deployment_id}' in {self.describe()} could not "
                                 f"be read yet ({described(error)})") from error

    def executions(self, deployment_id: str) -> list[Mapping[str, Any]] | None:
        env = self._env(deployment_id)
        if env is None:
            return None
        return list(env.storage.get_executions())

    def _loaded(self, deployment_id: str, what: str) -> Any:
        env = self._env(deployment_id)
        if env is None:
            raise TransientError(f"deployment '{deployment_id}' disappeared from "
                                 f"{self.describe()} while its {what} were read")
        return env

    def outputs(self, deployment_id: str) -> dict[str, Any]:
        env = self._loaded(deployment_id, "outputs")
        try:
            return dict(env.outputs())
        except (ValueError, KeyError, OSError) as error:
            raise TransientError(f"outputs of deployment '{deployment_id}' could not be "
                                 f"evaluated yet ({described(error)})") from error

    def capabilities(self, deployment_id: str) -> dict[str, Any]:
        env = self._loaded(deployment_id, "capabilities")
        from dsl_parser import functions
        declared = copy.deepcopy(env.plan.get("capabilities") or {})
        try:
            return dict(functions.evaluate_capabilities(declared, env.storage))
        except (ValueError, KeyError, OSError) as error:
            raise TransientError(f"capabilities of deployment '{deployment_id}' could not be "
                                 f"evaluated yet ({described(error)})") from error
