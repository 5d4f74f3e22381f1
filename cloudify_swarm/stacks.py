"""placeholder"""
from typing import Any


def parse_compose_file(path: str, where: str) -> Any:
    raise NotImplementedError


def deploy_stack(*args: Any) -> Any:
    raise NotImplementedError
