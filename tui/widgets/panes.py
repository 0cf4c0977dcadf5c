"""The console's other panes: call history with the outbox, the request inspector, the setup view.

They only display what they are given; the console screen fetches it (in workers) and hands it over.
"""

from __future__ import annotations

import json
from datetime import datetime

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Input, Label, Static

from themes import theme_style

MAX_TRACES = 500
OPEN_STATES = ("failed", "dead", "attention")


def _when(ts: float | None, tz) -> str:
    if not ts:
        return ""
    return datetime.fromtimestamp(ts, tz).strftime("%m-%d %H:%M")


class HistoryPane(Vertical):
    """Past calls and the journal/ticket outbox (r retries a failed entry)."""

    DEFAULT_CSS = """
    HistoryPane { height: 1fr; }
    HistoryPane #history-calls { height: 1fr; }
    HistoryPane #outbox { height: 1fr; }
    HistoryPane #outbox-detail { height: auto; max-height: 4; padding: 0 1; }
    HistoryPane Label { color: $text-muted; padding: 0 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._shown: dict[str, tuple] = {}     # what was shown before the pane mounted (it is Lazy)
        self.ready = False
        self.items: dict[str, object] = {}      # outbox entries by id, for the detail line

    def compose(self) -> ComposeResult:
        yield Label("Calls (history)", id="history-label")
        yield DataTable(id="history-calls", cursor_type="row")
        yield Label("Journal and ticket outbox: r retries the selected failed entry", id="outbox-label")
        yield DataTable(id="outbox", cursor_type="row")
        yield Static("", id="outbox-detail")

    def on_mount(self) -> None:
        calls = self.query_one("#history-calls", DataTable)
        for name, width in (("when", 11), ("dir", 8), ("number", 16), ("contact", 18), ("ext", 5), ("status", 10)):
            calls.add_column(name, key=name, width=width)
        outbox = self.query_one("#outbox", DataTable)
        for name, width in (("#", 4), ("scenario", 15), ("call", 16), ("state", 9), ("tries", 5), ("error", 40)):
            outbox.add_column(name, key=name, width=width)
        self.ready = True
        shown, self._shown = self._shown, {}
        if "calls" in shown:
            self.show_calls(*shown["calls"])
        if "items" in shown:
            self.show_items(*shown["items"])

    def show_calls(self, records, tz=None) -> None:
        if not self.ready:
            self._shown["calls"] = (records, tz)
            return
        table = self.query_one("#history-calls", DataTable)
        table.clear()
        for r in records:
            table.add_row(_when(r.started_at, tz), r.direction or "", r.external_number, r.contact_name or "",
                          r.extension or "", r.status or "", key=r.call_id)
        label = self.query_one("#history-label", Label)
        label.update(f"Calls (history): {len(records)}" if records else
                     "No calls yet: calls are recorded here when the phone rings.")

    def show_items(self, items) -> None:
        if not self.ready:
            self._shown["items"] = (items,)
            return
        table = self.query_one("#outbox", DataTable)
        table.clear()
        self.items = {str(item.id): item for item in items}
        self.query_one("#outbox-detail", Static).update("")
        self.query_one("#outbox-label", Label).update(outbox_summary(items))
        for item in items:
            state = str(item.state.value if hasattr(item.state, "value") else item.state)
            colour = theme_style(self.app, "call-missed" if state in OPEN_STATES else "")
            table.add_row(str(item.id), item.scenario, item.call_id, Text(state, style=colour), str(item.attempts),
                          item.last_error[:200], key=str(item.id))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The whole error of the highlighted outbox entry (the column is cut at 80 columns)."""
        if event.data_table.id != "outbox":
            return
        item = self.items.get(str(event.row_key.value))
        detail = ""
        if item is not None and item.last_error:
            detail = f"[b]#{item.id} {escape(item.scenario)}[/b] {escape(item.last_error)}"
        self.query_one("#outbox-detail", Static).update(detail)

    @property
    def selected_item(self) -> int | None:
        if not self.ready:
            return None
        table = self.query_one("#outbox", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key is not None else None


def outbox_summary(items) -> str:
    """The outbox label: empty state, or how many entries wait or failed and what r does."""
    if not items:
        return "Journal and ticket outbox: empty. Each call's journal entry is queued here and sent once."
    states = [str(getattr(item.state, "value", item.state)) for item in items]
    waiting = sum(1 for state in states if state in ("pending", "in_flight"))
    failed = sum(1 for state in states if state in OPEN_STATES)
    parts = [f"{len(items)} entries"]
    if waiting:
        parts.append(f"{waiting} waiting")
    if failed:
        parts.append(f"{failed} failed: r retries the selected one")
    return "Journal and ticket outbox: " + ", ".join(parts)


class InspectorPane(Horizontal):
    """Every request the integration made: scenario, status, time; details of the selected one."""

    DEFAULT_CSS = """
    InspectorPane { height: 1fr; }
    InspectorPane #traces { width: 1fr; min-width: 30; }
    InspectorPane #trace-scroll { width: 1fr; border-left: vkey $panel; }
    InspectorPane #trace-detail { padding: 0 1; }
    InspectorPane.-narrow { layout: vertical; }
    InspectorPane.-narrow #traces { height: 1fr; }
    InspectorPane.-narrow #trace-scroll { height: 1fr; border-left: none; border-top: hkey $panel; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.traces: list = []
        self.ready = False                  # True once mounted (the pane is Lazy)

    def compose(self) -> ComposeResult:
        yield DataTable(id="traces", cursor_type="row")
        with VerticalScroll(id="trace-scroll"):
            yield Static("No requests yet. Every helpdesk request shows here; y copies it as curl.",
                         id="trace-detail")

    def on_mount(self) -> None:
        table = self.query_one("#traces", DataTable)
        for name, width in (("scenario", 16), ("request", 12), ("status", 6), ("ms", 6)):
            table.add_column(name, key=name, width=width)
        self.ready = True
        for index in range(max(0, len(self.traces) - MAX_TRACES), len(self.traces)):
            table.add_row(*self._cells(self.traces[index]), key=str(index))
        if self.traces:
            self.show(max(0, len(self.traces) - MAX_TRACES))

    def add(self, trace) -> None:
        self.traces.append(trace)
        if not self.ready:        # the rows are added on mount (the pane is Lazy)
            return
        table = self.query_one("#traces", DataTable)
        index = len(self.traces) - 1
        table.add_row(*self._cells(trace), key=str(index))
        if len(self.traces) > MAX_TRACES:
            first = len(self.traces) - MAX_TRACES - 1
            if str(first) in table.rows:
                table.remove_row(str(first))
        if len(self.traces) == 1:
            self.show(0)

    def _cells(self, trace) -> list:
        status = str(trace.status) if trace.status is not None else ("dry" if trace.dry_run else "error")
        failed = not trace.ok and not trace.skipped and not trace.dry_run
        colour = theme_style(self.app, "call-missed" if failed else "")
        return [trace.scenario, trace.request_name, Text(status, style=colour), f"{trace.elapsed_ms:.0f}"]

    def repaint(self) -> None:
        """Colour the status cells again (after a theme change)."""
        if not self.ready:
            return
        table = self.query_one("#traces", DataTable)
        for row_key in list(table.rows):
            trace = self.traces[int(row_key.value)]
            table.update_cell(row_key, "status", self._cells(trace)[2])

    @property
    def selected(self):
        if not self.ready:
            return None
        table = self.query_one("#traces", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.traces[int(key)] if key is not None else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.show(int(event.row_key.value))

    def show(self, index: int) -> None:
        self.query_one("#trace-detail", Static).update(describe_trace(self.traces[index]))


def describe_trace(trace) -> str:
    """The detail view of one request (already redacted by the engine)."""
    lines = [f"[b]{escape(trace.scenario)} / {escape(trace.request_name)}[/b]",
             f"{trace.method} {escape(trace.url)}"]
    status = trace.status if trace.status is not None else "-"
    lines.append(f"status {status} {escape(trace.reason)}  {trace.elapsed_ms:.0f} ms"
                 + (f"  ({len(trace.attempts)} attempts)" if len(trace.attempts) > 1 else ""))
    if trace.error:
        lines.append(f"[b]error[/b]: {escape(trace.error)}")
    if trace.skipped:
        lines.append(f"skipped: {escape(trace.skipped)}")
    for note in trace.notes:
        lines.append(f"note: {escape(note)}")
    lines.append("")
    lines.append("[b]request headers[/b]")
    lines += [f"  {escape(k)}: {escape(v)}" for k, v in trace.request_headers]
    if trace.request_body:
        lines += ["[b]request body[/b]", escape(_pretty(trace.request_body))]
    lines.append("[b]response[/b]")
    lines += [f"  {escape(k)}: {escape(v)}" for k, v in trace.response_headers[:12]]
    if trace.response_body:
        lines.append(escape(_pretty(trace.response_body)[:4000]))
    if trace.mapping:
        lines.append("[b]mapping[/b]")
        for note in trace.mapping:
            mark = "✓" if note.matched else "·"
            lines.append(f"  {mark} {escape(note.name)} = {escape(getattr(note, 'path', ''))}"
                         + ("" if note.matched else "  (no value)"))
    return "\n".join(lines)


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


class SetupPane(VerticalScroll):
    """The integration: template, field values (secrets masked), authentication, user association."""

    DEFAULT_CSS = """
    SetupPane { height: 1fr; padding: 0 1; }
    SetupPane #setup-info { height: auto; }
    SetupPane Horizontal { height: auto; }
    SetupPane Button { margin: 0 1 0 0; }
    SetupPane Input { width: 1fr; }
    SetupPane #associations { height: auto; max-height: 12; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._shown: tuple | None = None     # what was shown before the pane mounted (it is Lazy)
        self.ready = False

    def compose(self) -> ComposeResult:
        yield Static("Loading the integration...", id="setup-info")
        with Horizontal(id="oauth-row"):
            yield Button("Authorize (o)", id="oauth-start", tooltip="Print the authorize URL and wait for the "
                         "redirect on the loopback callback")
            yield Input(placeholder="or paste the redirect URL here and press Enter", id="oauth-paste")
        yield Label("User association (extension -> helpdesk user):")
        yield DataTable(id="associations", cursor_type="row")
        with Horizontal():
            yield Input(placeholder="manual: EXT=USER_ID, e.g. 1001=a3; Enter re-associates", id="manual")

    def on_mount(self) -> None:
        table = self.query_one("#associations", DataTable)
        for name, width in (("ext", 6), ("user id", 10), ("name", 24)):
            table.add_column(name, key=name, width=width)
        self.ready = True
        if self._shown is not None:
            self.show(*self._shown)

    def show(self, info, authorize_url: str = "") -> None:
        if not self.ready:
            self._shown = (info, authorize_url)
            return
        lines = [f"[b]Template[/b] {escape(info.template)}   [b]auth[/b] {escape(info.auth)}"]
        if info.health is not None:
            lines.append(f"[b]Token health[/b] {escape(info.health.describe())}")
        if info.fields:
            lines.append("[b]Field values[/b]")
            lines += [f"  {escape(name)}: {escape(value)}" for name, value in info.fields]
        if info.authentication:
            lines.append("[b]Register deskline in the helpdesk with[/b]")
            lines += [f"  {escape(k)}: {escape(v)}" for k, v in info.authentication]
        if authorize_url:
            lines.append(f"[b]Open this URL in any browser[/b]:\n{escape(authorize_url)}")
        if info.notes:
            lines += [f"note: {escape(n)}" for n in info.notes]
        self.query_one("#setup-info", Static).update("\n".join(lines))
        self.query_one("#oauth-row").display = info.auth == "oauth2"
        table = self.query_one("#associations", DataTable)
        table.clear()
        for ext, user_id, name in info.associations:
            table.add_row(ext, user_id, name, key=ext)
        if not info.user_association:
            table.display = False
