"""Example blueprints (examples/blueprints/) and the demo that runs them (examples/demo.py)."""
