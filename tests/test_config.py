"""engine.config: layering, located errors, secrets, comment-preserving writes."""

from __future__ import annotations

import dataclasses
import os
import re
import stat
import tomllib

import pytest

from engine.config import (
    Config,
    SECTIONS,
    ConfigError,
    default_config_text,
    load_config,
    save_setting,
)


@pytest.fixture
def env(tmp_path):
    """An environment with only deskline's dirs (conftest points them at tmp_path)."""
    return {"DESKLINE_CONFIG_DIR": str(tmp_path / "config"), "DESKLINE_DATA_DIR": str(tmp_path / "data")}


def write(path, text, mode=0o600):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


def test_defaults_without_any_file(env, tmp_path):
    config = load_config(env=env)
    assert config == Config(file=config.file, secrets_file=config.secrets_file, config_dir=config.config_dir,
                            data_dir=config.data_dir)
    assert config.http.read_timeout == 5.0 and config.contacts.pick == "first" and config.pbx.mode == "openapi"
    assert config.source_of("http.read_timeout") == "default"
    where = config.locate()
    assert where.config_file == tmp_path / "config" / "config.toml"
    assert where.secrets_file == tmp_path / "config" / "secrets.toml"
    assert where.store == tmp_path / "data" / "deskline.sqlite3" == config.store_path
    assert any(str(tmp_path / "data") in line for line in where.lines())


def test_the_conftest_dirs_are_the_default(tmp_path):
    assert load_config().locate().data_dir == tmp_path / "data"


def test_layers_defaults_file_env_flags(env, tmp_path):
    path = write(tmp_path / "config" / "config.toml", "[http]\nretries = 2\n\nread_timeout = 4\n")
    assert load_config(env=env).http.read_timeout == 4.0
    assert load_config(env=env).source_of("http.read_timeout") == f"{path}:4"
    env["DESKLINE_HTTP__READ_TIMEOUT"] = "6.5"
    config = load_config(env=env)
    assert (config.http.read_timeout, config.http.retries) == (6.5, 2)
    assert config.source_of("http.read_timeout") == "env DESKLINE_HTTP__READ_TIMEOUT"
    config = load_config(env=env, overrides={"http.read_timeout": "8", "pbx": {"mode": "simulator"},
                                             "http.retries": None})  # None: a flag that was not given
    assert (config.http.read_timeout, config.pbx.mode, config.http.retries) == (8.0, "simulator", 2)
    assert config.source_of("http.read_timeout") == config.source_of("pbx.mode") == "command line"
    assert config.get("http.retries") == 2


def test_config_file_from_env_var_and_explicit_path(env, tmp_path):
    a = write(tmp_path / "a.toml", '[ui]\ntheme = "a"\n')
    b = write(tmp_path / "b.toml", '[ui]\ntheme = "b"\n')
    env["DESKLINE_CONFIG"] = str(a)
    assert load_config(env=env).ui.theme == "a" and load_config(env=env).file == a
    assert load_config(b, env=env).ui.theme == "b"
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "typo.toml", env=env)
    assert str(err.value) == f"{tmp_path / 'typo.toml'}: the config file does not exist"


def test_unknown_keys_and_wrong_types_are_all_reported_with_file_and_line(env, tmp_path):
    path = write(tmp_path / "c.toml", "\n".join([
        "# my settings",
        "[pbx]",
        'url = "https://pbx.example.com:8088"',
        "",
        "[http]",
        "read_timout = 3",
        'connect_timeout = "fast"',
        "[colours]",
        "x = 1",
        "[contacts]",
        'pick = "newest"',
    ]) + "\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, env=env)
    lines = str(err.value).splitlines()
    assert lines[0] == (f"{path}:6: http.read_timout: unknown setting 'read_timout' in [http] "
                        "(known: connect_timeout, read_timeout, retries, max_concurrent, verify_tls)")
    assert lines[1] == f"{path}:7: http.connect_timeout: expected a number, got a string ('fast')"
    assert lines[2].startswith(f"{path}:8: colours: unknown section [colours]")
    assert lines[3] == f"{path}:11: contacts.pick: expected one of first, unique, last, got 'newest'"
    assert err.value.location.line == 6 and len(err.value.more) == 3


def test_dotted_keys_and_inline_tables_are_located(env, tmp_path):
    path = write(tmp_path / "c.toml", '[ui]\ntheme = "x"\n\nhttp.retries = 0\nnumbers = { last_n = "4" }\n')
    with pytest.raises(ConfigError) as err:
        load_config(path, env=env)
    text = str(err.value)
    # http.retries written under [ui] is ui.http: an unknown setting of [ui]
    assert f"{path}:4: ui.http: unknown setting 'http' in [ui]" in text
    assert f"{path}:5: ui.numbers: unknown setting 'numbers'" in text


def test_toml_syntax_error_points_at_line_and_column(env, tmp_path):
    path = write(tmp_path / "c.toml", '[http]\nread_timeout = 4\nretries = = 2\n')
    with pytest.raises(ConfigError) as err:
        load_config(path, env=env)
    assert (err.value.location.line, err.value.location.col) == (3, 11)
    assert str(err.value).startswith(f"{path}:3:11: not valid TOML")
    assert "retries = = 2\n" in err.value.excerpt and err.value.excerpt.endswith("^")


def test_value_rules(env, tmp_path):
    cases = {
        'timezone = "Mars/Olympus"': "unknown time zone 'Mars/Olympus'",
        'url = "pbx.example.com"': "expected an http:// or https:// address",
        'mode = "live"': "expected one of openapi, simulator, replay",
    }
    for line, message in cases.items():
        path = write(tmp_path / "c.toml", f"[pbx]\n{line}\n")
        with pytest.raises(ConfigError, match=re.escape(message)) as err:
            load_config(path, env=env)
        assert err.value.location.line == 2
    for text, message in [("[numbers]\norder = ['e164', 'e165']", "unknown number variant 'e165'"),
                          ("[numbers]\nregex = '(['", "invalid regular expression"),
                          ("[numbers]\norder = []", "name at least one number variant"),
                          ("[numbers]\ncountry_code = 'DE'", "a country code is digits"),
                          ("[http]\nretries = 0", "must be at least 1"),
                          ("[http]\nretries = 2.5", "expected a whole number"),
                          ("[http]\nverify_tls = 'no'", "expected true or false"),
                          ("[ui]\npopup_extensions = [2001]", "expected a list of strings"),
                          ("[keymap]\n'app.quit' = 1", "a key binding is a string")]:
        with pytest.raises(ConfigError, match=re.escape(message)):
            load_config(write(tmp_path / "c.toml", text + "\n"), env=env)
    config = load_config(write(tmp_path / "c.toml", '[pbx]\ntimezone = "Europe/Berlin"\n'), env=env)
    assert str(config.timezone()) == "Europe/Berlin" and load_config(env=env).timezone() is None


def test_env_values_are_parsed_by_type_and_typos_are_errors(env):
    env.update({
        "DESKLINE_HTTP__VERIFY_TLS": "off",
        "DESKLINE_UI__POPUP_EXTENSIONS": "2001, 2002",
        "DESKLINE_NUMBERS__LAST_N": "7",
        "DESKLINE_KEYMAP__APP__QUIT": "ctrl+q",
        "DESKLINE_REAL_HELPDESKS": "1",  # not a setting: no double underscore
    })
    config = load_config(env=env)
    assert config.http.verify_tls is False and config.ui.popup_extensions == ["2001", "2002"]
    assert config.numbers.last_n == 7 and config.keymap == {"app.quit": "ctrl+q"}
    env["DESKLINE_HTTP__READ_TIMOUT"] = "3"
    env["DESKLINE_NUMBERS__LAST_N"] = "seven"
    with pytest.raises(ConfigError) as err:
        load_config(env=env)
    text = str(err.value)
    assert "env DESKLINE_HTTP__READ_TIMOUT: http.read_timout: DESKLINE_HTTP__READ_TIMOUT names no setting" in text
    assert "env DESKLINE_NUMBERS__LAST_N: numbers.last_n: expected a whole number, got 'seven'" in text


def test_bad_overrides_name_the_command_line(env):
    with pytest.raises(ConfigError, match="command line: http.timeout: unknown setting 'timeout'"):
        load_config(env=env, overrides={"http.timeout": "3"})
    with pytest.raises(ConfigError, match="command line: pbx.mode: expected one of"):
        load_config(env=env, overrides={"pbx.mode": "live"})


def test_secrets_stay_out_of_readable_files_and_out_of_repr(env, tmp_path):
    cfg = write(tmp_path / "config" / "config.toml", '[pbx]\nclient_id = "deskline"\nclient_secret = "s3cr3t-value"\n',
                mode=0o644)
    with pytest.raises(ConfigError) as err:
        load_config(env=env)
    assert f"{cfg}:3: pbx.client_secret: a secret in a file others can read; run 'chmod 600 {cfg}'" in str(err.value)
    os.chmod(cfg, 0o600)
    assert load_config(env=env).pbx.client_secret == "s3cr3t-value"

    write(cfg, '[pbx]\nclient_id = "deskline"\n', mode=0o644)
    secrets = write(tmp_path / "config" / "secrets.toml", '[pbx]\nclient_secret = "from-secrets-file"\n')
    config = load_config(env=env)
    assert config.pbx.client_secret == "from-secrets-file" and config.source_of("pbx.client_secret") == f"{secrets}:2"
    assert "from-secrets-file" not in repr(config) and config.secrets() == ["from-secrets-file"]
    env["DESKLINE_PBX__CLIENT_SECRET"] = "from-env"
    assert load_config(env=env).pbx.client_secret == "from-env"

    os.chmod(secrets, 0o640)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_config(env=env)
    write(secrets, '[pbx]\nurl = "https://pbx"\n')
    with pytest.raises(ConfigError, match="pbx.url is not a secret"):
        load_config(env=env)
    write(secrets, '[keymap]\n"app.quit" = "q"\n')
    with pytest.raises(ConfigError, match=r"secrets.toml:1: keymap: \[keymap\] holds no secret"):
        load_config(env=env)


COMMENTED = """\
# deskline config of the front desk
[pbx]
url = "https://pbx.example.com:8088"  # the office PBX
mode = "openapi"

# tuned after the 2026 outage
[http]
read_timeout = 4.0  # seconds
"""


def test_save_setting_keeps_comments_and_round_trips(env, tmp_path):
    path = write(tmp_path / "config" / "config.toml", COMMENTED, mode=0o644)
    assert save_setting("http.read_timeout", 7.5, env=env) == path
    save_setting("contacts.pick", "unique", env=env)
    save_setting("ui.popup_extensions", ["2001", "2002"], env=env)
    save_setting("keymap.app.quit", "ctrl+q", env=env)
    text = path.read_text()
    for comment in ("# deskline config of the front desk", "# the office PBX", "# tuned after the 2026 outage",
                    "# seconds"):
        assert comment in text
    assert "read_timeout = 7.5  # seconds" in text
    config = load_config(env=env)
    assert config.http.read_timeout == 7.5 and config.contacts.pick == "unique"
    assert config.ui.popup_extensions == ["2001", "2002"] and config.keymap == {"app.quit": "ctrl+q"}
    assert config.pbx.url == "https://pbx.example.com:8088"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_save_setting_creates_the_file_and_puts_secrets_in_a_private_file(env, tmp_path):
    path = save_setting("pbx.url", "https://pbx.example.com", env=env)
    assert path == tmp_path / "config" / "config.toml"
    secret_path = save_setting("pbx.client_secret", "very-secret", env=env)
    assert secret_path == tmp_path / "config" / "secrets.toml"
    assert stat.S_IMODE(secret_path.stat().st_mode) == 0o600
    assert "very-secret" not in path.read_text()
    config = load_config(env=env)
    assert (config.pbx.url, config.pbx.client_secret) == ("https://pbx.example.com", "very-secret")
    assert Config.save(config, "store.keep_days", 30) == path and load_config(env=env).store.keep_days == 30


def test_save_setting_refuses_bad_values_and_broken_files_without_touching_them(env, tmp_path):
    path = write(tmp_path / "config" / "config.toml", COMMENTED)
    before = path.read_text()
    with pytest.raises(ConfigError, match="must be at least 0.01"):
        save_setting("http.read_timeout", 0, env=env)
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        save_setting("ui.colour", "red", env=env)
    with pytest.raises(ConfigError, match="expected a whole number"):
        save_setting("http.retries", "3", env=env)
    assert path.read_text() == before
    write(path, "[http]\nread_timeout = = 4\n")
    with pytest.raises(ConfigError, match=r":2:\d+: not valid TOML"):
        save_setting("http.retries", 2, env=env)
    assert path.read_text() == "[http]\nread_timeout = = 4\n"
    assert not list(path.parent.glob(".*.tmp"))


def test_the_documented_default_file_is_every_default(env, tmp_path):
    text = default_config_text()
    assert all(table == {} for table in tomllib.loads(text).values())  # every setting is commented out
    enabled = re.sub(r"^# ([a-z_]+ = .*)$", r"\1", text, flags=re.MULTILINE)
    path = write(tmp_path / "all.toml", enabled)
    config = load_config(path, env=env)
    defaults = load_config(env=env)
    for section in ("pbx", "helpdesk", "http", "numbers", "contacts", "ui", "store", "outbox"):
        assert getattr(config, section) == getattr(defaults, section)
    every = {f"{s}.{f.name}" for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)}
    assert set(config.sources) == every  # every setting was in the file


def test_field_values_file_relative_to_the_config_and_private_when_it_holds_a_password(env, tmp_path):
    write(tmp_path / "config" / "config.toml", '[helpdesk]\ntemplate = "rt5"\nfields_file = "rt5-fields.toml"\n',
          mode=0o644)
    fields = write(tmp_path / "config" / "rt5-fields.toml",
                   'base_url = "https://rt.example"\nqueue = 3\nverify = true\npassword = "pw-123"\n', mode=0o644)
    config = load_config(env=env)
    with pytest.raises(ConfigError) as err:
        config.field_values()
    assert str(err.value) == f"{fields}:4: password: a credential in a file others can read; run 'chmod 600 {fields}'"
    os.chmod(fields, 0o600)
    assert config.field_values() == {"base_url": "https://rt.example", "queue": "3", "verify": "true",
                                     "password": "pw-123"}
    write(fields, 'base_url = "https://rt.example"\n\n[nested]\nx = 1\n')
    with pytest.raises(ConfigError, match=r":3: nested: a field value is text, got a table"):
        config.field_values()
    assert load_config(env={**env, "DESKLINE_HELPDESK__FIELDS_FILE": ""}).field_values() == {}
