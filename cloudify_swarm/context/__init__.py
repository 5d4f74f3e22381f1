"""The tasks layer's helpers for reading the operation's context, one place: how an operation
finds what it works on (links: the node's own properties, its Ports, the Microservice a
Container is in, the Manager whose endpoint it uses, names and ownership labels), how it opens
the Docker Engine (engine) and how it reads a compose file (compose_file).

They read the ctx they are handed and follow its relationships; they import no cloudify module
(only the tasks modules may) and load no client library until it is used: docker-py when an
Engine is opened. What they use: spec, naming, endpoint, compose.files, docker_engine; nothing
but the tasks layer imports them (import-linter contracts in pyproject.toml, `make lint`).
"""
