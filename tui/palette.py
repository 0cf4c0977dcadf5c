"""The command palette: namespaced commands for everything the console can do."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (name, help, screen action)
COMMANDS = (
    ("call: search the helpdesk for a contact", "Search by name, e-mail or number", "search"),
    ("call: copy the contact's popup link", "Copy the selected call's contact link", "copy_link"),
    ("call: create a contact for this number", "Create a contact for the selected call", "create_contact"),
    ("view: calls", "Live calls and contact cards (F2)", "pane('calls')"),
    ("view: history and outbox", "Call history, journal/ticket outbox (F3)", "pane('history')"),
    ("view: request inspector", "Every helpdesk request, redacted (F4)", "pane('inspector')"),
    ("view: integration setup", "Template, auth, token health, user association (F5)", "pane('setup')"),
    ("journal: retry the selected outbox entry", "Send a failed journal or ticket again", "retry"),
    ("inspector: copy request as curl", "Copy the selected request as a curl command", "copy_curl"),
    ("setup: start OAuth2 authorization", "Show the authorize URL and wait for the redirect", "authorize"),
)

# screens whose own keys the palette offers, under this namespace
SCREEN_NAMESPACES = {"TemplatesScreen": "template", "PlaygroundScreen": "playground"}


class DesklineCommands(Provider):
    """deskline's own commands; Theme/Keys/Quit from Textual stay in the palette."""

    def _available(self):
        from tui.screens.console import ConsoleScreen

        screen = self.screen
        if isinstance(screen, ConsoleScreen):
            for name, help_text, action in COMMANDS:
                yield name, help_text, partial(self.app.call_later, screen.run_action, action)
        elif type(screen).__name__ in SCREEN_NAMESPACES:
            yield from self._screen_keys(screen, SCREEN_NAMESPACES[type(screen).__name__])
        else:
            yield ("demo: start the built-in demo", "Demo helpdesk and PBX simulator on loopback",
                   partial(self.app.call_later, self.app.run_action, "start_demo"))
        yield ("template: browse, lint and edit templates", "The template store (t)",
               partial(self.app.call_later, self.app.run_action, "templates"))
        yield ("gjson: playground for paths and templates", "Try GJSON paths and Go templates (g)",
               partial(self.app.call_later, self.app.run_action, "playground"))
        yield "help: keys and panes", "What this screen does (F1)", partial(self.app.call_later, self.app.run_action, "help")

    def _screen_keys(self, screen, namespace: str):
        """Every key of the template browser or the playground, so none depends on a function key."""
        from textual.actions import parse
        from textual.binding import Binding

        for binding in screen.BINDINGS:
            if not isinstance(binding, Binding) or not binding.tooltip or binding.action == "back":
                continue
            _, name, parameters = parse(binding.action)
            if screen.check_action(name, parameters):
                key = self.app.get_key_display(binding)
                yield (f"{namespace}: {binding.description.lower()}", f"{binding.tooltip} ({key})",
                       partial(self.app.call_later, screen.run_action, binding.action))

    async def discover(self) -> Hits:
        for name, help_text, callback in self._available():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._available():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
