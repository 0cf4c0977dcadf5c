"""Secrets stay out of reprs, error messages, excerpts and files others can read."""

from __future__ import annotations

import os
import stat

import pytest

from engine.auth.base import BasicAuth, BearerAuth
from engine.auth.oauth2 import OAuth2Config, build_authorization_request
from engine.auth.tokens import TokenSet, TokenStore
from engine.config import ConfigError, load_config, load_field_values
from engine.pbx.source import OpenApiSource, _Tokens

SECRET = "s3cr3t-Valu3-0123456789"


def _write(path, text, mode=0o600):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


@pytest.fixture
def env(tmp_path):
    return {"DESKLINE_CONFIG_DIR": str(tmp_path / "config"), "DESKLINE_DATA_DIR": str(tmp_path / "data")}


def test_reprs_of_credential_holders_hide_the_secret():
    holders = [
        BasicAuth(SECRET),
        BearerAuth(SECRET, "Token"),
        OAuth2Config("https://h/auth", "https://h/token", "client", client_secret=SECRET),
        build_authorization_request(OAuth2Config("https://h/auth", "https://h/token", "client", pkce=True),
                                    code_verifier=SECRET),
        TokenSet(access_token=SECRET, refresh_token=SECRET + "r"),
        _Tokens(SECRET, 1.0, SECRET + "r", 2.0, 3.0),
    ]
    for holder in holders:
        assert SECRET not in repr(holder), type(holder).__name__
        assert SECRET not in str(holder), type(holder).__name__
    assert "client" in repr(holders[2])  # the rest is still shown


def test_pbx_source_repr_hides_client_secret_and_tokens():
    source = OpenApiSource("http://127.0.0.1:1", "deskline", SECRET)
    source._tokens = _Tokens(SECRET + "a", 1.0, SECRET + "r", 2.0, 3.0)
    assert SECRET not in repr(source)


def test_toml_syntax_error_excerpt_masks_a_secret_value(env, tmp_path):
    _write(tmp_path / "config" / "config.toml", '[pbx]\nclient_id = "x"\n')
    secrets = _write(tmp_path / "config" / "secrets.toml", f'[pbx]\nclient_secret = "{SECRET}\n')
    with pytest.raises(ConfigError) as err:
        load_config(env=env)
    text = str(err.value) + repr(err.value) + err.value.excerpt
    assert f"{secrets}:2" in str(err.value) and "not valid TOML" in str(err.value)
    assert "client_secret = ***" in err.value.excerpt
    assert SECRET not in text


def test_toml_syntax_error_excerpt_keeps_ordinary_values(env, tmp_path):
    _write(tmp_path / "config" / "config.toml", '[pbx]\nurl = "https://pbx.test\n')
    with pytest.raises(ConfigError) as err:
        load_config(env=env)
    assert "https://pbx.test" in err.value.excerpt


def test_a_secret_of_the_wrong_type_is_not_echoed(env, tmp_path):
    _write(tmp_path / "config" / "secrets.toml", "[pbx]\nclient_secret = 918273645546372\n")
    with pytest.raises(ConfigError) as err:
        load_config(env=env)
    assert "expected" in str(err.value) and "918273645546372" not in str(err.value)


def test_field_values_file_errors_do_not_echo_a_password(tmp_path):
    path = _write(tmp_path / "fields.toml", f'base_url = "https://h"\npassword = ["{SECRET}"]\n')
    with pytest.raises(ConfigError) as err:
        load_field_values(path)
    assert "password" in str(err.value) and SECRET not in str(err.value)
    path = _write(tmp_path / "fields.toml", f'password = "{SECRET}\n')
    with pytest.raises(ConfigError) as err:
        load_field_values(path)
    assert SECRET not in str(err.value) + err.value.excerpt


def test_unreadable_token_file_is_kept_owner_only(tmp_path):
    path = tmp_path / "tokens.json"
    path.write_text(f'{{"access_token": "{SECRET}", "refresh_token": 5')  # damaged, world-readable
    os.chmod(path, 0o644)
    store = TokenStore(path)
    assert store.load() is None and store.problem
    assert SECRET not in store.problem
    store.save(TokenSet(access_token="new-token-value"))
    kept = tmp_path / "tokens.json.unreadable"
    assert kept.read_text().startswith('{"access_token"')                  # nothing lost
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_invalid_url_error_does_not_quote_a_password_field():
    """httpx's InvalidURL message quotes the bad part of the URL (here: a password rendered as port)."""
    from tests.test_flows_runner import TOKEN_INVALID, Helpdesk, connect, template

    bad_port = "hunter2secretport"
    async with connect(template(TOKEN_INVALID), Helpdesk({}),
                       values={"base": f"https://hd.test:{bad_port}", "api_key": bad_port}) as hd:
        found = await hd.search("x")
    message = str(found.errors[0])
    assert "has an invalid URL" in message and "Invalid port" in message
    assert bad_port not in message


def test_template_export_leaves_out_values_of_secret_named_string_fields(tmp_path, monkeypatch):
    """A key typed as a plain string field (Editor="string") is still a secret by its name."""
    from engine.template.store import TemplateStore
    from tests.conftest import DATA

    monkeypatch.setenv("DESKLINE_DATA_DIR", str(tmp_path / "data"))
    full = (DATA / "templates" / "full-oauth2.xml").read_bytes()
    src = tmp_path / "s.xml"
    src.write_bytes(full.replace(b'Editor="password" Title="Client Secret" Key="client_secret" />',
                                 f'Editor="string" Title="Client Secret" Key="client_secret" Value="{SECRET}" />'.encode())
                        .replace(b'Key="domain" />', b'Key="domain" Value="helpdesk.example" />'))
    store = TemplateStore()
    store.import_path(src, name="s")
    [xml] = store.export("s", tmp_path / "out")
    exported = xml.read_bytes()
    assert SECRET.encode() not in exported
    assert b'Value="helpdesk.example"' in exported   # ordinary defaults are kept


def test_save_setting_does_not_echo_a_wrong_typed_secret(env, tmp_path):
    from engine.config import save_setting

    with pytest.raises(ConfigError) as err:
        save_setting("pbx.client_secret", 918273645546372, env=env)
    assert "expected" in str(err.value) and "918273645546372" not in str(err.value)
    with pytest.raises(ConfigError, match=r"got a whole number \(5\)"):
        save_setting("pbx.url", 5, env=env)                       # ordinary values are still quoted


def test_config_repr_and_sources_show_where_a_secret_came_from_not_its_value(env, tmp_path):
    env["DESKLINE_PBX__CLIENT_SECRET"] = SECRET
    config = load_config(env=env, overrides={"pbx": {"client_id": "deskline"}})
    assert config.pbx.client_secret == SECRET
    assert config.source_of("pbx.client_secret") == "env DESKLINE_PBX__CLIENT_SECRET"
    shown = repr(config) + str(config.pbx) + repr(config.pbx) + "".join(config.locate().lines())
    assert SECRET not in shown and "deskline" in shown
