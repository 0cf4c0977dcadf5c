"""User association (``UserAssociation``): get the helpdesk's users, page by page, and bind them
to PBX extensions.

Build variables (``Page``, ``PageSize``, ``Offset``, ``Limit``, ``Cursor``)
-> render request -> send -> map ``UserUniqueId``/``FirstName``/``LastName``/
``Email``; repeat as the template's pagination declares (spec A.5) until a
page is empty, short, has no next cursor/link, repeats the previous page, or
``MaxPages`` is reached (a warning, never a silent cut).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.flows.runner import Runtime, ScenarioError, ScenarioResult, resolve_link
from engine.http import Trace
from engine.template.model import USER_ASSOCIATION

DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class HelpdeskUser:
    """A helpdesk user (agent) that PBX extensions can be associated with."""

    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.email or self.id


@dataclass(slots=True)
class UserList:
    """Every user fetched, how many pages it took, and what went wrong or was cut."""

    users: list[HelpdeskUser] = field(default_factory=list)
    pages: int = 0
    warnings: list[str] = field(default_factory=list)
    runs: list[ScenarioResult] = field(default_factory=list)
    error: ScenarioError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def traces(self) -> list[Trace]:
        return [t for run in self.runs for t in run.traces]


def _user(record: Mapping[str, str]) -> HelpdeskUser | None:
    uid = str(record.get("UserUniqueId", "")).strip()
    if not uid:
        return None
    return HelpdeskUser(uid, record.get("FirstName", ""), record.get("LastName", ""), record.get("Email", ""))


async def fetch_users(rt: Runtime) -> UserList:
    """All users of the helpdesk (every page)."""
    out = UserList()
    scenario = rt.template.scenario(USER_ASSOCIATION)
    if scenario is None or not scenario.requests:
        out.error = ScenarioError("the template has no UserAssociation request", scenario=USER_ASSOCIATION)
        return out
    request = scenario.requests[0]
    paging = scenario.pagination
    mode = paging.mode if paging is not None else ""
    size = (paging.page_size if paging is not None and paging.page_size else None) or DEFAULT_PAGE_SIZE
    first = paging.first_page if paging is not None else 1
    max_pages = paging.max_pages if paging is not None else 1
    seen: set[str] = set()
    previous_ids: list[str] | None = None
    cursor = ""
    url: str | None = None
    for index in range(max_pages if mode else 1):
        scope = {"Page": str(first + index), "PageSize": str(size), "Limit": str(size),
                 "Offset": str(index * size), "Cursor": cursor}
        run = ScenarioResult(USER_ASSOCIATION)
        try:
            outcome = await rt.send(USER_ASSOCIATION, request, {**rt.variables, **scope}, required=("UserUniqueId",),
                                    url=url)
        except ScenarioError as exc:
            run.error = exc
            if exc.outcome is not None:
                run.outcomes.append(exc.outcome)
            out.runs.append(run)
            out.error = exc
            return out
        run.outcomes.append(outcome)
        out.runs.append(run)
        if outcome.skipped:
            out.warnings.append("the Get Users URL rendered empty; no users fetched")
            return out
        out.pages += 1
        records = outcome.records
        ids = [str(r.get("UserUniqueId", "")) for r in records]
        if previous_ids is not None and ids and ids == previous_ids:
            out.warnings.append(f"page {index + 1} repeated the previous page; the helpdesk ignores the paging "
                                "parameters (check the URL's page/offset variables)")
            break
        previous_ids = ids
        for record in records:
            user = _user(record)
            if user is not None and user.id not in seen:
                seen.add(user.id)
                out.users.append(user)
        if not mode or not records:
            break
        if mode in ("page", "offset") and paging is not None and paging.page_size and len(records) < size:
            break
        if mode in ("cursor", "link"):
            following = _next_value(outcome.body, paging.next_path if paging else "")
            if not following:
                break
            if mode == "cursor":
                cursor = following
            else:
                url = resolve_link(outcome.sent_url, following)
    else:
        if mode:
            out.warnings.append(f"stopped after MaxPages={max_pages} pages; there may be more users "
                                "(raise MaxPages in the template's Pagination)")
    return out


def _next_value(body: str, path: str) -> str:
    if not path or not body:
        return ""
    from engine.paths.gjson import get

    result = get(body, path)
    return result.string if result.exists else ""


def associate_by_email(users: list[HelpdeskUser], extensions: Mapping[str, str],
                       manual: Mapping[str, str] | None = None) -> tuple[dict[str, HelpdeskUser], list[str]]:
    """Extensions -> users: manual associations first, then the same e-mail (case-insensitive).

    *extensions* maps an extension number to its e-mail; *manual* maps an
    extension to a helpdesk user id.  Returns the associations and notes
    about what could not be associated.
    """
    by_id = {u.id: u for u in users}
    by_email: dict[str, list[HelpdeskUser]] = {}
    for user in users:
        if user.email.strip():
            by_email.setdefault(user.email.strip().lower(), []).append(user)
    result: dict[str, HelpdeskUser] = {}
    notes: list[str] = []
    for ext, uid in (manual or {}).items():
        if uid in by_id:
            result[ext] = by_id[uid]
        else:
            notes.append(f"extension {ext}: the associated helpdesk user {uid!r} no longer exists")
    for ext, email in extensions.items():
        if ext in result or ext in (manual or {}):
            continue
        found = by_email.get((email or "").strip().lower(), [])
        if len(found) == 1:
            result[ext] = found[0]
        elif len(found) > 1:
            notes.append(f"extension {ext}: {len(found)} helpdesk users share {email}; associate it by hand")
    return result, notes


def extension_may_use_features(user_association_on: bool, associations: Mapping[str, object], extension: str) -> bool:
    """Spec A.2.6: with User Association on, only associated extensions use the features."""
    return not user_association_on or extension in associations
