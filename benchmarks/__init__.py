"""Benchmarks: the plugins against the raw tools, on the local clusters."""
