"""Tickets (``CreateNewTicket``): create one, at ring or after the call, and update it after the call.

The first request creates the ticket and maps ``TicketId``; later requests
of the scenario update it (the extended configuration) with ``TicketId`` in
scope.  With ``CreateTicketAt=ring`` the ticket is created while the phone
rings (call outcome fields empty) and updated after the call; otherwise the
whole scenario runs after the call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from engine.flows.call import CallContext
from engine.flows.call_journal import journal_scope
from engine.flows.runner import Runtime, ScenarioError, ScenarioResult
from engine.template.model import CREATE_TICKET


def _missing(error: str, rt: Runtime) -> ScenarioResult:
    scenario = rt.template.scenario(CREATE_TICKET)
    return ScenarioResult(CREATE_TICKET, error=ScenarioError(error, scenario.location if scenario else None,
                                                             scenario=CREATE_TICKET))


async def _run(rt: Runtime, context: CallContext, *, part: str, subject: str | None, description: str | None,
               custom: Mapping[str, str] | None, tz: dt.tzinfo | None, at_ring: bool,
               retry_safe: bool) -> ScenarioResult:
    scenario = rt.template.scenario(CREATE_TICKET)
    if scenario is None or not scenario.requests:
        return _missing("the template has no CreateNewTicket request", rt)
    if scenario.need_sync_contact and not context.scope().get("ContactId"):
        return _missing("CreateNewTicket needs a matched contact (NeedSyncContact=1) and this call has none", rt)
    try:
        scope = journal_scope(rt, scenario, context, subject=subject, description=description, tz=tz,
                              at_ring=at_ring)
    except Exception as exc:
        return _missing(str(exc), rt)
    scope.update(custom or {})
    requests = {"create": scenario.requests[:1], "update": scenario.requests[1:], "all": scenario.requests}[part]
    if part == "update" and not scope.get("TicketId"):
        return _missing("no ticket was created for this call, so there is nothing to update", rt)
    result = await rt.run(CREATE_TICKET, scope, requests=list(requests), retry_safe=retry_safe)
    ticket_id = result.variables.get("TicketId", "")
    if result.ok and part in ("create", "all") and not ticket_id and not rt.dry_run:
        result.error = ScenarioError("CreateNewTicket: the ticket was created but its TicketId output came back "
                                     "empty (check the Output Path)", scenario.requests[0].location,
                                     scenario=CREATE_TICKET, request=scenario.requests[0].name)
    if ticket_id:
        context.remember({"TicketId": ticket_id})
    return result


async def ticket_at_ring(rt: Runtime, context: CallContext, *, subject: str | None = None,
                         description: str | None = None, custom: Mapping[str, str] | None = None,
                         tz: dt.tzinfo | None = None, retry_safe: bool = False) -> ScenarioResult | None:
    """Create the ticket while it rings when the template says ``CreateTicketAt=ring``; else None."""
    scenario = rt.template.scenario(CREATE_TICKET)
    if scenario is None or scenario.ticket_timing != "ring":
        return None
    return await _run(rt, context, part="create", subject=subject, description=description, custom=custom, tz=tz,
                      at_ring=True, retry_safe=retry_safe)


async def ticket_after_call(rt: Runtime, context: CallContext, *, subject: str | None = None,
                            description: str | None = None, custom: Mapping[str, str] | None = None,
                            tz: dt.tzinfo | None = None, retry_safe: bool = False) -> ScenarioResult:
    """After the call: update the ticket created at ring, or create (and update) it now."""
    scenario = rt.template.scenario(CREATE_TICKET)
    if scenario is not None and scenario.ticket_timing == "ring" and context.variables.get("TicketId"):
        if len(scenario.requests) < 2:
            return ScenarioResult(CREATE_TICKET, variables=dict(context.variables))
        return await _run(rt, context, part="update", subject=subject, description=description, custom=custom,
                          tz=tz, at_ring=False, retry_safe=retry_safe)
    return await _run(rt, context, part="all", subject=subject, description=description, custom=custom, tz=tz,
                      at_ring=False, retry_safe=retry_safe)


async def create_ticket(rt: Runtime, context: CallContext, **kw) -> ScenarioResult:
    """Run the whole CreateNewTicket scenario now (create, then any update requests)."""
    return await _run(rt, context, part="all", subject=kw.get("subject"), description=kw.get("description"),
                      custom=kw.get("custom"), tz=kw.get("tz"), at_ring=kw.get("at_ring", False),
                      retry_safe=kw.get("retry_safe", False))
