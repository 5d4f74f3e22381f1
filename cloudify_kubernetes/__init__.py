"""Kubernetes plugin: cloudify.kubernetes.Master and Microservice."""
