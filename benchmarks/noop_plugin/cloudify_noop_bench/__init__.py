"""An empty Cloudify operation, the floor every operation on a manager pays. It writes one
runtime property (of the source instance in a relationship operation), as ours write theirs."""
from cloudify.decorators import operation


@operation
def noop(ctx, **_):  # type: ignore[no-untyped-def]
    instance = ctx.source.instance if ctx.type == "relationship-instance" else ctx.instance
    instance.runtime_properties["noop"] = True
