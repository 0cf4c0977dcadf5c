"""The Textual app, built by one factory used by ``main()`` and by the tests."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, Static

from engine import __version__
from themes import APP_VARIABLES, STYLESHEET, deskline_themes


@dataclass
class AppOptions:
    """What the factory needs to know; tests pin everything that varies."""

    theme: str = "deskline-dark"
    animation_level: str = "full"
    demo: bool = False


class DesklineApp(App[int]):
    """deskline's console."""

    TITLE = "deskline"
    SUB_TITLE = f"PBX to helpdesk console {__version__}"
    CSS_PATH = str(STYLESHEET)
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave deskline", priority=True),
    ]

    def __init__(self, options: AppOptions) -> None:
        super().__init__()
        self.options = options
        for theme in deskline_themes():
            self.register_theme(theme)
        self.theme = options.theme
        self.animation_level = options.animation_level  # type: ignore[assignment]

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(APP_VARIABLES)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            "[b]deskline[/b]\n\nNo integration is running yet.\n"
            "Run [b]deskline demo[/b] for a built-in helpdesk and PBX simulator,\n"
            "or [b]deskline template lint FILE[/b] to check a template.",
            id="welcome",
        )
        yield Footer()


def make_app(options: AppOptions | None = None) -> DesklineApp:
    """Build the app; ``main()`` and every test call this."""
    return DesklineApp(options or AppOptions())
