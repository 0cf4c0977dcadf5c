"""The live call list and the contact card shown for the selected call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from rich.markup import escape
from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.widgets.data_table import CellDoesNotExist

from themes import theme_style

ARROWS = {"Inbound": "←", "Outbound": "→", "Internal": "↔"}
STATE_VARIABLE = {"ringing": "call-ringing", "answered": "call-answered", "missed": "call-missed"}
MAX_ROWS = 200
LIVE_STATES = ("ringing", "answered")
COLUMNS = ("time", "dir", "number", "who", "ext", "state", "dur")


def format_duration(seconds: float) -> str:
    """``m:ss`` under an hour, ``1h02m`` above (fits the 5-wide duration column)."""
    seconds = max(0, int(seconds))
    if seconds < 3600:
        return f"{seconds // 60}:{seconds % 60:02d}"
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours < 100 else "99h+"


@dataclass(slots=True)
class CallRow:
    """What the console knows about one call (built from engine facts)."""

    call_id: str
    direction: str
    number: str
    extensions: tuple[str, ...]
    rang_at: datetime
    via: str = ""
    state: str = "ringing"          # ringing | answered | ended | missed
    answered_by: str = ""
    popup: bool = True
    card: object = None             # engine.console.ContactCard
    outbox: dict[str, str] = field(default_factory=dict)   # scenario -> queued | written | failed ...
    seq: int = 0                    # arrival order (ties of rang_at)
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    talk_seconds: float | None = None   # the PBX's duration once the call ended

    def elapsed(self, now: datetime) -> float:
        """Seconds to show: ringing time while ringing, talk time once answered, the final figure after."""
        if self.state == "ringing":
            return (now - self.rang_at).total_seconds()
        if self.state == "answered":
            return (now - (self.answered_at or self.rang_at)).total_seconds()
        if self.talk_seconds is not None and (self.talk_seconds > 0 or self.answered_at is None):
            return self.talk_seconds
        end = self.ended_at or now
        return (end - (self.answered_at or self.rang_at)).total_seconds()

    @property
    def who(self) -> str:
        card = self.card
        if card is None:
            return "searching..." if self.popup else ""
        if getattr(card, "error", ""):
            return "search failed"
        return card.name if card.found else "unknown caller"


class CallList(DataTable):
    """Calls, newest first: time, direction, number, contact, extension, state, duration.

    Durations of live calls tick once a second from the injected clock (tests pin it).
    """

    DEFAULT_CSS = """
    CallList { height: 1fr; }
    """

    class Selected(Message):
        """The operator moved to another call."""

        def __init__(self, call_list: CallList, call_id: str) -> None:
            super().__init__()
            self.call_list = call_list
            self.call_id = call_id

        @property
        def control(self) -> CallList:
            return self.call_list

    def __init__(self, clock: Callable[[], datetime] | None = None, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.rows_by_id: dict[str, CallRow] = {}
        self.clock = clock or (lambda: datetime.now().astimezone())
        self.tooltip = "Live calls; ↑/↓ select, 1-9 pick a match, c copy the popup link"

    def on_mount(self) -> None:
        self.add_column("time", key="time", width=8)
        self.add_column("", key="dir", width=1)
        self.add_column("number", key="number", width=16)
        self.add_column("contact", key="who", width=17)
        self.add_column("ext", key="ext", width=9)
        self.add_column("state", key="state", width=8)
        self.add_column("dur", key="dur", width=5)
        self.set_interval(1.0, self.tick, name="call-durations")

    def tick(self) -> None:
        """Refresh the duration of every live call."""
        now = self.clock()
        for row in self.rows_by_id.values():
            if row.state in LIVE_STATES:
                self.update_cell(row.call_id, "dur", format_duration(row.elapsed(now)))

    def _state_text(self, row: CallRow) -> Text:
        return Text(row.state, style=theme_style(self.app, STATE_VARIABLE.get(row.state, "")))

    def _cells(self, row: CallRow) -> list:
        ext = row.answered_by or ",".join(row.extensions)
        return [row.rang_at.strftime("%H:%M:%S"), ARROWS.get(row.direction, "?"), row.number, row.who,
                ext, self._state_text(row), format_duration(row.elapsed(self.clock()))]

    def upsert(self, row: CallRow) -> None:
        """Add a call at the top or refresh its row."""
        cells = self._cells(row)
        if row.call_id in self.rows_by_id:
            for key, value in zip(COLUMNS, cells, strict=True):
                self.update_cell(row.call_id, key, value)
            self.rows_by_id[row.call_id] = row
            return
        self.rows_by_id[row.call_id] = row
        while len(self.rows_by_id) > MAX_ROWS:
            oldest = min(self.rows_by_id.values(), key=lambda r: r.rang_at)
            del self.rows_by_id[oldest.call_id]
        self._rebuild()

    def repaint(self) -> None:
        """Draw every row again (after a theme change: the state colours are resolved per theme)."""
        self._rebuild()

    def _rebuild(self) -> None:
        """Newest call first; the cursor stays on the call it was on."""
        selected = self.selected_id
        self.clear()
        ordered = sorted(self.rows_by_id.values(), key=lambda r: (r.rang_at, r.seq), reverse=True)
        for row in ordered:
            self.add_row(*self._cells(row), key=row.call_id)
        if selected is not None and selected in self.rows_by_id:
            self.move_cursor(row=self.get_row_index(selected))

    def select(self, call_id: str) -> None:
        if call_id in self.rows_by_id:
            self.move_cursor(row=self.get_row_index(call_id))

    @property
    def selected_id(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:   # the cursor is outside the rows while they change
            return None
        return str(key.value) if key.value is not None else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Selected(self, str(event.row_key.value)))


class ContactCardView(Static):
    """The popup contact card of one call; its border colour says ringing / answered / missed."""

    DEFAULT_CSS = """
    ContactCardView {
        height: auto;
        min-height: 8;
        border: round $primary;
        padding: 0 1;
    }
    ContactCardView.-ringing { border: round $call-ringing; }
    ContactCardView.-answered { border: round $call-answered; }
    ContactCardView.-missed { border: round $call-missed; }
    ContactCardView.-empty { color: $text-muted; }
    """

    def show(self, row: CallRow | None) -> None:
        for state in ("ringing", "answered", "missed", "empty"):
            self.remove_class(f"-{state}")
        if row is None:
            self.add_class("-empty")
            self.border_title = "contact card"
            self.update("No call selected.\nCalls appear here when the phone rings; press / to search contacts.")
            return
        self.add_class(f"-{row.state}" if row.state in STATE_VARIABLE else "-empty")
        self.border_title = f"{row.direction.lower()} {row.number}"
        self.border_subtitle = row.state
        self.update(self.render_card(row))

    @staticmethod
    def render_card(row: CallRow) -> str:
        card = row.card
        lines: list[str] = []
        if not row.popup:
            lines.append("No card: this extension is not associated with a helpdesk user.")
        elif card is None:
            lines.append(f"Searching the helpdesk for {escape(row.number)}...")
        elif card.error:
            lines.append(f"[b]Search failed[/b]: {escape(card.error)}")
            lines.append("Press i (or F4) for the request inspector.")
        elif not card.found:
            lines.append(f"[b]Unknown caller[/b] {escape(row.number)}")
            lines.append("Press a to create a contact, / to search by name.")
        else:
            lines.append(f"[b]{escape(card.name)}[/b]" + (" (created)" if card.created else ""))
            if card.company and card.company != card.name:
                lines.append(escape(card.company))
            if card.email:
                lines.append(escape(card.email))
            numbers = "  ".join(f"{label} {escape(number)}" for label, number in card.numbers)
            if numbers:
                lines.append(numbers)
            if card.variant:
                lines.append(f"matched {escape(card.variant_number)} ({card.variant})")
            if card.popup_url:
                lines.append(f"link: {escape(card.popup_url)}  (c copies)")
            if len(card.matches) > 1:
                picks = []
                for i, match in enumerate(card.matches[:9]):
                    mark = "▸" if i == card.chosen else " "
                    picks.append(f"{mark}{i + 1} {escape(match.display_name)}")
                lines.append(f"{len(card.matches)} matches, press 1-{min(9, len(card.matches))}: " + "  ".join(picks))
        if row.outbox:
            lines.append("journal: " + ", ".join(f"{k} {v}" for k, v in row.outbox.items()))
        return "\n".join(lines)
