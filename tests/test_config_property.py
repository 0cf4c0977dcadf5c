"""Property tests of engine.config: any file gives a Config or a located ConfigError; saves round-trip."""

from __future__ import annotations

import dataclasses
import os
import tempfile
import typing
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config import SECTIONS, ConfigError, load_config, save_setting

SPECIAL = {
    "pbx.url": st.sampled_from(["", "https://pbx.example.com:8088", "http://10.0.0.2"]),
    "pbx.timezone": st.sampled_from(["", "UTC", "Europe/Berlin", "America/New_York"]),
    "numbers.regex": st.sampled_from(["", r"^0(\d+)$", r"\d{4}$"]),
    "numbers.country_code": st.sampled_from(["", "49", "+1"]),
    "numbers.order": st.lists(st.sampled_from(["as_received", "e164", "national", "digits", "last_n", "regex"]),
                              min_size=1, max_size=4),
    "ui.popup_extensions": st.lists(st.text("0123456789", min_size=1, max_size=5), max_size=3),
}
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


def value_for(section: str, f: dataclasses.Field):
    key = f"{section}.{f.name}"
    if key in SPECIAL:
        return SPECIAL[key]
    if f.metadata.get("choices"):
        return st.sampled_from(f.metadata["choices"])
    hint = typing.get_type_hints(SECTIONS[section])[f.name]
    low = f.metadata.get("min") or 0
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(int(low), 10**6)
    if hint is float:
        return st.floats(min_value=max(low, 0.01) if low else 0, max_value=1e6, allow_nan=False)
    return TEXT


SETTING = st.sampled_from([(s, f) for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), choice=SETTING,
       comment=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20))
def test_a_saved_setting_loads_back_and_keeps_the_comments(data, choice, comment):
    section, f = choice
    value = data.draw(value_for(section, f))
    with tempfile.TemporaryDirectory() as tmp:
        env = {"DESKLINE_CONFIG_DIR": tmp, "DESKLINE_DATA_DIR": tmp}
        path = Path(tmp) / "config.toml"
        path.write_text(f"# {comment}\n[ui]\ntheme = \"x\"  # mine\n", encoding="utf-8")
        os.chmod(path, 0o600)
        save_setting(f"{section}.{f.name}", value, env=env)
        config = load_config(env=env)
        assert getattr(getattr(config, section), f.name) == value
        if f.metadata.get("secret"):
            assert (Path(tmp) / "secrets.toml").stat().st_mode & 0o077 == 0
        assert f"# {comment}" in path.read_text("utf-8") and "# mine" in path.read_text("utf-8")


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(
    TEXT,
    st.lists(st.sampled_from(["[pbx]", "[http]", "[keymap]", "[numbers]", "[zz]", "url = 'https://p'", "x = 1",
                              "read_timeout = 3", "read_timeout = 'a'", "retries = -1", "order = ['e164']",
                              "timezone = 'Nowhere/City'", "'app.quit' = 'q'", "pick = 'first'", "= 3",
                              "[[pbx]]", "pbx = 1", "a.b.c = 2", '"""', "regex = '('"]),
             max_size=8).map("\n".join)))
def test_any_file_gives_a_config_or_a_located_error(text):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.toml"
        path.write_text(text, encoding="utf-8")
        os.chmod(path, 0o600)
        try:
            load_config(path, env={"DESKLINE_CONFIG_DIR": tmp, "DESKLINE_DATA_DIR": tmp})
        except ConfigError as exc:
            assert str(exc).startswith(str(path)) and exc.message
