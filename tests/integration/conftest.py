"""Fixtures for the real helpdesks started by ``scripts/rt-helpdesk.sh`` and ``scripts/dh-helpdesk.sh``.

The facts come from the environment (``./dev test`` sources the env files) or, when a
variable is not set, from the env file the script wrote (``$RT_HOME/env``, default
``/tmp/rt-helpdesk/env``; ``$DH_HOME/env``, default ``/tmp/dh-helpdesk/env``).
Without a reachable server the tests fail loudly in CI (``CI=true``) and under
``./dev test`` (``DESKLINE_REAL_HELPDESKS=1``); elsewhere they are skipped.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import real_helpdesks_required


def _read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text().splitlines():
        if "=" not in line or line.lstrip().startswith("#"):
            continue
        key, _, raw = line.partition("=")
        parts = shlex.split(raw) if raw.strip() else [""]
        values[key.strip()] = " ".join(parts)
    return values


def _facts(prefix: str, env_file: Path) -> dict[str, str]:
    facts = _read_env_file(env_file)
    facts.update({k: v for k, v in os.environ.items() if k.startswith(prefix)})
    return facts


def _unavailable(what: str, why: str) -> None:
    message = (f"{what} is not available: {why}. Start it with `bash scripts/{what}.sh all` "
               f"(./dev test does this).")
    if real_helpdesks_required():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _check_up(what: str, url: str) -> None:
    try:
        httpx.get(url, timeout=5)
    except httpx.TransportError as exc:
        _unavailable(what, f"no answer from {url} ({exc.__class__.__name__})")


@dataclass(frozen=True)
class RTServer:
    """A seeded Request Tracker 5 (see scripts/rt-helpdesk.sh seed for the data)."""

    url: str                 # http://127.0.0.1:8080 (the template's base_url)
    api: str                 # {url}/REST/2.0
    user: str                # root: may create users (AdminUsers)
    password: str
    token: str               # API token of root: "Authorization: token <token>"
    agent_user: str          # a privileged agent (search, tickets; no user creation)
    agent_password: str
    agent_domain: str        # agents' email domain (helpdesk.test)
    agent_count: int
    queue: str
    agents_group_id: str
    seed_ticket_id: str

    def basic(self) -> httpx.BasicAuth:
        return httpx.BasicAuth(self.user, self.password)

    def token_headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}


@dataclass(frozen=True)
class DHServer:
    """A seeded django-helpdesk with django-oauth-toolkit (see scripts/dh-helpdesk.sh)."""

    url: str                 # http://127.0.0.1:8081 (the template's base_url), long-lived tokens
    api: str                 # {url}/helpdesk/api
    short_url: str           # second instance on the same DB: access tokens expire after short_ttl s
    short_ttl: int
    token: str               # DRF token of the admin: "Authorization: Token <token>"
    agent_token: str
    queue_id: int
    client_id: str
    client_secret: str
    redirect_uri: str        # deskline's loopback callback, registered on the application
    redirect_uris: tuple[str, ...]
    login_user: str          # the person who approves in the "browser" (staff agent)
    login_password: str
    admin_user: str
    admin_password: str

    def authorize_endpoint(self, short: bool = False) -> str:
        return f"{self.short_url if short else self.url}/o/authorize/"

    def token_endpoint(self, short: bool = False) -> str:
        return f"{self.short_url if short else self.url}/o/token/"


@pytest.fixture(scope="session")
def rt_server() -> RTServer:
    home = Path(os.environ.get("RT_HOME", "/tmp/rt-helpdesk"))
    facts = _facts("RT_", home / "env")
    if "RT_API" not in facts or "RT_TOKEN" not in facts:
        _unavailable("rt-helpdesk", f"no RT_API/RT_TOKEN in the environment or in {home / 'env'}")
    _check_up("rt-helpdesk", facts["RT_API"] + "/rt")
    return RTServer(
        url=facts["RT_URL"], api=facts["RT_API"], user=facts["RT_USER"], password=facts["RT_PASSWORD"],
        token=facts["RT_TOKEN"], agent_user=facts.get("RT_AGENT_USER", "agent1"),
        agent_password=facts.get("RT_AGENT_PASSWORD", "agentpass1"),
        agent_domain=facts.get("RT_AGENT_DOMAIN", "helpdesk.test"),
        agent_count=int(facts.get("RT_AGENT_COUNT", "0")), queue=facts.get("RT_QUEUE", "General"),
        agents_group_id=facts.get("RT_AGENTS_GROUP_ID", ""), seed_ticket_id=facts.get("RT_SEED_TICKET_ID", ""),
    )


@pytest.fixture(scope="session")
def dh_server() -> DHServer:
    home = Path(os.environ.get("DH_HOME", "/tmp/dh-helpdesk"))
    facts = _facts("DH_", home / "env")
    if "DH_API" not in facts or "DH_CLIENT_ID" not in facts:
        _unavailable("dh-helpdesk", f"no DH_API/DH_CLIENT_ID in the environment or in {home / 'env'}")
    _check_up("dh-helpdesk", facts["DH_API"] + "/")
    _check_up("dh-helpdesk", facts["DH_SHORT_URL"] + "/helpdesk/api/")
    return DHServer(
        url=facts["DH_URL"], api=facts["DH_API"], short_url=facts["DH_SHORT_URL"],
        short_ttl=int(facts.get("DH_SHORT_TOKEN_TTL", "2")), token=facts["DH_TOKEN"],
        agent_token=facts.get("DH_AGENT_TOKEN", ""), queue_id=int(facts["DH_QUEUE_ID"]),
        client_id=facts["DH_CLIENT_ID"], client_secret=facts["DH_CLIENT_SECRET"],
        redirect_uri=facts["DH_REDIRECT_URI"],
        redirect_uris=tuple(facts.get("DH_REDIRECT_URIS", facts["DH_REDIRECT_URI"]).split()),
        login_user=facts["DH_LOGIN_USER"], login_password=facts["DH_LOGIN_PASSWORD"],
        admin_user=facts.get("DH_ADMIN_USER", "admin"), admin_password=facts.get("DH_ADMIN_PASSWORD", ""),
    )
