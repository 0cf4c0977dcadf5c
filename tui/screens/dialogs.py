"""Small modal dialogs of the console: manual search, create contact, help."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, Static

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 64; max-width: 100%; height: auto;
    border: round $primary; background: $surface; padding: 0 1;
}}
{name} Label {{ color: $text-muted; }}
"""


class SearchDialog(ModalScreen[str | None]):
    """Ask for a name, e-mail or number to search the helpdesk for."""

    DEFAULT_CSS = DIALOG_CSS.format(name="SearchDialog")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel", tooltip="Close without searching")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Search the helpdesk (name, e-mail or number), Enter to search, Esc to cancel")
            yield Input(placeholder="e.g. Globex or +1 555 0100", id="query")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


class CreateContactDialog(ModalScreen[tuple[str, str] | None]):
    """First and last name for a new contact with the call's number."""

    DEFAULT_CSS = DIALOG_CSS.format(name="CreateContactDialog")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel", tooltip="Close without creating")]

    def __init__(self, number: str) -> None:
        super().__init__()
        self.number = number

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"New contact for {escape(self.number)}: first name, last name; Enter creates it")
            yield Input(placeholder="first name", id="first")
            yield Input(placeholder="last name", id="last")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "first":
            self.query_one("#last", Input).focus()
            return
        first = self.query_one("#first", Input).value.strip()
        last = self.query_one("#last", Input).value.strip()
        self.dismiss((first, last))


class HelpScreen(ModalScreen[None]):
    """F1 (or ?): what the current pane does and every key of the screen underneath, scrollable."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen #help-keys { margin-top: 1; }
    """
    BINDINGS = [Binding("escape,f1,question_mark,q", "dismiss(None)", "Close", id="help.close",
                        tooltip="Close the help")]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.under = under
        self.key_rows: list[tuple[str, str]] = []

    def plain_text(self) -> str:
        """The help as plain text: the pane's paragraph and one line per key row."""
        pane_help = getattr(self.under, "pane_help", None)
        lines = [pane_help() if pane_help is not None else ""]
        lines += [f"{keys}  {what}" for keys, what in self.key_rows]
        return "\n".join(lines)

    def compose(self) -> ComposeResult:
        lines = ["[b]deskline help[/b]  (Esc closes, ↑/↓ scroll; ctrl+p opens the command palette)", ""]
        pane_help = getattr(self.under, "pane_help", None)
        if pane_help is not None and (text := pane_help()):
            lines.append(escape(text))
        with VerticalScroll(id="help-scroll"):
            yield Static("\n".join(lines), id="help-text")
            yield Static(self.keys_table(), id="help-keys")

    def keys_table(self) -> Table:
        """One row per action: every key bound to it, then what it does (wrapped beside the keys)."""
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True, style="bold")
        table.add_column(ratio=1)
        keys: dict[str, list[str]] = {}
        described: dict[str, str] = {}
        bindings = [*getattr(self.under, "BINDINGS", []), *self.app.BINDINGS]
        picks = False
        for binding in bindings:
            if not isinstance(binding, Binding):
                continue
            if binding.action.startswith("pick("):
                picks = True
                continue
            for key in binding.key.split(","):
                display = self.app.get_key_display(Binding(key.strip(), binding.action))
                if display not in keys.setdefault(binding.action, []):
                    keys[binding.action].append(display)
            described.setdefault(binding.action,
                                 f"{binding.description}: {binding.tooltip}" if binding.tooltip else binding.description)
        self.key_rows = [(" ".join(key_list), described[action]) for action, key_list in keys.items()]
        if picks:
            self.key_rows.append(("1-9", "Pick: use that match of the card for this call"))
        for row in self.key_rows:
            table.add_row(*row)
        return table

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()
