"""Hermetic host apps for the template screens and the playground (tests and snapshots).

``ScreenHost(screen)`` is a minimal App with deskline's themes pinned, animations off and cursor
blink off; it pushes the screen under test on mount, so the screen's ``dismiss`` works as in the app.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.app import App
from textual.screen import Screen
from textual.widgets import Input, TextArea

from engine.template.store import TemplateStore
from themes import APP_VARIABLES, deskline_themes

REPO = Path(__file__).resolve().parents[2]
MINIMAL = REPO / "tests" / "data" / "templates" / "minimal-basic.xml"
SHIPPED = REPO / "templates"

CONTACTS_JSON = """{
  "data": [
    {"id": 7, "Name": "Ann Lee", "phones": ["+44 20 7946 0018"]},
    {"id": 8, "Name": "Bob Stone", "phones": []}
  ],
  "meta": {"total": 2}
}"""


class ScreenHost(App[None]):
    """Hosts one screen the way DesklineApp will (same themes and theme variables)."""

    NOTIFICATION_TIMEOUT = 60  # toasts stay put while a snapshot is taken

    def __init__(self, screen: Screen, theme: str = "deskline-dark") -> None:
        super().__init__()
        self.screen_under_test = screen
        for t in deskline_themes():
            self.register_theme(t)
        self.theme = theme
        self.animation_level = "none"

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(APP_VARIABLES)

    def on_mount(self) -> None:
        self.push_screen(self.screen_under_test)


def no_blink(app: App) -> None:
    """Turn off cursor blink in every Input and TextArea of the current screen."""
    for widget in app.screen.query("Input, TextArea"):
        if isinstance(widget, (Input, TextArea)):
            widget.cursor_blink = False


def fill_store(root: Path, *names: str) -> TemplateStore:
    """A store holding the test's minimal template and the named shipped templates."""
    store = TemplateStore(root)
    store.import_path(MINIMAL)
    for name in names:
        store.import_path(SHIPPED / name)
    return store


def copy_minimal(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(MINIMAL, dest / "minimal.xml"))
