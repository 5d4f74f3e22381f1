"""The SSH private key given inline (ssh.private_key, e.g. from get_secret, issue 17): exactly
one of key_file and private_key; the key never in kubernetes_info, taken back from the Master's
properties; loaded by paramiko and registered for redaction."""
from __future__ import annotations

import io
import json

import paramiko
import pytest

from cloudify_kubernetes.connection import from_info, parse_connection, public_info
from cloudify_kubernetes.kubectl_ssh_backend import key_arguments
from cloudify_kubernetes.microservice import for_microservice, parse_settings
from cloudify_shared.errors import UserError
from cloudify_shared.redaction import redact


def private_key_text() -> str:
    out = io.StringIO()
    paramiko.RSAKey.generate(1024).write_private_key(out)
    return out.getvalue()


def test_exactly_one_of_key_file_and_private_key() -> None:
    for ssh in ({"host": "m"}, {"host": "m", "key_file": "/k", "private_key": "x"}):
        with pytest.raises(UserError, match="set exactly one of key_file or private_key"):
            parse_connection({}, ssh)


def test_the_key_is_never_in_kubernetes_info_and_comes_back_from_the_master() -> None:
    key = private_key_text()
    settings = parse_connection({}, {"host": "m", "private_key": key})
    info = public_info(settings)
    assert "PRIVATE KEY" not in json.dumps(info) and info["ssh"]["inline_credentials"] is True
    assert from_info(info, "kubernetes_info", {"private_key": key}) == settings
    with pytest.raises(UserError, match="keeps its SSH private key inline"):
        from_info(info, "kubernetes_info", None)


def test_paramiko_gets_the_key_itself_and_its_lines_are_registered() -> None:
    key = private_key_text()
    arguments = key_arguments(parse_connection({}, {"host": "m",
                                                    "private_key": key}))  # type: ignore[arg-type]
    assert isinstance(arguments["pkey"], paramiko.RSAKey)
    body = key.splitlines()[1]
    assert redact(f"leaked {body}") == "leaked ***"
    assert (key_arguments(parse_connection({},
                                          {"host": "m",
                                           "key_file": "/k"}))
            == {"key_filename": "/k"})  # type: ignore[arg-type]
    with pytest.raises(UserError, match="ssh.private_key: not an unencrypted"):
        key_arguments(parse_connection({}, {"host": "m",
                                            "private_key": "not a key"}))  # type: ignore[arg-type]


def test_the_seeds_ssh_keyfilename_replaces_an_inline_key() -> None:
    settings = parse_connection({}, {"host": "m", "private_key": private_key_text()})
    seed = parse_settings({"ssh_keyfilename": "/seed/key"}, {})
    replaced = for_microservice(settings, seed)
    assert (replaced.key_file == "/seed/key"
            and replaced.private_key is None)  # type: ignore[union-attr]
