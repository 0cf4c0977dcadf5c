"""A readable, sectioned summary of a template (``deskline template show``).

Secrets are never printed: password fields show only that they exist.
"""

from __future__ import annotations

from engine.template.model import (
    AUTH, CALL_JOURNAL, COMMON, CONTACT_MATCH, CONTACT_SEARCH, CREATE_CONTACT, CREATE_TICKET, USER_ASSOCIATION,
    Request, Scenario, Template,
)


def _onoff(value: bool) -> str:
    return "on" if value else "off"


def _request_lines(req: Request, indent: str = "  ") -> list[str]:
    lines = [f"{indent}{req.method or '?'} {req.url or '(no URL)'}   [{req.name or 'unnamed'}, line "
             f"{req.location.line}]"]
    for h in req.headers:
        lines.append(f"{indent}  header {h.name}: {h.value or ''}")
    for q in req.query:
        lines.append(f"{indent}  query  {q.name}={q.value or ''}")
    if req.body is not None:
        body = req.body if len(req.body) <= 200 else req.body[:197] + "..."
        lines.append(f"{indent}  body   {body}")
    width = max((len(o.name) for o in req.outputs), default=0)
    for o in req.outputs:
        alias = f" (= {o.field})" if o.field != o.name else ""
        lines.append(f"{indent}  {o.name.ljust(width)} <- {o.path or '(empty)'}{alias}")
    if req.next:
        lines.append(f"{indent}  then run Common request {req.next!r}")
    return lines


def _texts(sc: Scenario) -> list[str]:
    lines = []
    if sc.parameter("Subject") is not None or sc.parameter("EnableSubject") is not None:
        lines.append(f"  Subject ({'user-editable' if sc.subject_enabled else 'fixed'}): {sc.subject}")
    if sc.parameter("Description") is not None or sc.parameter("EnableDescription") is not None:
        lines.append(f"  Description ({'user-editable' if sc.description_enabled else 'fixed'}): {sc.description}")
    for p in sc.custom_parameters:
        lines.append(f"  field {p.name}: {p.title or ''} = {p.value or ''}")
    return lines


def summarize(template: Template) -> str:
    """The summary text, one section per part of the form."""
    g = template.general
    a = template.auth
    out: list[str] = [f"Template {template.file or ''}".rstrip(), ""]
    out += ["General",
            f"  Name: {g.name}", f"  Provider: {g.provider}   Key: {g.key}   Version: {g.version}",
            f"  Remark: {g.remark}", f"  Logo: {g.logo or '(none)'}",
            f"  Max concurrent requests: {g.max_concurrent_request or '(default)'}",
            f"  Features: user association {_onoff(g.user_association)}, create contact "
            f"{_onoff(g.create_new_contact)}, call journal {_onoff(g.call_journal)}, create ticket "
            f"{_onoff(g.create_new_ticket)}", ""]
    out.append(f"Authentication: {a.auth_type or '(not set)'}")
    if a.auth_type == "basic":
        out.append(f"  Credential type: {a.credential_type or '(not set)'}")
        out.append(f"  Base64 encoded credential: {a.base64_credential or '(not set)'}")
    if a.auth_type in ("oauth2", "bearer") or a.auth_endpoint or a.token_endpoint:
        out += [f"  Authorization endpoint: {a.auth_endpoint}", f"  Token endpoint: {a.token_endpoint}"]
        if a.refresh_token_endpoint:
            out.append(f"  Refresh endpoint: {a.refresh_token_endpoint}")
        out.append(f"  Scope: {a.scope}   Token type: {a.token_type}   PKCE: {_onoff(a.pkce)}   "
                   f"refresh: {'not needed' if a.no_need_refresh else 'yes'}")
        if a.additional_query_string:
            out.append(f"  Additional query string: {a.additional_query_string}")
    for text in a.token_invalid:
        out.append(f"  token invalid when the response contains: {text}")
    for h in a.headers:
        out.append(f"  header on every request: {h.name}: {h.value or ''}")
    out.append(f"  Custom fields ({len(a.custom_fields)}):")
    for f in a.custom_fields:
        kind = f.editor or "?"
        extra = ""
        if f.options:
            extra = f"  options: {', '.join(f.options)}"
        elif f.value and not f.secret:
            extra = f"  default: {f.value}"
        out.append(f"    {f.name} ({kind}) \"{f.title}\"{extra}")
    if not a.custom_fields:
        out.append("    (none)")
    out.append("")

    ua = template.scenario(USER_ASSOCIATION)
    out.append("User Association" + ("" if ua else ": (not defined)"))
    if ua:
        for r in ua.requests:
            out += _request_lines(r)
        pg = ua.pagination
        if pg:
            out.append(f"  Pagination: {pg.mode} page size {pg.page_size} first page {pg.first_page} max pages "
                       f"{pg.max_pages}" + (f" next {pg.next_path}" if pg.next_path else ""))
    out.append("")

    for sid, title in ((CONTACT_MATCH, "Contact search (on calls)"), (CONTACT_SEARCH, "Contact search (manual)")):
        sc = template.scenario(sid)
        if sc is None:
            continue
        out.append(f"{title}: contact types {', '.join(sc.contact_types) or '(none)'}")
        popup = sc.popup
        if popup.kind == "contact_field":
            out.append(f"  Popup URL from contact field: {popup.field_path}")
        elif popup.url_format:
            out.append(f"  Popup URL: {popup.url_format}")
        if sc.enabled_fields:
            out.append(f"  Enabled fields: {', '.join(sorted(sc.enabled_fields))}")
        for r in sc.requests:
            out.append(f"  Contact type {r.name}:")
            out += _request_lines(r, "    ")
        out.append("")

    for sid, title in ((CREATE_CONTACT, "Create contact"), (CALL_JOURNAL, "Call journal"),
                       (CREATE_TICKET, "Create ticket")):
        sc = template.scenario(sid)
        out.append(title + ("" if sc else ": (not defined)"))
        if sc is None:
            out.append("")
            continue
        out += _texts(sc)
        if sid == CALL_JOURNAL and sc.parameter("EnablePlayCallRecording") is not None:
            out.append(f"  Play call recording: option {_onoff(sc.play_recording_enabled)}, default "
                       f"{_onoff(sc.play_recording)}")
        if sid == CREATE_TICKET:
            out.append(f"  Created: {'at ring' if sc.ticket_timing == 'ring' else 'after the call'}")
        for i, r in enumerate(sc.requests):
            if sid == CREATE_TICKET and i:
                out.append("  then update:")
            out += _request_lines(r)
        out.append("")

    common = [s for s in template.scenarios if s.id == COMMON]
    out.append("Common requests" + ("" if common else ": (none)"))
    for sc in common:
        for r in sc.requests:
            out += _request_lines(r)
    others = [s for s in template.scenarios if s.id not in (AUTH, CONTACT_MATCH, CONTACT_SEARCH, USER_ASSOCIATION,
                                                            CREATE_CONTACT, CALL_JOURNAL, CREATE_TICKET, COMMON)]
    for sc in others:
        out += ["", f"Unknown scenario {sc.id!r} (kept, ignored)"]
    return "\n".join(out).rstrip() + "\n"
