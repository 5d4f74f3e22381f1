"""Deployment proxy plugin: cloudify.nodes.DeploymentProxy and
cloudify.relationships.connected_to_proxy.

Layers (only tasks.py imports cloudify's ctx machinery):
- tasks.py        the operations in plugin.yaml; chooses where the upstream lives (see there)
- config.py       properties + inputs -> frozen ProxyConfig (UserError naming the field)
- verdicts.py     pure: a Snapshot of the upstream + WaitFor -> Verdict (done/waiting/failed)
- mapping.py      pure: which outputs land in which runtime properties; refresh diffs
- currency.py     pure: is a copy still current (check_status, check_drift)? names, never values
- waiter.py       the wait loop (backoff capped at poll_interval), the copy, one-look checks
- source.py       the DeploymentSource Protocol, implemented by
  local_source.py (the cfy local profile's file storage) and rest_source.py (a manager's REST API)

Other plugins whose relationships accept a proxy as target use mapping.is_proxy and
mapping.outputs_from_proxy on the target's runtime properties.
"""
