"""Everything that reads a compose file, as `docker stack deploy` (docker 28) reads it, into the
settings the spec package builds ServiceSpecs from. Where a compose file goes, in order:

- files: where the compose file and the files it names are read (the local-file policy);
- yaml: the YAML as docker's Go decoder reads it; interpolation: `${VAR}` as the docker CLI;
- stack: the top (version, sections, the stack's networks/volumes/configs/secrets through
  objects, versions and keys), then each service: service (with ports, mounts, refs, values,
  strings; the stack's names and folder in context.ServiceContext);
- engine_spec: a parsed service -> the Engine API ServiceSpec (the Microservice path's,
  spec.service, plus what only compose has); refusals: an Engine refusal named with the key.

Pure but for the files it reads through files.ComposeFiles: no ctx, no Engine. Deploying a
parsed stack is stacks.py's; a key to add or change is found in keys.py (the keys docker takes)
and service.py (how each becomes an Engine API field).
"""
