"""Packaging for the suite. `wagon create .` builds the plugin wagon from this file."""
from setuptools import find_packages, setup

setup(
    name="cloudify-vnf-suite",
    version="0.1.0",
    description=(
        "Cloudify plugins for containerized network functions: Kubernetes microservices, "
        "Docker Swarm services and deployment proxies"
    ),
    license="Apache-2.0",
    packages=find_packages(include=[
        "cloudify_shared", "cloudify_shared.*",
        "cloudify_kubernetes", "cloudify_kubernetes.*",
        "cloudify_swarm", "cloudify_swarm.*",
        "cloudify_proxy", "cloudify_proxy.*",
    ]),
    package_data={"": ["py.typed"]},
    python_requires=">=3.11,<3.13",
    install_requires=[
        "cloudify-common[dispatcher]>=7.0.5,<7.1",
        "kubernetes>=29",
        "docker>=7.1,<8",
        "fabric>=3.2,<4",
        "PyYAML>=6,<7",
        "setuptools<81",  # dsl_parser and the cfy CLI import pkg_resources
    ],
    extras_require={
        "dev": ["cloudify==7.0.5", "pytest", "ruff", "mypy", "types-PyYAML", "wagon",
                # the layer contracts (pyproject.toml) and the import graph
                "import-linter", "grimp",
                "matplotlib"],  # matplotlib: the benchmark plot (benchmarks/results/results.png)
    },
)
