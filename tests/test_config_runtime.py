"""engine.config mapped onto the runtime's settings objects (no duplicated defaults, template limits kept)."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.config import SECTIONS, ConfigError, load_config
from engine.flows import PickPolicy
from engine.http import HttpSettings
from engine.integration import Integration, IntegrationSettings
from engine.numbers import NumberPlan, number_variants
from engine.outbox import BackoffPolicy
from engine.template import load_template
from tests.conftest import DATA


@pytest.fixture
def env(tmp_path):
    return {"DESKLINE_CONFIG_DIR": str(tmp_path / "config"), "DESKLINE_DATA_DIR": str(tmp_path / "data")}


def test_defaults_are_the_runtime_defaults(env):
    """A config without settings behaves exactly like the engine's own defaults."""
    config = load_config(env=env)
    http, ours = HttpSettings(), config.http_settings()
    assert (ours.connect_timeout, ours.read_timeout, ours.retry.max_attempts, ours.max_concurrent, ours.verify) == \
           (http.connect_timeout, http.read_timeout, http.retry.max_attempts, http.max_concurrent, http.verify)
    assert config.number_plan() == NumberPlan()
    assert set(SECTIONS["contacts"].__dataclass_fields__["pick"].metadata["choices"]) == {p.value for p in PickPolicy}
    settings = config.integration_settings()
    assert settings.pick is PickPolicy(config.contacts.pick) is IntegrationSettings().pick
    assert settings.contact_cache_ttl == IntegrationSettings().contact_cache_ttl
    assert settings.tz is None
    assert config.backoff_policy() == BackoffPolicy()


async def test_settings_reach_the_integration(env, tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("\n".join([
        "[http]", "read_timeout = 7", "retries = 1", "verify_tls = false",
        "[numbers]", 'country_code = "49"', 'order = ["e164", "as_received"]',
        "[contacts]", 'pick = "unique"', "cache_ttl = 0",
        "[pbx]", 'timezone = "Europe/Berlin"',
        "[outbox]", "max_attempts = 3", "base_delay = 60", "max_delay = 30",
    ]) + "\n")
    config = load_config(path, env=env)
    template = load_template(DATA / "templates" / "reconstructed-skeleton.xml")
    settings = config.integration_settings(template)
    assert settings.http.max_concurrent == 5  # the template's MaxConcurrentRequest
    assert (settings.http.read_timeout, settings.http.retry.max_attempts, settings.http.verify) == (7.0, 1, False)
    assert settings.pick is PickPolicy.UNIQUE and settings.contact_cache_ttl == 0
    assert settings.tz.utcoffset(dt.datetime(2026, 7, 1)) == dt.timedelta(hours=2)
    assert [c.value for c in number_variants("030 1234567", settings.numbers)][:2] == ["+49301234567", "030 1234567"]
    assert config.backoff_policy() == BackoffPolicy(max_attempts=3, base_delay=60, max_delay=60)

    minimal = load_template(DATA / "templates" / "minimal-basic.xml")  # no MaxConcurrentRequest
    async with Integration(minimal, {"api_key": "k-123"}, config.integration_settings(minimal)) as integration:
        assert integration.http.settings.read_timeout == 7.0
        assert integration.http.settings.max_concurrent == HttpSettings().max_concurrent

    config = load_config(path, env={**env, "DESKLINE_HTTP__MAX_CONCURRENT": "2"})
    assert config.integration_settings(template).http.max_concurrent == 2  # the operator's limit wins
    assert load_config(env=env).integration_settings(None).http.max_concurrent == HttpSettings().max_concurrent


def test_the_pbx_source_says_which_setting_is_missing(env, tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(env={**env, "DESKLINE_PBX__URL": "https://pbx.example.com:8088"}).open_api_source()
    text = str(err.value)
    assert "pbx.client_id, pbx.client_secret" in text and "DESKLINE_PBX__CLIENT_ID" in text
    assert err.value.location.field == "pbx.client_id"
    source = load_config(env={**env, "DESKLINE_PBX__URL": "https://pbx.example.com:8088/",
                              "DESKLINE_PBX__CLIENT_ID": "deskline",
                              "DESKLINE_PBX__CLIENT_SECRET": "s3cr3t-value"}).open_api_source()
    assert (source.base_url, source.client_id, source.verify_tls) == ("https://pbx.example.com:8088", "deskline", True)
    assert "s3cr3t-value" not in repr(source.__dict__.get("client_id"))
