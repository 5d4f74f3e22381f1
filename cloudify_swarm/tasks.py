"""Operations named in plugin.yaml for the Swarm types. Thin: read ctx, call the layer below,
write runtime properties. The only modules of this plugin that import cloudify."""
from __future__ import annotations

from typing import Any

from cloudify_shared.tasks import task
from cloudify_swarm import docker_engine
from cloudify_swarm.endpoint import parse_endpoint, warn_if_insecure


@task
def manager_create(ctx: Any, **_: Any) -> None:
    endpoint = parse_endpoint(ctx.node.properties.get("endpoint"), "properties.endpoint")
    warn_if_insecure(endpoint, ctx.logger)
    client = docker_engine.open_client(endpoint)
    try:
        facts = docker_engine.swarm_facts(client)
    finally:
        client.close()
    ctx.instance.runtime_properties["swarm_info"] = {"endpoint": endpoint.public(), **facts}
    ctx.logger.info("swarm %s reachable at %s (%d manager(s))", facts["swarm_id"],
                    endpoint.docker_host, len(facts["managers"]))


@task
def manager_delete(ctx: Any, **_: Any) -> None:
    # The swarm belongs to whoever made it; forgetting it is all that uninstall does.
    ctx.instance.runtime_properties.pop("swarm_info", None)
