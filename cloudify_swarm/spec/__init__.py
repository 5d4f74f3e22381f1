"""A Swarm service's settings, from node properties to the Engine API ServiceSpec, one module
per concept: values (the rules every parser shares), ports, container, microservice, and
service (the assembly of the whole ServiceSpec). The compose parser (cloudify_swarm.compose)
turns a compose service into the same settings.

Pure: no I/O, no ctx, no docker import. Every problem raises UserError naming the field by its
dotted path (the caller prefixes the node). The built spec is the raw Engine API shape
(`Name`, `Labels`, `TaskTemplate`, `Mode`, `EndpointSpec`, ...), so it can be compared with
what the engine reports and sent through docker-py's low-level create/update calls.
"""
