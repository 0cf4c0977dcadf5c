"""Create a contact when nothing matched (``CreateNewContact``, one request per contact type).

Build variables (``FirstName``, ``LastName``, ``BusinessNumber``,
``DisplayName``, ``ContactSyncType``) -> render request -> send -> map
``ContactId``, which stays in scope for the call journal and the ticket.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.flows.call import CallContext
from engine.flows.runner import Runtime, ScenarioError, ScenarioResult
from engine.template.model import CREATE_CONTACT


@dataclass(slots=True)
class CreatedContact:
    contact_id: str
    contact_type: str
    run: ScenarioResult

    @property
    def ok(self) -> bool:
        return self.run.ok and bool(self.contact_id)


def contact_variables(number: str, first_name: str = "", last_name: str = "", display_name: str = "",
                      contact_type: str = "") -> dict[str, str]:
    display = display_name or " ".join(p for p in (first_name, last_name) if p) or number
    return {"FirstName": first_name or display, "LastName": last_name, "DisplayName": display,
            "BusinessNumber": number, "Phone": number, "CallerNumber": number, "ContactSyncType": contact_type}


async def create_contact(rt: Runtime, number: str, *, contact_type: str = "", first_name: str = "",
                         last_name: str = "", display_name: str = "", context: CallContext | None = None,
                         retry_safe: bool = False) -> CreatedContact:
    """Create a contact of *contact_type* (default: the first type of the scenario)."""
    scenario = rt.template.scenario(CREATE_CONTACT)
    if scenario is None or not scenario.requests:
        run = ScenarioResult(CREATE_CONTACT, error=ScenarioError("the template has no CreateNewContact request",
                                                                 scenario=CREATE_CONTACT))
        return CreatedContact("", contact_type, run)
    request = scenario.request(contact_type) if contact_type else scenario.requests[0]
    if request is None:
        known = ", ".join(scenario.contact_types)
        run = ScenarioResult(CREATE_CONTACT, error=ScenarioError(
            f"CreateNewContact has no contact type {contact_type!r} (known: {known})", scenario.location,
            scenario=CREATE_CONTACT))
        return CreatedContact("", contact_type, run)
    scope = {**(context.scope() if context is not None else {}),
             **contact_variables(number, first_name, last_name, display_name, request.name)}
    run = await rt.run(CREATE_CONTACT, scope, requests=[request], retry_safe=retry_safe)
    contact_id = run.variables.get("ContactId", "") if run.ok else ""
    if run.ok and not contact_id and not rt.dry_run:
        run.error = ScenarioError(f"CreateNewContact: request {request.name!r} succeeded but its ContactId output "
                                  "came back empty (check the Output Path)", request.location,
                                  scenario=CREATE_CONTACT, request=request.name)
    if context is not None and contact_id:
        context.remember({"ContactId": contact_id, "WhoModule": request.name})
    return CreatedContact(contact_id, request.name, run)
