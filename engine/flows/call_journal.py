"""Write the call journal after a call (``CallJournal``).

Build variables (spec A.3: ``Owner``, ``WhoModule``, ``ContactId``,
``TicketId``, ``Subject``, ``Description``, ``RecordPath``, times,
durations, status, numbers) -> render the user-editable ``Subject`` and
``Description`` first -> render request -> send.  A POST journal is not
repeated after an unknown outcome unless the caller (the durable outbox)
says it is safe.
"""

from __future__ import annotations

import datetime as dt

from engine.flows.call import CallContext
from engine.flows.runner import Runtime, ScenarioError, ScenarioResult
from engine.template import Scenario
from engine.template.model import CALL_JOURNAL


def text_variables(rt: Runtime, scenario: Scenario, scope: dict[str, str], *, subject: str | None,
                   description: str | None) -> dict[str, str]:
    """``Subject`` and ``Description``: the operator's text or the template's default, rendered.

    A field switched off (``EnableSubject="0"``) is empty unless the operator wrote one.
    """
    out = {}
    for key, given in (("Subject", subject), ("Description", description)):
        switch = scenario.parameter(f"Enable{key}")
        if given is None and switch is not None and not scenario.flag(f"Enable{key}"):
            out[key] = ""  # switched off in the template: the field is not used
            continue
        text = given if given is not None else scenario.value(key)
        loc = scenario.location
        out[key] = rt.render(text, {**scope, **out}, name=f"{loc.file}:{loc.line} {scenario.id}/Parameter[{key}]")
    return out


def journal_scope(rt: Runtime, scenario: Scenario, context: CallContext, *, subject: str | None = None,
                  description: str | None = None, tz: dt.tzinfo | None = None, at_ring: bool = False) -> dict[str, str]:
    scope = {**rt.variables, **context.scope(tz=tz, at_ring=at_ring)}
    for p in scenario.custom_parameters:
        scope.setdefault(p.name, p.value or "")
    if scenario.play_recording_enabled and not scenario.play_recording:
        scope["RecordPath"] = ""  # the template offers the recording link, the option is off
    scope.update(text_variables(rt, scenario, scope, subject=subject, description=description))
    return scope


async def write_journal(rt: Runtime, context: CallContext, *, subject: str | None = None,
                        description: str | None = None, tz: dt.tzinfo | None = None,
                        retry_safe: bool = False) -> ScenarioResult:
    """Journal the call of *context* (every request of the scenario, in order)."""
    scenario = rt.template.scenario(CALL_JOURNAL)
    if scenario is None:
        return ScenarioResult(CALL_JOURNAL, error=ScenarioError("the template has no CallJournal scenario",
                                                                scenario=CALL_JOURNAL))
    if scenario.need_sync_contact and not context.scope().get("ContactId"):
        return ScenarioResult(CALL_JOURNAL, error=ScenarioError(
            "CallJournal needs a matched contact (NeedSyncContact=1) and this call has none",
            scenario.location, scenario=CALL_JOURNAL))
    try:
        scope = journal_scope(rt, scenario, context, subject=subject, description=description, tz=tz)
    except Exception as exc:  # a broken Subject/Description template
        return ScenarioResult(CALL_JOURNAL, error=ScenarioError(str(exc), scenario.location, scenario=CALL_JOURNAL))
    return await rt.run(CALL_JOURNAL, scope, retry_safe=retry_safe)
