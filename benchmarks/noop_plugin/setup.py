"""A plugin with one empty operation: Cloudify's own floor for an operation run by the manager's
mgmtworker (benchmarks/manager_compare.py). Not part of the suite."""
from setuptools import setup

setup(name="cloudify-noop-bench", version="0.2.0", packages=["cloudify_noop_bench"],
      install_requires=[])
