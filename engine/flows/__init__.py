"""Scenario flows: each scenario is one module of the same shape
(build variables -> render request -> send -> map response) over the shared :class:`Runtime`."""

from engine.flows.call import CallContext, CallInfo, call_variables, talk_duration
from engine.flows.call_journal import write_journal
from engine.flows.contact_search import (
    ContactCache,
    ContactMatch,
    ContactSearchResult,
    PickPolicy,
    search_contacts,
    search_manually,
)
from engine.flows.create_contact import CreatedContact, create_contact
from engine.flows.popup import popup_url
from engine.flows.runner import RequestOutcome, Runtime, ScenarioError, ScenarioResult
from engine.flows.ticket import create_ticket, ticket_after_call, ticket_at_ring
from engine.flows.user_association import (
    HelpdeskUser,
    UserList,
    associate_by_email,
    extension_may_use_features,
    fetch_users,
)

__all__ = [
    "CallContext", "CallInfo", "ContactCache", "ContactMatch", "ContactSearchResult", "CreatedContact",
    "HelpdeskUser", "PickPolicy", "RequestOutcome", "Runtime", "ScenarioError", "ScenarioResult", "UserList",
    "associate_by_email", "call_variables", "create_contact", "create_ticket", "extension_may_use_features",
    "fetch_users", "popup_url", "search_contacts", "search_manually", "talk_duration", "ticket_after_call",
    "ticket_at_ring", "write_journal",
]
