"""How project exceptions reach Cloudify: decided once, in cloudify_shared.tasks."""
from __future__ import annotations

import pytest
from cloudify.exceptions import NonRecoverableError, OperationRetry, RecoverableError

from cloudify_shared.errors import NotFound, TransientError, UserError, WaitTimeout, WorkloadFailed
from cloudify_shared.redaction import register_secret
from cloudify_shared.tasks import translate_error

WHERE = "node 'web' (instance web_1)"


@pytest.mark.parametrize("error", [UserError("bad"), WorkloadFailed("bad"), WaitTimeout("bad"),
                                   NotFound("bad")])
def test_user_and_workload_errors_are_not_retried(error: Exception) -> None:
    translated = translate_error(error, WHERE)
    assert type(translated) is NonRecoverableError
    assert str(translated) == f"{WHERE}: bad"


@pytest.mark.parametrize("error", [TransientError("busy", retry_after=3),
                                   ConnectionRefusedError("refused"), TimeoutError("slow")])
def test_transient_errors_are_retried(error: Exception) -> None:
    translated = translate_error(error, WHERE)
    assert isinstance(translated, RecoverableError)
    assert str(translated).startswith(WHERE)


def test_retry_after_is_kept() -> None:
    translated = translate_error(TransientError("busy", retry_after=3), WHERE)
    assert isinstance(translated, RecoverableError) and translated.retry_after == 3


def test_unknown_exceptions_are_bugs_not_retries() -> None:
    translated = translate_error(KeyError("x"), WHERE)
    assert type(translated) is NonRecoverableError
    assert "unexpected KeyError" in str(translated)


def test_cloudify_errors_pass_through() -> None:
    retry = OperationRetry("later")
    assert translate_error(retry, WHERE) is retry


def test_secrets_are_masked_in_messages() -> None:
    register_secret("tok-abcdef123456")
    assert "tok-abcdef123456" not in str(translate_error(UserError("401 with tok-abcdef123456"),
                                                         WHERE))


@pytest.mark.parametrize(("error", "text"), [
    (TimeoutError(), f"{WHERE}: TimeoutError (no message)"),
    (EOFError(), f"{WHERE}: unexpected EOFError (no message)"),
    (ConnectionResetError(104, "reset by peer"),
     f"{WHERE}: ConnectionResetError: [Errno 104] reset by peer"),
])
def test_an_exception_without_a_message_says_so(error: Exception, text: str) -> None:
    assert str(translate_error(error, WHERE)) == text
