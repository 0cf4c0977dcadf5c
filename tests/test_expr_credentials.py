"""The Basic-auth credential format {{.username:.password}} / {{.api_key:}}."""

from __future__ import annotations

import base64

import pytest

from engine.expr import TemplateExecError, TemplateSyntaxError
from engine.expr.credentials import parse_credential_format


def _decode(s: str) -> str:
    return base64.b64decode(s).decode("utf-8")


def test_username_password():
    f = parse_credential_format("{{.username:.password}}")
    assert f.fields == ("username", "password")
    assert f.encode({"username": "alice", "password": "secret"}) == base64.b64encode(b"alice:secret").decode()


def test_api_key_with_empty_password():
    f = parse_credential_format("{{.api_key:}}")
    assert f.fields == ("api_key",)
    assert _decode(f.encode({"api_key": "KEY"})) == "KEY:"


def test_spaces_literals_and_unicode():
    assert _decode(parse_credential_format("{{ .user : .pass }}").encode({"user": "u", "pass": "p:ä"})) == "u:p:ä"
    f = parse_credential_format("{{.email}}/token:{{.api_token}}")
    assert f.fields == ("email", "api_token")
    assert _decode(f.encode({"email": "a@b.c", "api_token": "T0K"})) == "a@b.c/token:T0K"
    assert _decode(parse_credential_format("{{:.token}}").encode({"token": "t"})) == ":t"


@pytest.mark.parametrize(("fmt", "col", "words"), [
    ("{{.username:.password", 1, "unclosed"),
    ("{{}}", 1, "empty"),
    ("{{username:password}}", 3, "expected a field"),
    ("{{.a:.b:.c}}", 8, "more than one ':'"),
    ("no placeholders", 1, "no field"),
    ("{{.user-name:}}", 3, "expected a field"),
])
def test_bad_formats_are_located(fmt, col, words):
    with pytest.raises(TemplateSyntaxError) as e:
        parse_credential_format(fmt, "desk.xml:12 Base64EncodedCredential")
    assert e.value.location.file == "desk.xml:12 Base64EncodedCredential"
    assert e.value.location.col == col
    assert words in e.value.message


def test_missing_value_names_the_field_but_never_a_value():
    f = parse_credential_format("{{.username:.password}}")
    with pytest.raises(TemplateExecError) as e:
        f.encode({"username": "alice"})
    assert "password" in e.value.message and "alice" not in str(e.value)
