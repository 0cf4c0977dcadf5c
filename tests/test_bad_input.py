"""Bad input at the product's entry points: a located error and a usage exit status, never a traceback.

Every test here feeds one broken input the audit found mishandled (a traceback, a hang, a silent
wrong value) and checks the message says what and where, the exit status, and that the file is unchanged.
"""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from engine.auth import AuthError, OAuth2Auth, OAuth2Config, TokenSet
from engine.errors import LocatedError
from engine.http import HelpdeskHttp, HttpSettings
from engine.pbx.replay import main as replay_main
from engine.pbx.source import FrameError, ReplaySource, load_replay
from tui.commands import try_scenario

RT5_BASIC = Path(__file__).resolve().parent.parent / "templates" / "rt5-basic" / "template.xml"


# --- DESKLINE_FIELDS_FILE (deskline try) -------------------------------------------------------------

BROKEN_FIELDS = [
    (b"\xff\xfebad", "1:1", "not UTF-8"),
    (b'{"base_url":\n', "2:1", "invalid JSON"),
    (b"[1, 2]", "1:1", "must be a JSON object"),
    (b"", "1:1", "invalid JSON"),
    (b"[" * 100_000, "1:1", "nests too deeply"),
    (b'{"base_url": {"x": 1}}', "base_url", "a field value is text, got dict"),
    (b'{"password": null}', "password", "got null"),
]


@pytest.mark.parametrize(("content", "where", "what"), BROKEN_FIELDS)
def test_a_broken_fields_file_is_a_located_error(tmp_path, content, where, what):
    path = tmp_path / "fields.json"
    path.write_bytes(content)
    with pytest.raises(LocatedError) as info:
        try_scenario.read_fields_file(path)
    message = str(info.value)
    assert str(path) in message and where in message and what in message
    assert path.read_bytes() == content  # never modified


def test_fields_file_values_become_text(tmp_path):
    path = tmp_path / "fields.json"
    path.write_text('{"base_url": "http://127.0.0.1:1", "port": 8080, "verify": false}')
    assert try_scenario.read_fields_file(path) == {"base_url": "http://127.0.0.1:1", "port": "8080",
                                                   "verify": "false"}


def test_a_toml_fields_file_is_read_like_the_configs(tmp_path):
    path = tmp_path / "fields.toml"
    path.write_text('base_url = "http://127.0.0.1:1"\nretries = 3\n')
    assert try_scenario.read_fields_file(path) == {"base_url": "http://127.0.0.1:1", "retries": "3"}


@pytest.mark.parametrize("kind", ["missing", "directory", "garbage"])
def test_try_with_a_bad_fields_file_exits_2_without_a_traceback(tmp_path, monkeypatch, kind):
    path = tmp_path / "fields.json"
    if kind == "directory":
        path.mkdir()
    elif kind == "garbage":
        path.write_bytes(b"\x00\x01{{{")
    monkeypatch.setenv("DESKLINE_FIELDS_FILE", str(path))
    monkeypatch.setenv("DESKLINE_DATA_DIR", str(tmp_path / "data"))
    out = io.StringIO()
    args = SimpleNamespace(scenario="contact", template=str(RT5_BASIC), phone="+15550100", dry_run=True)
    import asyncio

    rc = asyncio.run(try_scenario._run(args, out, io.StringIO()))
    assert rc == 2
    assert out.getvalue().startswith(f"error: {path}")


def test_end_of_input_at_a_field_prompt_is_an_error_naming_the_field(monkeypatch):
    from engine.template import load_template

    template = load_template(RT5_BASIC)
    monkeypatch.setattr("builtins.input", lambda prompt="": (_ for _ in ()).throw(EOFError))
    monkeypatch.setattr("getpass.getpass", lambda prompt="": (_ for _ in ()).throw(EOFError))
    with pytest.raises(LocatedError) as info:
        try_scenario.load_values(template, environ={}, ask=True)
    assert "end of input" in str(info.value)
    assert info.value.location.field in {f.name for f in template.custom_fields}


# --- replay files and call scripts --------------------------------------------------------------------


def test_a_replay_file_that_is_not_utf8_is_located(tmp_path):
    path = tmp_path / "calls.jsonl"
    path.write_bytes(b'{"at": 0, "event": {}}\n{"at": 1, "event": "\xff"}\n')
    with pytest.raises(FrameError) as info:
        ReplaySource(path).frames()
    assert str(info.value).startswith(f"{path}:2:")
    assert "not UTF-8" in str(info.value)


def test_a_replay_line_nested_too_deeply_is_located():
    text = '{"at": 0, "event": {}}\n{"at": 1, "event": ' + "[" * 100_000 + "}\n"
    with pytest.raises(FrameError) as info:
        load_replay(text, source="deep.jsonl")
    assert str(info.value).startswith("deep.jsonl:2:")
    assert "nests too deeply" in str(info.value)


@pytest.mark.parametrize("at", ["1e999", "-1e999"])
def test_an_infinite_replay_time_is_refused_not_waited_for(at):
    with pytest.raises(FrameError) as info:
        load_replay(f'{{"at": {at}, "event": {{}}}}\n', source="inf.jsonl")
    assert "inf.jsonl:1:1" in str(info.value) and "'at'" in str(info.value)


def test_replay_command_reports_bad_bytes_and_bad_speed_with_status_2(tmp_path, capsys):
    path = tmp_path / "calls.jsonl"
    path.write_bytes(b"\xff\xfe")
    assert replay_main([str(path)]) == 2
    assert "not UTF-8" in capsys.readouterr().err
    good = tmp_path / "ok.script"
    good.write_text("ring +15550100 -> 1001\n")
    for speed in ("-1", "nan", "inf"):
        with pytest.raises(SystemExit) as info:
            replay_main([str(good), "--speed", speed])
        assert info.value.code == 2
        assert "--speed" in capsys.readouterr().err


# --- OAuth2 token endpoint answers -----------------------------------------------------------------------


def _oauth(answer: httpx.Response) -> OAuth2Auth:
    def handler(request):
        return answer

    cfg = OAuth2Config(authorization_endpoint="https://hd.test/o/authorize/",
                       token_endpoint="https://hd.test/o/token/", client_id="c", client_secret="s")
    return OAuth2Auth(cfg, HelpdeskHttp(HttpSettings(), transport=httpx.MockTransport(handler)), None)


@pytest.mark.parametrize(("answer", "what"), [
    (httpx.Response(200, text="<html><body>Login</body></html>", headers={"content-type": "text/html"}),
     "not JSON (text/html)"),
    (httpx.Response(200, json={"access_token": 12345}), "access_token in the answer is not text"),
    (httpx.Response(200, json={"access_token": {"value": "x"}}), "not text"),
    (httpx.Response(200, json={"token_type": "Bearer"}), "no access_token"),
    (httpx.Response(200, text="[" * 100_000, headers={"content-type": "application/json"}), "not JSON"),
    (httpx.Response(400, json={"error": "invalid_grant", "error_description": "expired"}),
     "invalid_grant: expired"),
])
async def test_a_bad_token_answer_is_an_auth_error_that_says_why(answer, what):
    auth = _oauth(answer)
    request = auth.authorization_request()
    with pytest.raises(AuthError) as info:
        await auth.exchange_code("code", request)
    assert what in str(info.value)
    assert info.value.location.field == "TokenEndPoint"


@pytest.mark.parametrize(("data", "expected"), [
    ({"access_token": "a", "expires_in": "3600"}, 1000 + 3600),
    ({"access_token": "a", "expires_in": 60}, 1000 + 60),
    ({"access_token": "a", "expires_in": "soon"}, None),
    ({"access_token": "a", "expires_in": "inf"}, None),
    ({"access_token": "a", "expires_in": True}, None),
    ({"access_token": "a", "expires_at": "garbage"}, None),
    ({"access_token": "a", "expires_at": "nan"}, None),
    ({"access_token": "a", "expires_at": {"x": 1}}, None),
    ({"access_token": "a", "expires_at": 5000}, 5000),
    ({"access_token": "a", "expires_in": 0}, None),
    ({"access_token": "a", "expires_in": "-30"}, None),
])
def test_token_expiry_in_any_shape_never_crashes(data, expected):
    assert TokenSet.from_response(data, 1000.0).expires_at == expected


# --- config fields_file in the console engine -------------------------------------------------------------


def test_engine_reports_a_fields_file_of_the_wrong_shape_with_line_and_field(tmp_path):
    from engine.config import ConfigError, load_config
    from engine.console import Engine

    fields = tmp_path / "fields.toml"
    fields.write_text('base_url = "http://127.0.0.1:9"\nusername = ["root"]\n')
    (tmp_path / "calls.script").write_text("ring +15550100 -> 1001\n")
    (tmp_path / "config.toml").write_text(
        f'[helpdesk]\ntemplate = "{RT5_BASIC}"\nfields_file = "fields.toml"\n'
        '[pbx]\nmode = "replay"\nreplay_file = "calls.script"\n')
    config = load_config(tmp_path / "config.toml", env={"DESKLINE_DATA_DIR": str(tmp_path / "data")})
    with pytest.raises(ConfigError) as info:
        Engine.from_config(config)
    assert str(info.value).startswith(f"{fields}:2: username: a field value is text")
    assert fields.read_text().endswith('["root"]\n')


def test_engine_reports_a_fields_file_that_is_not_utf8(tmp_path):
    from engine.config import ConfigError, load_config
    from engine.console import Engine

    fields = tmp_path / "fields.toml"
    fields.write_bytes(b'base_url = "\xff"\n')
    (tmp_path / "config.toml").write_text(
        f'[helpdesk]\ntemplate = "{RT5_BASIC}"\nfields_file = "{fields}"\n'
        f'[pbx]\nmode = "replay"\nreplay_file = "{tmp_path / "none.script"}"\n')
    config = load_config(tmp_path / "config.toml", env={"DESKLINE_DATA_DIR": str(tmp_path / "data")})
    with pytest.raises(ConfigError) as info:
        Engine.from_config(config)
    assert "not UTF-8" in str(info.value) and str(fields) in str(info.value)




# --- helpdesk answers ---------------------------------------------------------------------------------------

DEMO_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "demo" / "template.xml"


@pytest.mark.parametrize("body", ["[" * 100_000, "[" * 900 + "]" * 900, '{"a":' * 5000 + "1" + "}" * 5000])
async def test_a_deeply_nested_helpdesk_answer_is_no_match_not_a_crash(body):
    from engine.http import RetryPolicy
    from engine.integration import Integration, IntegrationSettings
    from engine.template import load_template

    def handler(request):
        return httpx.Response(200, text=body, headers={"content-type": "application/json"})

    settings = IntegrationSettings(http=HttpSettings(trust_env=False, retry=RetryPolicy(max_attempts=1)))
    async with Integration(load_template(DEMO_TEMPLATE), {"base_url": "http://127.0.0.1:9",
                                                          "api_token": "demo-api-token"},
                           settings, transport=httpx.MockTransport(handler)) as hd:
        found = await hd.search_contacts("+15550100", use_cache=False)
        users = await hd.fetch_users()
    assert not found.matches and not users.users
    assert found.traces and found.traces[0].response_body  # the answer is kept in the trace to look at


# --- the call store ------------------------------------------------------------------------------------------


async def test_a_damaged_store_is_reported_as_a_problem_and_left_as_it_is(tmp_path):
    from engine.config import load_config
    from engine.console import Engine, EngineProblem
    from engine.store import StoreError

    store = tmp_path / "calls.sqlite3"
    damaged = b"this is not an SQLite database " * 200
    store.write_bytes(damaged)
    (tmp_path / "fields.toml").write_text('base_url = "http://127.0.0.1:9"\n')
    (tmp_path / "calls.script").write_text("ring +15550100 -> 1001\n")
    (tmp_path / "config.toml").write_text(
        f'[helpdesk]\ntemplate = "{DEMO_TEMPLATE}"\nfields_file = "fields.toml"\n'
        f'[pbx]\nmode = "replay"\nreplay_file = "calls.script"\n[store]\npath = "{store}"\n')
    engine = Engine.from_config(load_config(tmp_path / "config.toml", env={}))
    problems = []
    engine.subscribe(lambda fact: problems.append(fact) if isinstance(fact, EngineProblem) else None)
    with pytest.raises(StoreError):
        await engine.start()
    assert [p.what for p in problems] == ["call store"]
    assert str(store) in problems[0].message and "damaged" in problems[0].message
    assert store.read_bytes() == damaged
    await engine.stop()


# --- deskline render -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "directory", "not-utf8", "bad-json", "not-object"])
def test_render_unreadable_variables_are_a_usage_error(tmp_path, capsys, kind):
    from tui.cli import main

    v = tmp_path / "vars.json"
    content = {"not-utf8": b"\xff", "bad-json": b"{", "not-object": b"[]"}.get(kind)
    if kind == "directory":
        v.mkdir()
    elif content is not None:
        v.write_bytes(content)
    assert main(["render", "{{.a}}", "--vars", str(v)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {v}") and "Traceback" not in err
    if content is not None:
        assert v.read_bytes() == content


def test_render_template_errors_keep_status_1(capsys):
    from tui.cli import main

    assert main(["render", "{{if .x}}"]) == 1
    assert capsys.readouterr().err.startswith("error: <template>:1:")


@pytest.mark.parametrize("speed", ["0", "-1", "nan", "inf"])
def test_demo_refuses_a_speed_that_is_not_above_zero(capsys, speed):
    from tui.cli import main

    assert main(["demo", "--headless", "--speed", speed]) == 2
    assert "--speed must be a number above 0" in capsys.readouterr().err


# --- pasted redirect addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize(("pasted", "what"), [
    ("http://[::1/cb?code=x&state=s", "not a web address"),
    ("garbage", "not the redirect address"),
    ("https://hd.test/o/authorize/?client_id=c", "not the redirect address"),
    ("http://127.0.0.1:8765/callback?error=access_denied&state=s", "refused the authorization: access_denied"),
    ("http://127.0.0.1:8765/callback?code=x&state=other", "state in the redirect does not match"),
    ("http://127.0.0.1:8765/callback?code=&state=s", "no code parameter"),
])
def test_a_bad_pasted_redirect_says_what_is_wrong(pasted, what):
    from engine.auth import parse_redirect

    with pytest.raises(AuthError) as info:
        parse_redirect(pasted, "s")
    assert what in str(info.value)
    assert info.value.location.field == "redirect URL"


# --- config and field values files --------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["a = " + "[" * 100_000, "a = " + "{b = " * 3000])
def test_a_config_nested_too_deeply_is_a_config_error(tmp_path, text):
    from engine.config import ConfigError, load_config

    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value).startswith(f"{path}: not valid TOML: arrays or tables nest too deeply")
    assert path.read_text() == text


def test_a_missing_fields_file_is_named_as_such_with_its_setting(tmp_path):
    from engine.config import ConfigError, load_config

    (tmp_path / "config.toml").write_text('[helpdesk]\nfields_file = "nope.toml"\n')
    config = load_config(tmp_path / "config.toml", env={})
    with pytest.raises(ConfigError) as info:
        config.field_values()
    assert str(info.value) == f"{tmp_path / 'nope.toml'}: helpdesk.fields_file: the field values file does not exist"


# --- the template store -----------------------------------------------------------------------------------


def test_export_into_a_file_or_an_impossible_folder_is_a_located_error(tmp_path):
    from engine.template.store import StoreError, TemplateStore

    store = TemplateStore(tmp_path / "store")
    store.import_path(RT5_BASIC.parent)
    afile = tmp_path / "afile"
    afile.write_text("mine")
    with pytest.raises(StoreError) as info:
        store.export("rt5_basic", afile)
    assert str(info.value).startswith(f"{afile}: the destination is a file")
    with pytest.raises(StoreError) as info:
        store.export("rt5_basic", afile / "sub")
    assert "cannot write the export: Not a directory" in str(info.value)
    assert afile.read_text() == "mine"


def test_import_into_a_store_that_cannot_be_created_is_a_located_error(tmp_path):
    from engine.template.store import StoreError, TemplateStore

    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError) as info:
        TemplateStore(blocker / "templates").import_path(RT5_BASIC.parent)
    assert str(info.value).startswith(f"{blocker / 'templates'}: cannot store the template: Not a directory")
    assert blocker.read_text() == "not a folder"


# --- deskline gjson ---------------------------------------------------------------------------------------------


def test_gjson_stdin_that_is_not_utf8_is_a_usage_error(capsys, monkeypatch):
    from tui.cli import main

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b'\xff{"a": 1}'), encoding="utf-8"))
    assert main(["gjson", "a"]) == 2
    assert capsys.readouterr().err == "deskline gjson: <stdin> is not UTF-8 text (byte 0): invalid start byte\n"


# --- field values that make a broken URL -----------------------------------------------------------------------


@pytest.mark.parametrize(("base_url", "what"), [
    ("http://[::1", "has an invalid URL 'http://[::1/"),
    ("http://127.0.0.1:99999", "has port 99999; a port is 1-65535"),
    ("http://root:pw-secret-123@[::1", "has an invalid URL 'http://***@[::1/"),
])
async def test_a_base_url_that_is_no_url_is_a_scenario_error_not_a_crash(base_url, what):
    from engine.integration import Integration
    from engine.template import load_template

    def handler(request):  # never reached
        raise AssertionError("nothing should be sent")

    async with Integration(load_template(RT5_BASIC), {"base_url": base_url, "username": "root",
                                                      "password": "pw-secret-123"},
                           transport=httpx.MockTransport(handler)) as hd:
        found = await hd.search_contacts("+15550100", use_cache=False)
    assert found.errors and what in str(found.errors[0])
    assert "pw-secret-123" not in str(found.errors[0])


async def test_a_missing_replay_file_is_a_located_frame_error_for_the_engine(tmp_path):
    source = ReplaySource(tmp_path / "gone.jsonl")
    with pytest.raises(FrameError) as info:
        async for _ in source:
            pass
    assert str(info.value) == f"{tmp_path / 'gone.jsonl'}: cannot read the file: No such file or directory"


# --- token files -------------------------------------------------------------------------------------------------


def test_tokens_that_cannot_be_saved_are_an_auth_error_naming_the_file(tmp_path):
    from engine.auth import TokenStore

    blocker = tmp_path / "tokens"
    blocker.write_text("a file where the folder should be")
    store = TokenStore(blocker / "hd.json")
    with pytest.raises(AuthError) as info:
        store.save(TokenSet(access_token="secret-access-123"))
    assert str(info.value).startswith(f"{blocker / 'hd.json'}: cannot save the tokens: ")
    assert "secret-access-123" not in str(info.value)
    assert blocker.read_text() == "a file where the folder should be"


@pytest.mark.parametrize(("uri", "what"), [
    ("http://[::1", "not a web address"),
    ("http://127.0.0.1:abc/cb", "not a web address"),
    ("http://127.0.0.1:99999/cb", "not a web address"),
    ("notaurl", "expected an http:// address"),
])
def test_try_refuses_a_redirect_address_it_could_not_listen_on(tmp_path, monkeypatch, uri, what):
    import asyncio

    monkeypatch.setenv("DESKLINE_OAUTH_REDIRECT_URI", uri)
    monkeypatch.setenv("DESKLINE_DATA_DIR", str(tmp_path / "data"))
    template = Path(__file__).resolve().parent.parent / "templates" / "django-helpdesk-oauth2" / "template.xml"
    out = io.StringIO()
    args = SimpleNamespace(scenario="auth", template=str(template), phone=None, dry_run=False)
    monkeypatch.setattr(try_scenario, "load_values", lambda t: {"base_url": "http://127.0.0.1:9"})
    assert asyncio.run(try_scenario._run(args, out, io.StringIO())) == 2
    assert out.getvalue().startswith("error: DESKLINE_OAUTH_REDIRECT_URI: ") and what in out.getvalue()


@pytest.mark.parametrize(("url", "what"), [
    ("http://[::1", "Invalid IPv6 URL"),
    ("http://127.0.0.1:99999", "Port out of range"),
    ("https://127.0.0.1:x/", "Port could not be cast"),
])
def test_a_pbx_address_that_cannot_be_used_is_a_config_error_at_its_line(tmp_path, url, what):
    from engine.config import ConfigError, load_config

    path = tmp_path / "config.toml"
    path.write_text(f'[pbx]\nurl = "{url}"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value).startswith(f"{path}:2: pbx.url: not a usable address (")
    assert what in str(info.value)


async def test_a_full_disk_is_a_store_error_and_keeps_what_was_written(tmp_path):
    from engine.store import CallRecord, Store, StoreError

    async with Store(tmp_path / "calls.sqlite3") as store:
        await store.record_call(CallRecord("kept", caller_number="+15550100"))
        pages = await store._run(lambda: store._db.execute("PRAGMA page_count").fetchone()[0])
        await store._run(lambda: store._db.execute(f"PRAGMA max_page_count={pages + 1}"))  # the disk is full
        with pytest.raises(StoreError) as info:
            await store.record_calls([CallRecord(f"c{i}", caller_name="x" * 2000) for i in range(200)])
        assert "free space" in str(info.value) and str(tmp_path / "calls.sqlite3") in str(info.value)
        assert (await store.call("kept")).caller_number == "+15550100"
        assert await store.call("c0") is None  # the failed batch left nothing half-written


@pytest.mark.parametrize("argv", [["--port", "99999"], ["--speed", "-1"], ["--speed", "nan"]])
def test_simulator_refuses_impossible_numbers_as_usage_errors(argv, capsys):
    from engine.pbx.simulator import main as simulator_main

    with pytest.raises(SystemExit) as info:
        simulator_main(argv)
    assert info.value.code == 2
    assert argv[0] in capsys.readouterr().err


def test_simulator_reports_a_script_that_is_not_utf8_with_its_position(tmp_path, capsys):
    from engine.pbx.simulator import main as simulator_main

    script = tmp_path / "calls.script"
    script.write_bytes(b"ring +15550100 -> 1001\nanswer \xe9\n")
    assert simulator_main(["--script", str(script)]) == 2
    assert capsys.readouterr().err.startswith(f"{script}:2:8: not UTF-8 text: byte 0xe9")


async def test_the_callback_server_answers_a_request_python_cannot_split_and_keeps_waiting():
    import asyncio

    from engine.auth.callback import CallbackServer

    server = CallbackServer(port=0, path="/callback")
    await server.start()
    try:
        port = server.port
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET http://[::1/callback?code=x HTTP/1.1\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 400 Bad Request")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /callback?code=abc&state=s HTTP/1.1\r\n\r\n")
        await writer.drain()
        assert (await server.wait(5))["code"] == "abc"
        writer.close()
    finally:
        await server.close()


# --- the PBX's token answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(("ttl", "expected"), [
    ("1800", 1800.0), (600, 600.0), ("nan", 1800.0), ("inf", 1800.0), (-5, 1800.0), (0, 0.0),
    (True, 1800.0), ({"s": 1}, 1800.0), (None, 1800.0),
])
def test_pbx_token_lifetimes_in_any_shape_are_a_sane_number(ttl, expected):
    from engine.pbx.source import _number

    assert _number(ttl, 1800.0) == expected
