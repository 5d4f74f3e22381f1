"""Test helpers: running blueprints (Python and real cfy CLI) and reading the local clusters."""
