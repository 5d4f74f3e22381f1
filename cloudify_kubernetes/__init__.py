"""Kubernetes plugin: cloudify.kubernetes.Master, cloudify.kubernetes.Microservice and the
connected_to_master relationship.

Layers (only tasks.py imports cloudify):
  tasks.py                     thin operations: read ctx, call below, write runtime properties
  microservice.py, connection.py
                               settings from properties/inputs; kubernetes_info (safe to publish)
  manifests.py, overrides.py   files/inline config -> objects: overrides, env, ownership
                               labels (pure)
  readiness.py                 verdict(obj) per kind, failing pods (pure)
  engine.py, waits.py          apply in order, wait, delete in reverse, drift (no ctx)
  backend.py                   the ClusterBackend Protocol, implemented by
  api_backend.py               the Kubernetes API (dynamic client), and
  kubectl_ssh_backend.py       kubectl on a master over SSH (fabric)
"""
