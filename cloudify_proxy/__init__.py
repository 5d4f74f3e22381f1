"""Deployment proxy plugin: cloudify.nodes.DeploymentProxy."""
