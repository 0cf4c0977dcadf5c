"""The Textual app, built by one factory used by ``main()`` and by the tests.

The app talks to the engine only through its async methods (run in workers) and the facts it
publishes: :class:`EngineFact` messages posted by the engine's subscriber callback (the one narrow
port from engine to UI). Widgets never do I/O; worker failures end up in one handler
(:meth:`DesklineApp.on_worker_state_changed`) that shows them as an error toast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual.worker import Worker, WorkerState

from engine import __version__
from themes import APP_VARIABLES, APP_VARIABLES_LIGHT, STYLESHEET, deskline_themes
from tui.palette import DesklineCommands

Clock = Callable[[], datetime]


def local_now() -> datetime:
    return datetime.now().astimezone()


@dataclass
class AppOptions:
    """What the factory needs to know; tests pin everything that varies."""

    theme: str = "deskline-dark"
    animation_level: str = "full"
    demo: bool = False
    demo_speed: float = 1.0
    problem: str = ""                   # why the configured integration could not start
    keymap: dict[str, str] = field(default_factory=dict)
    notification_timeout: float | None = None


class EngineFact(Message):
    """A fact the engine published (``CallRang``, ``ContactResolved``, ``JournalWritten`` ...)."""

    def __init__(self, fact: Any) -> None:
        super().__init__()
        self.fact = fact


class WelcomeScreen(Screen):
    """Nothing configured: say how to start, offer the demo."""

    BINDINGS = [
        Binding("d", "app.start_demo", "Start demo", id="welcome.demo",
                tooltip="Start the built-in demo helpdesk and PBX simulator"),
    ]

    def __init__(self, problem: str = "") -> None:
        super().__init__()
        self.problem = problem

    def compose(self) -> ComposeResult:
        yield Header()
        text = ("[b]deskline[/b]\n\nNo integration is running yet.\n"
                "Press [b]d[/b] (or run [b]deskline demo[/b]) for a built-in helpdesk and PBX simulator,\n"
                "or set [b]\\[helpdesk] template[/b] and [b]\\[pbx] url[/b] in the config file "
                "([b]deskline template lint FILE[/b] checks a template).")
        if self.problem:
            text += f"\n\n[b]The configured integration did not start:[/b]\n{_escape(self.problem)}"
        yield Static(text, id="welcome")
        yield Footer()


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


class DesklineApp(App[int]):
    """deskline's console."""

    TITLE = "deskline"
    SUB_TITLE = f"PBX to helpdesk console {__version__}"
    CSS_PATH = str(STYLESHEET)
    COMMANDS = App.COMMANDS | {DesklineCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Leave deskline (q outside text fields, ctrl+q anywhere)",
                priority=True, show=False),
        Binding("q", "quit", "Quit", id="app.quit_q", tooltip="Leave deskline (q outside text fields, ctrl+q anywhere)"),
        Binding("f1,question_mark", "help", "Help", id="app.help",
                tooltip="Keys and what each pane does (? where F1 is taken by the terminal)"),
        Binding("t", "templates", "Templates", id="app.templates", show=False,
                tooltip="Browse, lint and edit the stored templates"),
        Binding("g", "playground", "Playground", id="app.playground", show=False,
                tooltip="Try GJSON paths and Go templates on real data"),
    ]

    def __init__(self, options: AppOptions, engine: Any = None, clock: Clock | None = None) -> None:
        super().__init__()
        self.options = options
        self.engine = engine
        self.clock: Clock = clock or local_now
        self._unsubscribe: Callable[[], None] | None = None
        for theme in deskline_themes():
            self.register_theme(theme)
        self.theme = options.theme
        self.animation_level = options.animation_level  # type: ignore[assignment]
        if options.notification_timeout is not None:
            self.NOTIFICATION_TIMEOUT = options.notification_timeout
        if options.keymap:
            self.set_keymap(options.keymap)

    def _fatal_error(self) -> None:
        """Textual's crash report shows every frame's locals (tokens, field values); ours shows none, redacted."""
        self.bell()
        self._exit_renderables.append(self.crash_report())
        self._close_messages_no_wait()

    def crash_report(self):
        """The current exception's traceback without locals and with every known secret masked."""
        import io

        import rich
        from rich.console import Console
        from rich.text import Text
        from rich.traceback import Traceback

        from engine.http.redaction import redact_text

        out = io.StringIO()
        # plain text: highlighting would split a secret into styled pieces the redaction cannot see
        Console(file=out, width=self.console.width or 100, color_system=None, highlight=False).print(
            Traceback(show_locals=False, width=None, suppress=[rich]))
        return Text(redact_text(out.getvalue()))

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """deskline's colours for themes that do not set them (readable ANSI ones on light themes)."""
        return dict(APP_VARIABLES if self.current_theme.dark else APP_VARIABLES_LIGHT)

    def on_mount(self) -> None:
        if self.engine is not None:
            self._open_console()
        elif self.options.demo:
            self.action_start_demo()
        else:
            self.push_screen(WelcomeScreen(self.options.problem))

    def _open_console(self) -> None:
        from tui.screens.console import ConsoleScreen

        self._unsubscribe = self.engine.subscribe(lambda fact: self.post_message(EngineFact(fact)))
        self.push_screen(ConsoleScreen(self.engine, self.clock))
        self.start_engine()

    @work(exclusive=True, group="engine", exit_on_error=False)
    async def start_engine(self) -> None:
        if hasattr(self.engine, "start_demo") and getattr(self.engine, "demo_pbx", None) is not None:
            await self.engine.start_demo()
        else:
            await self.engine.start()

    def action_start_demo(self) -> None:
        if self.engine is None:
            self.notify("Starting the demo helpdesk and PBX simulator...", title="demo")
            self.make_demo_engine()

    @work(exclusive=True, group="engine", exit_on_error=False)
    async def make_demo_engine(self) -> None:
        from engine.console import Engine

        engine = await Engine.demo(speed=self.options.demo_speed, traffic=True)
        self.engine = engine
        if isinstance(self.screen, WelcomeScreen):
            self.pop_screen()
        self._open_console()

    def on_engine_fact(self, message: EngineFact) -> None:
        """Hand every fact to the console screen (wherever the focus is)."""
        from tui.screens.console import ConsoleScreen

        for screen in self.screen_stack:
            if isinstance(screen, ConsoleScreen):
                screen.apply_fact(message.fact)

    @on(Worker.StateChanged)
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker errors are shown (screens forward theirs: the message does not bubble)."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        message = str(error) if error is not None else "failed"
        self.notify(_escape(message), title=event.worker.group or "error", severity="error", timeout=10)

    def action_help(self) -> None:
        from tui.screens.dialogs import HelpScreen

        self.push_screen(HelpScreen(self.screen))

    def action_templates(self) -> None:
        from tui.screens.templates import TemplatesScreen

        if not isinstance(self.screen, TemplatesScreen):     # t in the browser's list: already here
            self.push_screen(TemplatesScreen())

    def action_playground(self) -> None:
        from tui.screens.playground import PlaygroundScreen

        if not isinstance(self.screen, PlaygroundScreen):
            self.push_screen(PlaygroundScreen())

    async def action_quit(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self.engine is not None:
            try:
                await self.engine.stop()
            except Exception:  # leaving must always work
                pass
        self.exit(0)


def make_app(options: AppOptions | None = None, engine: Any = None, clock: Clock | None = None) -> DesklineApp:
    """Build the app; ``main()`` and every test call this (tests pass a fake engine and a fixed clock)."""
    return DesklineApp(options or AppOptions(), engine=engine, clock=clock)
