"""Small modal dialogs of the console: manual search, create contact, help."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
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
    """F1: what the current pane does and every key of the screen underneath."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,f1,q", "dismiss(None)", "Close", id="help.close", tooltip="Close the help")]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        lines = ["[b]deskline help[/b]  (Esc closes; ctrl+p opens the command palette)", ""]
        pane_help = getattr(self.under, "pane_help", None)
        if pane_help is not None:
            lines += [escape(pane_help()), ""]
        lines.append("[b]Keys[/b]")
        seen = set()
        bindings = [*getattr(self.under, "BINDINGS", []), *self.app.BINDINGS]
        for b in bindings:
            if not hasattr(b, "key") or b.action in seen or b.action.startswith("pick("):
                continue
            seen.add(b.action)
            keys = self.app.get_key_display(b) if hasattr(self.app, "get_key_display") else b.key
            lines.append(f"  {escape(keys):10} {escape(b.description)}: {escape(b.tooltip or '')}")
        if any(getattr(b, "action", "").startswith("pick(") for b in bindings):
            lines.append(f"  {'1-9':10} Pick: use that match of the card for this call")
        with Vertical():
            yield Static("\n".join(lines), id="help-text")
