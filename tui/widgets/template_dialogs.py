"""Small modal dialogs of the template screens: ask for one line of text, or confirm an action."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

_DIALOG_CSS = """
TemplatePromptDialog, TemplateConfirmDialog {
    align: center middle;
    background: $background 60%;
}
TemplatePromptDialog > Vertical, TemplateConfirmDialog > Vertical {
    width: 70;
    max-width: 100%;
    height: auto;
    padding: 1 2;
    border: round $primary;
    background: $surface;
}
TemplatePromptDialog .dialog-title, TemplateConfirmDialog .dialog-title {
    text-style: bold;
    color: $primary;
    margin-bottom: 1;
}
TemplatePromptDialog .dialog-hint {
    color: $text-muted;
    margin-top: 1;
}
TemplateConfirmDialog Horizontal {
    height: auto;
    margin-top: 1;
    align-horizontal: right;
}
TemplateConfirmDialog Button {
    margin-left: 2;
}
"""


class TemplatePromptDialog(ModalScreen[str | None]):
    """Ask for one line (a file path, a name); dismisses with the text, or ``None`` on Escape."""

    DEFAULT_CSS = _DIALOG_CSS
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="template-dialog.cancel", tooltip="Close without doing anything"),
    ]

    def __init__(self, title: str, *, placeholder: str = "", value: str = "", hint: str = "") -> None:
        super().__init__()
        self._title = title
        self._placeholder = placeholder
        self._value = value
        self._hint = hint

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._title, classes="dialog-title")
            yield Input(self._value, placeholder=self._placeholder, id="dialog-input")
            yield Static(self._hint or "Enter to confirm, Escape to cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        self.dismiss(text or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TemplateConfirmDialog(ModalScreen[bool]):
    """Yes/no question; the safe answer (No) has the focus, ``y`` confirms, Escape or ``n`` cancels."""

    DEFAULT_CSS = _DIALOG_CSS
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="template-dialog.yes", tooltip="Confirm"),
        Binding("n,escape", "answer(False)", "No", id="template-dialog.no", tooltip="Cancel"),
    ]

    def __init__(self, question: str, *, yes: str = "Yes") -> None:
        super().__init__()
        self._question = question
        self._yes = yes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._question, classes="dialog-title")
            with Horizontal():
                yield Button(f"{self._yes} (y)", variant="error", id="dialog-yes")
                yield Button("No (n)", variant="primary", id="dialog-no")

    def on_mount(self) -> None:
        self.query_one("#dialog-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "dialog-yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
