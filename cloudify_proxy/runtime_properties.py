"""Runtime properties cloudify.nodes.DeploymentProxy writes: what `get_attribute` can read.

A declared list, kept next to the code that writes them (tasks.py; mapping.py makes the copied
set, config.RESERVED names the fixed ones). The reference pages (docs/reference, made by
`python -m cloudify_shared.offline.reference`) show PUBLISHED; INTERNAL would name bookkeeping
(the proxy keeps none). Plain data, no imports. A name in <angle brackets> stands for many.
"""
from __future__ import annotations

PUBLISHED: dict[str, dict[str, str]] = {
    "cloudify.nodes.DeploymentProxy": {
        "<output or capability>": "Each copied output (and capability) of the upstream, under "
                                  "its own name or the one inherit_outputs / "
                                  "inherit_capabilities maps it to.",
        "deployment_id": "The upstream deployment it copied from.",
        "outputs_copied_at": "When it last copied (ISO 8601, UTC).",
        "copied_outputs": "The runtime property names of the copied outputs, sorted.",
        "copied_capabilities": "The runtime property names of the copied capabilities, "
                               "sorted ([] unless inherit_capabilities asks for some).",
    },
}

INTERNAL: dict[str, dict[str, str]] = {}
