"""Static checks of every shipped template: files, logo, form limits, flags, renderable values."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from tests.integration.shipped import TEMPLATES, load, render

NAMES = sorted(p.parent.name for p in TEMPLATES.glob("*/template.xml"))
SCENARIO_FLAGS = {"UserAssociation": "UserAssociation", "CallJournal": "CallJournal",
                  "CreateNewContact": "CreateNewContact", "CreateNewTicket": "CreateNewTicket"}
CONTACT_OUTPUTS = {"ContactId", "FirstName", "LastName", "Email", "Company", "Remark", "BusinessNumber",
                   "BusinessNumber2", "BusinessFaxNumber", "MobileNumber", "MobileNumber2", "HomeNumber",
                   "HomeNumber2", "HomeFaxNumber", "OtherNumber", "CustomValue"}
SAMPLE = {"base_url": "http://127.0.0.1:1", "username": "u", "password": "p", "api_token": "t", "queue": "General",
          "agent_domain": "helpdesk.test", "client_id": "c", "client_secret": "s", "queue_id": "1",
          "Page": 2, "PageSize": 50, "Phone": "+15550101", "SearchValue": "Ann", "DisplayName": "Ann",
          "FirstName": "Ann", "LastName": "Lee", "BusinessNumber": "+15550101", "ContactId": "c1",
          "TicketId": "7", "Owner": "a1", "Communication_Type": "Inbound", "Call_Status": "Answered",
          "Call_From": "+15550101", "Call_To": "1001", "Time": "2026-11-25 14:05", "StartTimeUnix": 1795615500,
          "Talk_Duration": "0:01:02", "Talk_Duration_Sec": 62, "RecordPath": "", "AssignTo": "2",
          "CallerNumber": "+15550101", "redirect_uri": "http://127.0.0.1:8765/callback"}


def test_the_four_templates_are_shipped():
    assert NAMES == ["demo", "django-helpdesk-oauth2", "rt5-basic", "rt5-token"]


@pytest.mark.parametrize("name", NAMES)
def test_information_and_logo(name):
    template = load(name)
    info = template.info
    assert info["Provider"] == "helpdesk"
    assert info["AuthType"] in ("none", "basic", "oauth2", "bearer")
    assert info["Name"] and info["Key"] and info["Version"] and info["Remark"]
    logo = template.path.parent / info["Logo"]
    assert logo.stat().st_size < 500_000
    with Image.open(logo) as image:
        assert image.format == "PNG" and image.size == (150, 150)


def test_keys_are_unique():
    keys = [load(n).info["Key"] for n in NAMES]
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("name", NAMES)
def test_flags_match_scenarios_and_form_limits(name):
    template = load(name)
    ids = {s.get("Id") for s in template.root.iterfind("Scenarios/Scenario")}
    assert "AuthMethod" in ids and ids & {"SyncContactAuto", "SearchContact"}
    for scenario, flag in SCENARIO_FLAGS.items():
        assert (template.info[flag] == "1") == (scenario in ids), scenario
    assert 1 <= len(template.custom_fields()) <= 5
    assert template.param("AuthMethod", "AuthMethod") == template.info["AuthType"]


@pytest.mark.parametrize("name", NAMES)
def test_every_value_renders_and_bodies_are_json(name):
    template = load(name)
    variables = {**SAMPLE}
    for node in template.root.iter("Parameter"):
        if node.get("Name") != "Base64EncodedCredential":
            render(node.get("Value", ""), variables)
    for scenario in template.root.iterfind("Scenarios/Scenario"):
        sid = scenario.get("Id")
        scoped = template.scenario_variables(sid, variables) if sid != "AuthMethod" else variables
        for spec in template.requests(sid):
            assert render(spec.url_format, scoped).startswith("http://127.0.0.1:1/"), (sid, spec.name)
            if spec.body_format:
                json.loads(render(spec.body_format, scoped))
            for output, path in spec.outputs.items():
                render(path, scoped)
                if sid in ("SyncContactAuto", "SearchContact"):
                    assert output in CONTACT_OUTPUTS
            if sid in ("SyncContactAuto", "SearchContact"):
                assert {"ContactId", "FirstName"} <= set(spec.outputs)
                assert any(o.endswith("Number") for o in spec.outputs)


@pytest.mark.parametrize("name", NAMES)
def test_journal_and_ticket_bodies_stay_json_when_call_fields_are_empty(name):
    """At ring time the call outcome fields are empty; the bodies must still be JSON."""
    template = load(name)
    ringing = {k: ("" if k in ("Call_Status", "Talk_Duration", "Talk_Duration_Sec", "Owner", "ContactId")
                   else v) for k, v in SAMPLE.items()}
    for sid in ("CreateNewTicket", "CallJournal"):
        scoped = template.scenario_variables(sid, ringing)
        for spec in template.requests(sid):
            if spec.body_format and not ("{{.AssignTo}}" in spec.body_format and not scoped.get("AssignTo")):
                json.loads(render(spec.body_format, scoped))
