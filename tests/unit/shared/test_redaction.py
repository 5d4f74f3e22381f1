from __future__ import annotations

import logging

import pytest

from cloudify_shared.redaction import RedactingFilter, is_secret_key, redact, register_secret


def test_registered_secret_is_masked_everywhere() -> None:
    register_secret("s3cr3t-token-value")
    data = {"a": "Bearer s3cr3t-token-value", "b": ["x s3cr3t-token-value"], "c": 3}
    assert redact(data) == {"a": "Bearer ***", "b": ["x ***"], "c": 3}


def test_pem_lines_are_masked_one_by_one() -> None:
    pem = "-----BEGIN KEY-----\nAAAABBBBCCCCDDDDEEEE\nFFFFGGGGHHHHIIIIJJJJ\n-----END KEY-----"
    register_secret(pem)
    assert "AAAABBBB" not in redact("line: AAAABBBBCCCCDDDDEEEE")


def test_short_values_are_not_treated_as_secrets() -> None:
    register_secret("ab")
    assert redact("ab cd") == "ab cd"


def test_logging_filter_masks_rendered_message(caplog: pytest.LogCaptureFixture) -> None:
    register_secret("hunter2-password")
    logger = logging.getLogger("redaction-test")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="redaction-test"):
        logger.info("connecting with %s", "hunter2-password")
    assert "hunter2" not in caplog.text and "***" in caplog.text


def test_secret_key_names() -> None:
    assert is_secret_key("api_token") and is_secret_key("PASSWORD") and not is_secret_key("ips")
