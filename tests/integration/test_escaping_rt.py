"""Escaping by destination, proven against Request Tracker 5 (issue: template language).

Hostile values go through the shipped RT templates' JSON bodies and arrive byte for byte; an
E.164 number substituted into a URL query arrives as ``+`` (RT reads a bare ``+`` as a space).
"""

from __future__ import annotations

import secrets
import time

import httpx
import pytest

from engine.expr import render
from engine.flows import CallInfo
from engine.integration import Integration
from engine.template import load_template
from tests.conftest import REPO
from tests.integration.test_runtime_rt import SETTINGS, values_for

pytestmark = pytest.mark.realserver

# no trailing blanks (RT trims names) and no {{ }} (Subject/Description are templates by design)
HOSTILE_NAME = 'Seán "Q" O\'Brien \\ & <b>x</b>, 50% \u2603'
HOSTILE_TEXT = 'line one "quoted"\nline two\twith a tab \\ a backslash, é and \u2603'


def test_plus_in_a_query_value_reaches_rt_as_plus(rt_server):
    url = render('{{.base}}/REST/2.0/users?query=[{"field":"CF.{Phone}","value":"{{.Phone}}"}]&fields=Name',
                 {"base": rt_server.url, "Phone": "+15550101"}, context="url")
    assert "%2B15550101" in url
    with httpx.Client(auth=rt_server.basic(), timeout=20, trust_env=False) as client:
        assert [u["id"] for u in client.get(url).json()["items"]] == ["alice@example.com"]
        # the same URL with a bare '+' finds nobody: what the escaping protects against
        assert client.get(url.replace("%2B", "+")).json()["items"] == []


@pytest.mark.parametrize("name", ["rt5-basic", "rt5-token"])
async def test_hostile_name_and_journal_text_arrive_intact(rt_server, name):
    template = load_template(REPO / "templates" / name / "template.xml")
    number = "+1668" + "".join(secrets.choice("0123456789") for _ in range(7))
    async with Integration(template, values_for(template, rt_server), SETTINGS) as hd:
        call = hd.new_call(CallInfo(number, "1001", extension="1001", status="Answered",
                                    start_time=time.time() - 100, talk_seconds=90))
        created = await hd.create_contact(number, display_name=HOSTILE_NAME, context=call)
        assert created.ok, created.run.error
        found = await hd.search_contacts(number, use_cache=False)
        assert found.chosen is not None and found.chosen.fields["FirstName"] == HOSTILE_NAME
        ticket = await hd.ticket_after_call(call)
        assert ticket.ok, ticket.error
        journal = await hd.write_journal(call, subject='Subject "with" \\ quotes', description=HOSTILE_TEXT)
        assert journal.ok, journal.error
    async with httpx.AsyncClient(auth=rt_server.basic(), timeout=20, trust_env=False) as client:
        user = (await client.get(f"{rt_server.api}/user/{created.contact_id}")).json()
        history = (await client.get(f"{rt_server.api}/ticket/{call.variables['TicketId']}/history",
                                    params={"fields": "Type"})).json()
        [comment] = [item for item in history["items"] if item["Type"] == "Comment"]
        parts = (await client.get(f"{rt_server.api}/transaction/{comment['id']}/attachments",
                                  params={"fields": "Content,Subject,ContentType"})).json()["items"]
    assert user["RealName"] == HOSTILE_NAME
    text = [p for p in parts if p.get("ContentType") == "text/plain"]
    assert [(p["Subject"], p["Content"]) for p in text] == [('Subject "with" \\ quotes', HOSTILE_TEXT)]
