"""Keeping secrets out of logs, error messages and runtime properties.

Code that reads a secret (token, password, key) registers its value; `redact` replaces every
registered value in text or nested data, and RedactingFilter does the same to every record a
logger emits. Plain Python: no ctx.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

MASK = "***"
_MIN_SECRET_LENGTH = 4
_lock = threading.Lock()
_secrets: set[str] = set()

SECRET_KEY_WORDS = ("token", "password", "passwd", "secret", "private_key", "key_data",
                    "client_key", "apikey", "api_key", "credential")


def register_secret(value: Any) -> None:
    """Remember a secret value so that it is masked wherever it appears later."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str) and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)
            for line in value.splitlines():
                if len(line.strip()) >= 16:  # lines of a PEM key are secrets on their own
                    _secrets.add(line.strip())


def is_secret_key(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_KEY_WORDS)


def redact(data: Any) -> Any:
    """Return `data` with every registered secret masked (strings, lists, dicts, recursively)."""
    if isinstance(data, str):
        with _lock:
            secrets = sorted(_secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in data:
                data = data.replace(secret, MASK)
        return data
    if isinstance(data, dict):
        return {key: redact(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(redact(item) for item in data)
    return data


class RedactingFilter(logging.Filter):
    """Masks registered secrets in a record's rendered message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_filter(logger: logging.Logger) -> None:
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
