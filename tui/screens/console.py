"""The console: live calls with contact cards, history with the outbox, request inspector, setup."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.lazy import Lazy
from textual.screen import Screen
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Input,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import Worker

from engine import console as facts
from themes import theme_style
from tui.widgets.calls import CallList, CallRow, ContactCardView
from tui.widgets.panes import HistoryPane, InspectorPane, SetupPane

PANES = {"calls": "Calls", "history": "History", "inspector": "Inspector", "setup": "Setup"}

HELP = {
    "calls": "Live calls, newest first. The card shows the contact of the selected call; its border is "
             "yellow while ringing, green when answered, red when missed (theme colours). With several "
             "matches press 1-9 to pick the one the journal uses. c copies the contact's link, / searches "
             "the helpdesk, a creates a contact for an unknown caller.",
    "history": "Past calls from the store, and the journal/ticket outbox: every entry is written exactly "
               "once; failed entries are retried with back-off. r retries the selected entry now.",
    "inspector": "Every request deskline sent to the helpdesk, redacted: URL, headers, body, answer and "
                 "which output paths matched. y copies the selected request as a curl command.",
    "setup": "The integration: template, field values (secrets masked), authentication and token health. "
             "For OAuth2 press o: the authorize URL is shown; the code arrives on the loopback callback, "
             "or paste the redirect URL. Associate extensions manually with EXT=USER_ID.",
}


class ConsoleScreen(Screen):
    """The main screen; all engine calls run in workers, facts arrive through :meth:`apply_fact`."""

    BINDINGS = [
        Binding("f2", "pane('calls')", "Calls", id="console.calls", show=False, tooltip="Live calls and contact cards"),
        Binding("f3", "pane('history')", "History", id="console.history", tooltip="Call history and outbox"),
        Binding("f4", "pane('inspector')", "Inspector", id="console.inspector", tooltip="Request inspector"),
        Binding("f5", "pane('setup')", "Setup", id="console.setup", show=False, tooltip="Integration setup"),
        Binding("i", "pane('inspector')", "Inspector", id="console.inspector_key", show=False,
                tooltip="Request inspector (same as F4, for terminals that eat function keys)"),
        Binding("right_square_bracket", "next_pane(1)", "Next pane", id="console.next_pane", show=False,
                tooltip="Calls, History, Inspector, Setup in turn (for terminals that eat F2-F5)"),
        Binding("left_square_bracket", "next_pane(-1)", "Previous pane", id="console.previous_pane", show=False,
                tooltip="The other way round (for terminals that eat F2-F5)"),
        Binding("slash", "search", "Search", id="call.search", tooltip="Search the helpdesk for a contact"),
        Binding("c", "copy_link", "Link", id="call.copy_link", tooltip="Copy the contact's popup link"),
        Binding("a", "create_contact", "New contact", id="call.create_contact", show=False,
                tooltip="Create a contact for the selected call's number"),
        Binding("r", "retry", "Retry", id="history.retry", show=False, tooltip="Retry the selected outbox entry"),
        Binding("y", "copy_curl", "Copy curl", id="inspector.copy_curl", show=False,
                tooltip="Copy the selected request as a curl command"),
        Binding("o", "authorize", "Authorize", id="setup.authorize", show=False,
                tooltip="Start the OAuth2 authorization"),
        *[Binding(str(n), f"pick({n - 1})", f"Pick {n}", id=f"call.pick_{n}", show=False,
                  tooltip=f"Use match {n} for this call") for n in range(1, 10)],
    ]

    def __init__(self, engine: Any, clock) -> None:
        super().__init__()
        self.engine = engine
        self.clock = clock
        self.calls: dict[str, CallRow] = {}
        self.search_card = None
        self.authorize_url = ""
        self.outbox_note = ""
        self.outbox_stuck = False
        self.helpdesk_ok: bool | None = None     # None until the first request
        self.helpdesk_note = ""
        self._seq = 0
        self._early: list = []
        # the hidden panes mount after the first refresh (Lazy); they keep what they are shown until then
        self.history_pane = HistoryPane(id="history-pane")
        self.inspector_pane = InspectorPane(id="inspector-pane")
        self.setup_pane = SetupPane(id="setup-pane")

    def compose(self) -> ComposeResult:
        yield Static("PBX: starting", id="status")
        with TabbedContent(initial="calls"):
            with TabPane(PANES["calls"], id="calls"):
                with Vertical(id="calls-body"):
                    yield CallList(clock=self.clock, id="call-list")
                    yield ContactCardView(id="card")
            with TabPane(PANES["history"], id="history"):
                yield Lazy(self.history_pane)
            with TabPane(PANES["inspector"], id="inspector"):
                yield Lazy(self.inspector_pane)
            with TabPane(PANES["setup"], id="setup"):
                yield Lazy(self.setup_pane)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ContactCardView).show(None)
        self.query_one(CallList).focus()
        self._status()
        self.on_resize()
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        early, self._early = self._early, []
        for fact in early:
            self.apply_fact(fact)

    def _theme_changed(self, theme) -> None:
        """Cells and the status line carry resolved colours: paint them again in the new theme."""
        self._status()
        self.query_one(CallList).repaint()
        self.inspector_pane.repaint()
        if self.active_pane == "history":
            self.refresh_history()

    def on_resize(self, event=None) -> None:
        self.inspector_pane.set_class(self.size.width < 100, "-narrow")

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        self.app.on_worker_state_changed(event)

    # -- facts from the engine -------------------------------------------------------------------
    def apply_fact(self, fact: Any) -> None:
        """Update the view for one engine fact (no I/O here; refreshes that need data use workers)."""
        if not self.is_mounted:
            self._early.append(fact)      # facts that came before the screen was ready
            return
        call_list = self.query_one(CallList)
        match fact:
            case facts.CallRang():
                row = self.calls.get(fact.call_id)
                if row is None:
                    self._seq += 1
                    row = CallRow(fact.call_id, fact.direction, fact.number, fact.extensions, self.clock(),
                                  fact.via, popup=fact.popup, seq=self._seq)
                    self.calls[fact.call_id] = row
                    if row.popup and not self.calls_visible:
                        self.notify(f"{fact.number} is calling {','.join(fact.extensions)}", title="ringing",
                                    timeout=4)
                else:
                    row.extensions = tuple(dict.fromkeys(row.extensions + fact.extensions))
                    row.popup = row.popup or fact.popup
                call_list.upsert(row)
                selected = self.calls.get(call_list.selected_id or "")
                if row.popup and (selected is None or selected is row or selected.state != "ringing"):
                    call_list.select(fact.call_id)     # the popup: the new ringing call's card
                    self._select(fact.call_id)
            case facts.ContactResolved():
                self._update(fact.call_id, card=fact.card)
            case facts.CallAnswered():
                self._update(fact.call_id, state="answered", answered_by=fact.extension, answered_at=self.clock())
            case facts.CallEnded():
                self._update(fact.call_id, state="missed" if fact.missed else "ended", ended_at=self.clock(),
                             talk_seconds=fact.duration)
                self.refresh_history()
            case facts.JournalQueued() | facts.JournalWritten() | facts.JournalFailed():
                state = {facts.JournalQueued: "queued", facts.JournalWritten: "written"}.get(type(fact))
                if state is None:
                    state = fact.state
                row = self.calls.get(fact.call_id)
                if row is not None:
                    row.outbox[fact.scenario] = state
                    self._update(fact.call_id)
                if isinstance(fact, facts.JournalFailed) and fact.state in ("dead", "attention"):
                    self.notify(f"{fact.scenario}: {fact.error}", title="outbox", severity="error", timeout=8)
                self.refresh_history()
            case facts.TraceRecorded():
                self.inspector_pane.add(fact.trace)
                if not fact.trace.skipped and not fact.trace.dry_run:
                    self.helpdesk_ok = bool(fact.trace.ok)
                    self.helpdesk_note = "" if fact.trace.ok else (
                        f"HTTP {fact.trace.status}" if fact.trace.status is not None else "unreachable")
                    self._status()
            case facts.ConnectionChanged() | facts.TokenHealthChanged():
                self._status()
                if isinstance(fact, facts.TokenHealthChanged):
                    self.refresh_setup()
            case facts.EngineProblem():
                self.notify(f"{fact.what}: {fact.message}", title="problem", severity="error", timeout=10)

    def _update(self, call_id: str, **changes) -> None:
        row = self.calls.get(call_id)
        if row is None:
            return
        for key, value in changes.items():
            setattr(row, key, value)
        self.query_one(CallList).upsert(row)
        if self.query_one(CallList).selected_id == call_id:
            self.query_one(ContactCardView).show(row)

    def _select(self, call_id: str) -> None:
        self.search_card = None
        self.query_one(ContactCardView).show(self.calls.get(call_id))

    @on(CallList.Selected)
    def _call_selected(self, event: CallList.Selected) -> None:
        self._select(event.call_id)

    @property
    def calls_visible(self) -> bool:
        """The operator is looking at the call list (so a ringing call needs no toast)."""
        return self.is_current and self.active_pane == "calls"

    def status_text(self) -> Text:
        """The status line: PBX connection, helpdesk (last request, token), outbox; problems in colour."""
        good, bad = theme_style(self.app, "call-answered"), theme_style(self.app, "call-missed")
        warn = theme_style(self.app, "call-ringing")
        text = Text("PBX: ")
        connection = getattr(self.engine, "connection", None)
        if connection is None:
            text.append("-")
        else:
            state = str(connection.state)
            style = good if state == "subscribed" else warn if state in ("connecting", "starting") else bad
            text.append(f"● {state}", style)
            if connection.retry_in:
                text.append(f", retrying in {connection.retry_in:.0f} s", bad)
        text.append("  helpdesk: ")
        if self.helpdesk_ok is None:
            text.append("○ no request yet")
        elif self.helpdesk_ok:
            text.append("● ok", good)
        else:
            text.append(f"● {self.helpdesk_note or 'failing'} (i)", bad)
        health = getattr(self.engine, "token_health", None)
        if health is not None:
            state = getattr(health, "state", "")
            text.append(f"  auth: {health.describe()}",
                        bad if state in ("expired", "missing", "error") else warn if state == "expiring" else "")
        if self.outbox_note:
            text.append(f"  outbox: {self.outbox_note}", bad if self.outbox_stuck else warn)
        return text

    def _status(self) -> None:
        self.query_one("#status", Static).update(self.status_text())

    # -- data for the panes (workers) ---------------------------------------------------------------
    @work(exclusive=True, group="history", exit_on_error=False)
    async def refresh_history(self) -> None:
        records = await self.engine.history(100)
        items = await self.engine.outbox_items()
        pane = self.history_pane
        pane.show_calls(records, self.clock().tzinfo)
        pane.show_items(items)
        waiting = sum(1 for i in items if i.state.value in ("pending", "in_flight", "failed"))
        stuck = sum(1 for i in items if i.state.value in ("dead", "attention"))
        self.outbox_note = ", ".join(p for p in (f"{waiting} waiting" if waiting else "",
                                                 f"{stuck} need you (F3)" if stuck else "") if p)
        self.outbox_stuck = bool(stuck)
        self._status()

    @work(exclusive=True, group="setup", exit_on_error=False)
    async def refresh_setup(self) -> None:
        self.setup_pane.show(self.engine.setup_info(), self.authorize_url)

    @on(TabbedContent.TabActivated)
    def _tab(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane.id
        if pane == "history":
            self.refresh_history()
        elif pane == "setup":
            self.refresh_setup()

    # -- actions --------------------------------------------------------------------------------------
    def action_pane(self, pane: str) -> None:
        self.query_one(TabbedContent).active = pane

    def action_next_pane(self, step: int) -> None:
        names = list(PANES)
        self.action_pane(names[(names.index(self.active_pane) + step) % len(names)])

    @property
    def active_pane(self) -> str:
        return self.query_one(TabbedContent).active

    def _selected_call(self) -> CallRow | None:
        call_id = self.query_one(CallList).selected_id
        return self.calls.get(call_id) if call_id else None

    def action_pick(self, index: int) -> None:
        row = self._selected_call()
        if row is None or row.card is None or index >= len(row.card.matches):
            self.notify("This call has no match with that number.", severity="warning")
            return
        card = self.engine.choose_contact(row.call_id, index)
        self._update(row.call_id, card=card)

    def action_copy_link(self) -> None:
        card = self.search_card or (row.card if (row := self._selected_call()) else None)
        url = card.popup_url if card is not None else ""
        if not url:
            self.notify("The selected call has no contact link to copy.", severity="warning")
            return
        self.app.copy_to_clipboard(url)
        self.notify(f"Copied {url}", title="link")

    def action_search(self) -> None:
        from tui.screens.dialogs import SearchDialog

        def done(text: str | None) -> None:
            if text:
                self.run_search(text)

        self.app.push_screen(SearchDialog(), done)

    @work(exclusive=True, group="helpdesk-search", exit_on_error=False)
    async def run_search(self, text: str) -> None:
        card = await self.engine.search(text)
        self.search_card = card
        self.action_pane("calls")
        view = self.query_one(ContactCardView)
        row = CallRow("search", "Search", text, (), self.clock(), state="search", card=card)
        view.show(row)
        view.border_title = f"search: {text}"
        view.border_subtitle = f"{len(card.matches)} found"

    def action_create_contact(self) -> None:
        from tui.screens.dialogs import CreateContactDialog

        row = self._selected_call()
        if row is None:
            self.notify("Select a call first (the contact gets its number).", severity="warning")
            return

        def done(names: tuple[str, str] | None) -> None:
            if names is not None:
                self.run_create_contact(row.call_id, *names)

        self.app.push_screen(CreateContactDialog(row.number), done)

    @work(exclusive=True, group="create-contact", exit_on_error=False)
    async def run_create_contact(self, call_id: str, first_name: str, last_name: str) -> None:
        card = await self.engine.create_contact(call_id, first_name=first_name, last_name=last_name)
        self._update(call_id, card=card)
        self.notify(f"Created {card.name}", title="contact")

    def action_retry(self) -> None:
        if self.active_pane != "history":
            self.action_pane("history")
            return
        item_id = self.history_pane.selected_item
        if item_id is None:
            self.notify("The outbox is empty.", severity="warning")
            return
        self.run_retry(item_id)

    @work(exclusive=True, group="outbox-retry", exit_on_error=False)
    async def run_retry(self, item_id: int) -> None:
        item = await self.engine.retry(item_id)
        self.notify(f"Entry {item.id} ({item.scenario}) queued again", title="outbox")
        self.refresh_history()

    def action_copy_curl(self) -> None:
        trace = self.inspector_pane.selected
        if trace is None:
            self.notify("No request to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(trace.as_curl())
        self.notify("Copied the request as curl (secrets masked)", title="inspector")

    def action_authorize(self) -> None:
        if not getattr(self.engine, "uses_oauth2", False):
            self.notify("This template does not use OAuth2.", severity="warning")
            return
        self.action_pane("setup")
        self.run_authorize()

    @work(exclusive=True, group="oauth2", exit_on_error=False)
    async def run_authorize(self) -> None:
        def show(url: str) -> None:
            self.authorize_url = url
            self.refresh_setup()
            self.app.copy_to_clipboard(url)
            self.notify("Authorize URL shown in Setup and copied; waiting for the redirect...", title="OAuth2")

        health = await self.engine.authorize_via_loopback(show)
        self.authorize_url = ""
        self.notify(f"Authorized: {health.describe()}", title="OAuth2")
        self.refresh_setup()

    @on(Button.Pressed, "#oauth-start")
    def _oauth_button(self) -> None:
        self.action_authorize()

    @on(Input.Submitted, "#oauth-paste")
    def _oauth_paste(self, event: Input.Submitted) -> None:
        self.run_paste(event.value)
        event.input.value = ""

    @work(exclusive=True, group="oauth2", exit_on_error=False)
    async def run_paste(self, text: str) -> None:
        if not self.authorize_url:
            self.authorize_url = self.engine.authorization_url()
            self.refresh_setup()
            self.notify("Open the URL shown in Setup, then paste the address you are sent to.", title="OAuth2")
            return
        health = await self.engine.complete_authorization(text)
        self.authorize_url = ""
        self.notify(f"Authorized: {health.describe()}", title="OAuth2")
        self.refresh_setup()

    @on(Input.Submitted, "#manual")
    def _manual(self, event: Input.Submitted) -> None:
        manual = {}
        for part in event.value.replace(",", " ").split():
            ext, sep, user = part.partition("=")
            if not sep or not ext or not user:
                self.notify(f"Write EXT=USER_ID, not {part!r}", severity="error")
                return
            manual[ext.strip()] = user.strip()
        self.run_associate(manual)

    @work(exclusive=True, group="user-association", exit_on_error=False)
    async def run_associate(self, manual: dict[str, str]) -> None:
        notes = await self.engine.associate_users(manual)
        self.notify("; ".join(notes) or "Extensions associated", title="user association")
        self.refresh_setup()

    def pane_help(self) -> str:
        return HELP.get(self.active_pane, "")

    @on(DataTable.RowHighlighted, "#history-calls")
    def _history_row(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
