"""Issue 24: what a remote manager answers reaches the event only as a Cloudify REST error
(its error_code and message, one line, at most 300 characters), never as a raw body; an answer
that is not a Cloudify REST answer (an HTML page, text, a 200 that is not JSON) is named as such
and not shown, and a 404 of that kind is not taken for "no such deployment". Over the real
cloudify_rest_client, against a small HTTP server on 127.0.0.1."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cloudify_proxy.config import ManagerSettings
from cloudify_proxy.rest_source import MAX_SERVER_MESSAGE, RestSource
from cloudify_shared.errors import TransientError, UserError
from cloudify_shared.reach import LOCAL

SECRET_PAGE = ("<html><head><title>Internal</title></head><body>db_password=hunter2-internal "
               + "x" * 4000 + "</body></html>")


class Answer:
    """What the server answers next: status, content type and body."""

    def __init__(self) -> None:
        self.status, self.content_type, self.body = 200, "application/json", b"{}"

    def set(self, status: int, content_type: str, body: str | bytes) -> None:
        self.status, self.content_type = status, content_type
        self.body = body.encode() if isinstance(body, str) else body


@pytest.fixture
def server() -> Iterator[tuple[Answer, int]]:
    answer = Answer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, *_: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield answer, int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def source(port: int) -> RestSource:
    settings = ManagerSettings(host="127.0.0.1", port=port, protocol="http", token="tok-55555555",
                               request_timeout=5)
    return RestSource.from_settings(settings, LOCAL)


def cloudify_error(message: str, code: str = "bad_parameters_error") -> str:
    return json.dumps({"message": message, "error_code": code,
                       "server_traceback": "Traceback...\nsecret_traceback_line"})


def failure(port: int, expected: type[Exception]) -> str:
    with pytest.raises(expected) as error:
        source(port).executions("up")
    return str(error.value)


@pytest.mark.parametrize("status, expected, words", [
    (401, UserError, "refused the credentials (401)"),
    (403, UserError, "refused the credentials (403)"),
    (404, UserError, "404 with an answer that is not a Cloudify REST answer (not shown): is this "
                     "a Cloudify manager's REST API?"),
    (400, UserError, "the manager answered 400"),
    (502, TransientError, "the manager answered 502"),
])
def test_a_body_that_is_not_a_cloudify_answer_is_never_shown(
        server: tuple[Answer, int], status: int, expected: type[Exception], words: str) -> None:
    answer, port = server
    answer.set(status, "text/html", SECRET_PAGE)
    message = failure(port, expected)
    assert words in message and "not a Cloudify REST answer (not shown)" in message
    assert "<html" not in message and "hunter2" not in message and "xxxx" not in message
    assert len(message) < 400


def test_a_cloudify_error_is_one_bounded_line_without_its_traceback(
        server: tuple[Answer, int]) -> None:
    answer, port = server
    said = "the deployment\nis\x1b[31m busy " + "y" * 5000
    answer.set(400, "application/json", cloudify_error(said))
    message = failure(port, UserError)
    assert ("the manager answered 400: bad_parameters_error: the deployment is[31m busy "
            "yyy" in message)
    server_part = message.split("the manager answered 400: ", 1)[1]
    assert len(server_part) == MAX_SERVER_MESSAGE and server_part.endswith("...")
    assert "\n" not in message and "\x1b" not in message
    assert "secret_traceback_line" not in message


def test_a_cloudify_401_says_what_the_manager_said(server: tuple[Answer, int]) -> None:
    answer, port = server
    answer.set(401, "application/json", cloudify_error("User unauthorized", "unauthorized_error"))
    assert failure(port, UserError).endswith(
        "the manager refused the credentials (401): unauthorized_error: User unauthorized")


def test_a_cloudify_404_is_a_missing_deployment(server: tuple[Answer, int]) -> None:
    answer, port = server
    answer.set(404, "application/json", cloudify_error("Requested `Deployment` with ID `up` was "
                                                       "not found", "not_found_error"))
    assert source(port).executions("up") is None


def test_a_json_404_without_an_error_code_is_not_a_missing_deployment(
        server: tuple[Answer, int]) -> None:
    answer, port = server
    answer.set(404, "application/json", json.dumps({"detail": "no route " + "z" * 1000}))
    message = failure(port, UserError)
    assert "is this a Cloudify manager's REST API?" in message and "zzz" not in message


def test_a_200_that_is_not_json_is_not_shown(server: tuple[Answer, int]) -> None:
    answer, port = server
    answer.set(200, "text/html", SECRET_PAGE)
    message = failure(port, UserError)
    assert "not a Cloudify REST answer (not shown)" in message and "hunter2" not in message
