"""An empty Cloudify operation, the floor every operation on a manager pays."""
from cloudify.decorators import operation


@operation
def noop(ctx, **_):  # type: ignore[no-untyped-def]
    ctx.instance.runtime_properties["noop"] = True
