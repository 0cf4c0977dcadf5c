"""``deskline try SCENARIO --template T [--phone N] [--dry-run]``: run one scenario, print the trace.

What was sent (URL, headers, body, secrets masked), what came back (status,
body, timings, retries), what mapped (which output paths matched or came back
empty) and a ``curl`` line to repeat it.  Custom field values come from the
environment (``DESKLINE_FIELD_<NAME>``, e.g. ``DESKLINE_FIELD_BASE_URL``), from a
JSON file named by ``DESKLINE_FIELDS_FILE``, or are asked for on a terminal.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import sys
import time
from pathlib import Path

SCENARIO_ALIASES = {
    "synccontactauto": "SyncContactAuto", "contact": "SyncContactAuto", "contacts": "SyncContactAuto",
    "search-contacts": "SyncContactAuto", "searchcontact": "SearchContact", "search": "SearchContact",
    "userassociation": "UserAssociation", "users": "UserAssociation",
    "createnewcontact": "CreateNewContact", "create-contact": "CreateNewContact",
    "calljournal": "CallJournal", "journal": "CallJournal",
    "createnewticket": "CreateNewTicket", "ticket": "CreateNewTicket",
    "authmethod": "AuthMethod", "auth": "AuthMethod", "authorize": "AuthMethod",
}
BODY_SHOWN = 2000


def scenario_id(name: str) -> str | None:
    return SCENARIO_ALIASES.get(name.strip().lower())


def load_values(template, environ=os.environ, ask: bool | None = None, out=sys.stderr) -> dict[str, str]:
    """Custom field values: DESKLINE_FIELDS_FILE (JSON), DESKLINE_FIELD_<NAME>, then a prompt on a terminal."""
    values: dict[str, str] = {}
    path = environ.get("DESKLINE_FIELDS_FILE")
    if path:
        values.update(read_fields_file(Path(path)))
    upper = {k.upper(): v for k, v in environ.items() if k.startswith("DESKLINE_FIELD_")}
    for f in template.custom_fields:
        env = upper.get("DESKLINE_FIELD_" + f.name.upper())
        if env is not None:
            values[f.name] = env
    if ask is None:
        ask = sys.stdin.isatty()
    for f in template.custom_fields:
        if f.name in values:
            continue
        if ask:
            prompt = f"{f.title or f.name} ({f.name}): "
            try:
                values[f.name] = getpass.getpass(prompt) if f.secret else input(prompt)
            except EOFError:
                from engine.errors import LocatedError, Location

                raise LocatedError("no value given (end of input)", Location(field=f.name)) from None
        elif f.value and not f.options:
            values[f.name] = f.value
    return values


def read_fields_file(path: Path) -> dict[str, str]:
    """Field values from DESKLINE_FIELDS_FILE: a JSON object of name -> text (numbers and booleans as text),
    or a ``.toml`` file like the config's ``fields_file``.  Raises a located error for anything else."""
    from engine.errors import LocatedError, Location, caret_excerpt

    if path.suffix.lower() == ".toml":
        from engine.config import load_field_values

        return load_field_values(path)
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LocatedError(f"cannot read the field values (DESKLINE_FIELDS_FILE): {exc.strerror or exc}",
                           Location(file=name)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise LocatedError(f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded",
                           Location(file=name, line=line, col=col)) from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LocatedError(f"invalid JSON: {exc.msg}", Location(file=name, line=exc.lineno, col=exc.colno),
                           caret_excerpt(text, exc.lineno, exc.colno)) from None
    except RecursionError:
        raise LocatedError("invalid JSON: it nests too deeply", Location(file=name, line=1, col=1)) from None
    if not isinstance(obj, dict):
        raise LocatedError(f"the field values must be a JSON object of name -> value, got {type(obj).__name__}",
                           Location(file=name, line=1, col=1))
    values: dict[str, str] = {}
    for key, value in obj.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (int, float)):
            value = str(value)
        if not isinstance(value, str):
            got = "null" if value is None else type(value).__name__
            raise LocatedError(f"a field value is text, got {got}", Location(file=name, field=key))
        values[str(key)] = value
    return values


def redirect_problem(uri: str) -> str:
    """Why *uri* cannot be the OAuth2 redirect address deskline listens on ("" when it can)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises for a port that is not a number 0-65535
    except ValueError as exc:
        return f"{uri!r} is not a web address ({exc})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"expected an http:// address such as http://127.0.0.1:8765/callback, got {uri!r}"
    return ""


def _print_trace(trace, out) -> None:
    w = out.write
    w(f"\n── {trace.summary()}\n")
    if trace.skipped:
        return
    for note in trace.notes:
        w(f"   note: {note}\n")
    w(f"   > {trace.method} {trace.url}\n")
    for name, value in trace.request_headers:
        if name.lower() in ("accept-encoding", "connection", "host", "content-length"):
            continue
        w(f"   > {name}: {value}\n")
    if trace.request_body:
        w(f"   > {trace.request_body[:BODY_SHOWN]}\n")
    for i, attempt in enumerate(trace.attempts, 1):
        if len(trace.attempts) > 1 or attempt.retry_reason:
            what = attempt.error or f"HTTP {attempt.status}"
            w(f"   attempt {i}: {what} in {attempt.elapsed_ms:.0f} ms"
              + (f"; retry in {attempt.delay_s:.2f} s ({attempt.retry_reason})" if attempt.delay_s else
                 (f"; {attempt.retry_reason}" if attempt.retry_reason else "")) + "\n")
    if trace.status is not None:
        w(f"   < {trace.status} {trace.reason} ({trace.response_size} bytes, {trace.elapsed_ms:.0f} ms"
          + (f", waited {trace.queued_ms:.0f} ms for a slot" if trace.queued_ms >= 1 else "") + ")\n")
        body = trace.response_body
        if body:
            shown = body[:BODY_SHOWN]
            w(f"   < {shown}" + (" …" if len(body) > BODY_SHOWN or trace.response_truncated else "") + "\n")
    if trace.error:
        w(f"   error: {trace.error}\n")
    for m in trace.mapping:
        mark = "matched" if m.matched else "EMPTY"
        w(f"   map {m.name:<18} {mark:<7} {m.values} value(s)  {m.path}\n")
    w(f"   curl: {trace.as_curl()}\n")


def _print_result(result, out) -> None:
    w = out.write
    for trace in getattr(result, "traces", []):
        _print_trace(trace, out)
    w("\n")


async def _authorize(hd, out, stdin) -> int:
    from engine.auth import AuthError, OAuth2Auth, parse_redirect
    from engine.auth.callback import CallbackServer

    w = out.write
    w(f"authentication: {hd.template.auth.auth_type or 'none'}; state: {hd.health().describe()}\n")
    if not isinstance(hd.auth, OAuth2Auth):
        return 0
    w("\nPBX authentication information (register deskline in the helpdesk with these):\n")
    for key, value in hd.authentication_info():
        w(f"  {key}: {value}\n")
    auth = hd.auth
    from urllib.parse import urlsplit

    redirect = urlsplit(auth.config.redirect_uri)
    request = auth.authorization_request()
    w(f"\nOpen this address in a browser and approve:\n\n  {request.url}\n\n"
      f"Waiting for the redirect on {auth.config.redirect_uri} — or paste the address the browser was sent to "
      "and press Enter:\n")
    out.flush()
    server = CallbackServer(port=redirect.port or 8765, path=redirect.path or "/callback")
    try:
        await server.start()
        listening = True
    except AuthError as exc:
        w(f"({exc.message})\n")
        listening = False
    try:
        waiters = [asyncio.ensure_future(asyncio.to_thread(stdin.readline))]
        if listening:
            waiters.append(asyncio.ensure_future(server.wait(600)))
        done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for p in pending:
            p.cancel()
        got = done.pop().result()
        from engine.auth import code_from_params

        code = parse_redirect(got, request.state) if isinstance(got, str) else code_from_params(got, request.state)
        tokens = await auth.exchange_code(code, request)
    except AuthError as exc:
        w(f"error: {exc}\n")
        return 1
    finally:
        await server.close()
    w(f"connected; access token expires in {int(tokens.expires_in() or 0)} s; stored in "
      f"{auth.store.path if auth.store else '(memory)'}\n")
    return 0


async def _run(args, out, stdin) -> int:
    from engine.errors import LocatedError
    from engine.flows import CallInfo
    from engine.integration import Integration, IntegrationSettings, default_token_store
    from engine.template import load_template

    sid = scenario_id(args.scenario)
    if sid is None:
        out.write(f"error: unknown scenario {args.scenario!r}; use one of: SyncContactAuto, SearchContact, "
                  "UserAssociation, CreateNewContact, CallJournal, CreateNewTicket, AuthMethod\n")
        return 2
    try:
        source = Path(args.template)
        if not source.exists() and "/" not in args.template:
            from engine.template.store import TemplateStore

            store = TemplateStore()
            if args.template in store.names():
                source = store.path(args.template)  # a stored template by name
        template = load_template(source)
    except LocatedError as exc:
        out.write(f"error: {exc}\n")
        return 2
    if sid != "AuthMethod" and template.scenario(sid) is None:
        out.write(f"error: {args.template}: the template has no {sid} scenario\n")
        return 2
    phone = (args.phone or "").strip()
    if sid in ("SyncContactAuto", "SearchContact", "CreateNewContact") and not phone:
        out.write(f"error: {sid} needs --phone N (the number or, for SearchContact, the text to search)\n")
        return 2
    try:
        values = load_values(template)
    except LocatedError as exc:
        out.write(f"error: {exc}\n")
        return 2
    settings = IntegrationSettings()
    if os.environ.get("DESKLINE_OAUTH_REDIRECT_URI"):
        redirect_uri = os.environ["DESKLINE_OAUTH_REDIRECT_URI"]
        problem = redirect_problem(redirect_uri)
        if problem:
            out.write(f"error: DESKLINE_OAUTH_REDIRECT_URI: {problem}\n")
            return 2
        settings = IntegrationSettings(redirect_uri=redirect_uri)
    try:
        hd = Integration(template, values, settings, token_store=default_token_store(template),
                         dry_run=args.dry_run)
    except LocatedError as exc:
        out.write(f"error: {exc}\n")
        return 2
    w = out.write
    async with hd:
        if sid == "AuthMethod":
            return await _authorize(hd, out, stdin)
        w(f"{template.general.name or args.template}: {sid}"
          + (" (dry run: nothing is sent)" if args.dry_run else "") + f"; credentials: {hd.health().describe()}\n")
        started = time.monotonic()
        error = None
        if sid == "SyncContactAuto":
            result = await hd.search_contacts(phone, use_cache=False)
            _print_result(result, out)
            tried = ", ".join(f"{c.variant}={c.value}" for c in result.tried)
            w(f"number variants tried: {tried}\n")
            if result.variant is not None:
                w(f"matched with {result.variant.variant}: {result.variant.value}\n")
            _print_matches(result, out, hd.http.redactor.url)
            error = result.errors[0] if result.errors else None
        elif sid == "SearchContact":
            result = await hd.search(phone)
            _print_result(result, out)
            _print_matches(result, out, hd.http.redactor.url)
            error = result.errors[0] if result.errors else None
        elif sid == "UserAssociation":
            users = await hd.fetch_users()
            _print_result(users, out)
            w(f"{len(users.users)} user(s) in {users.pages} page(s)\n")
            for u in users.users:
                w(f"  {u.id:<20} {u.display_name:<30} {u.email}\n")
            for warning in users.warnings:
                w(f"warning: {warning}\n")
            error = users.error
        elif sid == "CreateNewContact":
            created = await hd.create_contact(phone, display_name=f"deskline test {phone}")
            _print_result(created.run, out)
            w(f"ContactId: {created.contact_id or '(none)'}\n")
            error = created.run.error
        else:
            call = hd.new_call(CallInfo(caller_number=phone or "+10000000000", callee_number="1000",
                                        extension="1000", status="Answered", start_time=time.time() - 60,
                                        talk_seconds=42, ring_seconds=5))
            if phone and template.scenario("SyncContactAuto") is not None:
                found = await hd.identify(call)
                _print_result(found, out)
                w(f"contact: {found.chosen.display_name + ' (' + found.chosen.id + ')' if found.chosen else 'none'}\n")
            if args.dry_run and not call.scope().get("ContactId"):
                call.remember({"ContactId": "CONTACT-ID"})  # nothing was searched for real
                w("dry run: ContactId is the placeholder CONTACT-ID\n")
            if sid == "CallJournal":
                result = await hd.write_journal(call)
            else:
                result = await hd.ticket_after_call(call)
            _print_result(result, out)
            if call.variables.get("TicketId"):
                w(f"TicketId: {call.variables['TicketId']}\n")
            error = result.error
        w(f"done in {(time.monotonic() - started) * 1000:.0f} ms\n")
        if error is not None:
            w(f"error: {error}\n")
            return 1
    return 0


def _print_matches(result, out, redact=lambda url: url) -> None:
    w = out.write
    w(f"{len(result.matches)} contact(s) found\n")
    for m in result.matches:
        chosen = "*" if m is result.chosen else " "
        w(f" {chosen} [{m.contact_type}] {m.display_name} (ContactId {m.id})"
          + (f"  popup: {redact(m.popup_url)}" if m.popup_url else "") + "\n")
        for key, value in m.fields.items():
            if value and key not in ("ContactId", "ContactsId"):
                w(f"      {key}: {value}\n")


def run(args) -> int:
    return asyncio.run(_run(args, sys.stdout, sys.stdin))
