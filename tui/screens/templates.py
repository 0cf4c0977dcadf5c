"""Template browser, linter and editor: the custom templates of the store on one screen.

``TemplatesScreen(store)`` lists the stored templates (name, key, auth type, features, lint
counts, the 10-template limit), shows the summary and the lint findings of the highlighted one,
and edits its XML in a TextArea that lints as you type and saves through the store only when the
XML parses.  A broken buffer is never thrown away: the located XML error is shown and the text stays.

Every file and store operation runs in a thread worker; results come back as the messages below.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, OptionList, Static, TabbedContent, TabPane, TextArea
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from engine.errors import LocatedError, Location, TemplateError
from engine.template import Finding, Severity, load_template, parse_template
from engine.template.findings import error as error_finding
from engine.template.lint import lint_file, lint_template
from engine.template.store import MAX_TEMPLATES, TemplateStore
from engine.template.summary import summarize
from tui.widgets.template_dialogs import TemplateConfirmDialog, TemplatePromptDialog
from tui.widgets.template_syntax import syntax_language

SEVERITY_STYLE = {Severity.ERROR: "$error", Severity.WARNING: "$warning", Severity.INFO: "$text-muted"}
FEATURE_LEGEND = "features: U user association, C create contact, J call journal, T create ticket"
EMPTY_STORE = ("No custom templates yet.\n\nPress [b]i[/b] to import one: a template XML file, or a folder holding "
               "the XML and its logo.\nThe store holds at most {limit} templates.")


# ---- what the workers report ------------------------------------------------------------------------

@dataclass(frozen=True)
class TemplateRow:
    """One stored template as the list shows it (computed off the UI thread)."""

    name: str
    title: str
    key: str
    auth_type: str
    features: str  # "UCJT", '-' for a feature that is off
    findings: tuple[Finding, ...]
    summary: str

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)


@dataclass
class TemplatesListed(Message):
    """The store was read: every template with its summary and findings."""

    rows: list[TemplateRow]


@dataclass
class TemplateStoreChanged(Message):
    """An import, duplicate, delete or export succeeded."""

    action: str
    name: str
    note: str = ""


@dataclass
class TemplateStoreFailed(Message):
    """A store operation was refused or failed; ``error`` says what and where."""

    action: str
    error: str


@dataclass
class TemplateOpened(Message):
    """A stored template's XML was read for the editor."""

    name: str
    text: str
    encoding: str
    jump: tuple[int, int] | None = None
    note: str = ""


@dataclass
class TemplateBufferLinted(Message):
    """The editor buffer of ``generation`` was parsed and linted."""

    generation: int
    findings: list[Finding]
    parse_error: TemplateError | None = None


@dataclass
class TemplateSaved(Message):
    """The editor buffer was written to the store."""

    name: str
    text: str


@dataclass
class TemplateSaveRefused(Message):
    """The buffer was not saved (the XML does not parse, or the store refused); the buffer is kept."""

    name: str
    error: LocatedError


# ---- pure helpers (no Textual) ------------------------------------------------------------------------

def feature_flags(template) -> str:
    g = template.general
    return "".join(letter if on_ else "-" for letter, on_ in (
        ("U", g.user_association), ("C", g.create_new_contact), ("J", g.call_journal), ("T", g.create_new_ticket)))


def describe_stored(path: Path, name: str) -> TemplateRow:
    """Load, summarise and lint one stored template file (blocking: call from a thread)."""
    try:
        template = load_template(path)
    except TemplateError as exc:
        finding = error_finding(exc.message, exc.location, getattr(exc, "code", "xml"))
        return TemplateRow(name, "(unreadable)", "", "", "----", (finding,), f"This template does not parse:\n\n{exc}")
    g = template.general
    summary = summarize(template).split("\n", 1)[1].lstrip("\n")  # drop "Template <path>"
    return TemplateRow(name, g.name, g.key, g.auth_type or "?", feature_flags(template),
                       tuple(lint_file(path)), summary)


def lint_counts(findings, *, ok: str = "ok") -> Content:
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    warnings = sum(1 for f in findings if f.severity is Severity.WARNING)
    infos = sum(1 for f in findings if f.severity is Severity.INFO)
    parts: list = []
    if errors:
        parts += [(f"{errors}E", "$error"), " "]
    if warnings:
        parts += [(f"{warnings}W", "$warning"), " "]
    if infos:
        parts += [(f"{infos}I", "$text-muted"), " "]
    if not parts:
        return Content.assemble((ok, "$success"))
    return Content.assemble(*parts[:-1])


def finding_prompt(finding: Finding) -> Content:
    loc = finding.location
    where = f"{loc.line}:{loc.col}" if loc.line else "-"
    field_ = f"  [{loc.field}]" if loc.field else ""
    return Content.assemble((f"{finding.severity.value:<7}", SEVERITY_STYLE[finding.severity]), " ",
                            (f"{where:>8}", "$text-muted"), "  ", finding.message, (field_, "$text-muted"))


# ---- the screen ---------------------------------------------------------------------------------------

class TemplatesScreen(Screen[None]):
    """Browse, lint, edit, import, export, duplicate and delete stored templates."""

    DEFAULT_CSS = """
    TemplatesScreen {
        layout: vertical;
    }
    TemplatesScreen #templates-title {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text;
    }
    TemplatesScreen #templates-list {
        height: 8;
        border: round $primary 50%;
        border-title-color: $text-muted;
        border-title-align: left;
        padding: 0 1 0 2;
    }
    TemplatesScreen #templates-list:focus {
        border: round $primary;
    }
    TemplatesScreen #templates-empty {
        display: none;
        height: 8;
        padding: 1 2;
        border: round $primary 50%;
        color: $text-muted;
    }
    TemplatesScreen.-empty #templates-list {
        display: none;
    }
    TemplatesScreen.-empty #templates-empty {
        display: block;
    }
    TemplatesScreen.-editing #templates-list, TemplatesScreen.-editing #templates-empty {
        display: none;
    }
    TemplatesScreen #templates-detail {
        height: 1fr;
    }
    TemplatesScreen #templates-summary {
        padding: 0 1;
    }
    TemplatesScreen #findings-source, TemplatesScreen #editor-status {
        height: auto;
        max-height: 5;
        padding: 0 1;
        color: $text-muted;
    }
    TemplatesScreen #editor-status.-broken {
        color: $error;
    }
    TemplatesScreen #templates-findings {
        height: 1fr;
        border: none;
    }
    TemplatesScreen #templates-editor {
        height: 1fr;
    }
    TemplatesScreen TabPane {
        padding: 0;
    }
    """

    BINDINGS = [
        Binding("i", "import_template", "Import", id="templates.import",
                tooltip="Import a template XML file (or a folder with the XML and its logo) into the store"),
        Binding("e", "edit_template", "Edit", id="templates.edit",
                tooltip="Open the highlighted template in the built-in XML editor"),
        Binding("f2", "save_template", "Save", id="templates.save",
                tooltip="Save the editor buffer to the store (only when the XML parses)"),
        Binding("f", "show_tab('findings')", "Findings", id="templates.findings", show=False,
                tooltip="Show the lint findings; Enter on one jumps to its line in the editor"),
        Binding("f3", "show_tab('findings')", "Findings", id="templates.findings-from-editor", show=False,
                tooltip="Show the lint findings (works while typing in the editor)"),
        Binding("s", "show_tab('summary')", "Summary", id="templates.summary", show=False,
                tooltip="Show the summary of the highlighted template"),
        Binding("c", "duplicate_template", "Duplicate", id="templates.duplicate",
                tooltip="Copy the highlighted template under a new name"),
        Binding("x", "export_template", "Export", id="templates.export",
                tooltip="Write the highlighted template (and its logo) into a folder; secrets are left out"),
        Binding("d", "delete_template", "Delete", id="templates.delete",
                tooltip="Delete the highlighted template from the store (asks first)"),
        Binding("f4", "external_editor", "$EDITOR", id="templates.external-editor", show=False,
                tooltip="Edit the editor buffer in $VISUAL/$EDITOR; the result comes back into the buffer"),
        Binding("r", "reload", "Reload", id="templates.reload", show=False,
                tooltip="Read the store again"),
        Binding("escape", "back", "Back", id="templates.back",
                tooltip="Leave the editor (the buffer is kept) or close this screen"),
    ]

    def __init__(self, store: TemplateStore | None = None, *, lint_delay: float = 0.4, syntax: bool = True) -> None:
        """*store* defaults to the user's store; *lint_delay* is the pause after typing before the buffer is
        linted; *syntax* False keeps the editor plain even when tree-sitter is installed (snapshots)."""
        super().__init__()
        self.syntax = syntax
        self.store = store if store is not None else TemplateStore()
        self.lint_delay = lint_delay
        self.rows: list[TemplateRow] = []
        self.highlighted: str | None = None
        # editor state
        self.editing: str | None = None
        self.saved_text = ""
        self.encoding = "utf-8"
        self.generation = 0
        self.buffer_findings: list[Finding] = []
        self.buffer_error: TemplateError | None = None
        self.linted_generation = -1
        self._lint_timer: Timer | None = None
        self._shown_findings: list[Finding] = []
        self._select_after_listing: str | None = None

    # -- layout -------------------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="templates-title")
        yield OptionList(id="templates-list")
        yield Static(EMPTY_STORE.format(limit=MAX_TEMPLATES), id="templates-empty")
        with TabbedContent(id="templates-detail"):
            with TabPane("Summary", id="summary"):
                with VerticalScroll(id="summary-scroll"):
                    yield Static("Reading the store ...", id="templates-summary")
            with TabPane("Findings", id="findings"):
                yield Static(id="findings-source")
                yield OptionList(id="templates-findings")
            with TabPane("Editor", id="editor"):
                yield Static("No template open. Highlight one in the list and press [b]e[/b].", id="editor-status")
                yield TextArea(language=syntax_language("xml", self.syntax), show_line_numbers=True,
                               id="templates-editor",
                               tab_behavior="focus", read_only=True)
        yield Footer()

    def on_mount(self) -> None:
        listing = self.query_one("#templates-list", OptionList)
        listing.tooltip = FEATURE_LEGEND
        listing.border_title = f"{'name':<18} {'key':<16} {'auth':<7} UCJT {'lint':<9} title"
        self._show_title()
        self.reload()

    # -- store listing ------------------------------------------------------------------------------------
    def reload(self, select: str | None = None) -> None:
        """Read the store again (in a thread); highlight *select* afterwards if given."""
        self._select_after_listing = select or self.highlighted
        self._list_store()

    @work(thread=True, exclusive=True, group="templates-list", exit_on_error=False)
    def _list_store(self) -> None:
        rows = [describe_stored(stored.file, stored.name) for stored in self.store.list()]
        self.post_message(TemplatesListed(rows))

    @on(TemplatesListed)
    def _listed(self, message: TemplatesListed) -> None:
        self.rows = message.rows
        listing = self.query_one("#templates-list", OptionList)
        listing.clear_options()
        listing.add_options(Option(self._row_prompt(row), id=row.name) for row in self.rows)
        self.set_class(not self.rows, "-empty")
        self._show_title()
        names = [row.name for row in self.rows]
        target = self._select_after_listing
        if self.rows:
            index = names.index(target) if target in names else 0
            listing.highlighted = index
            self.highlighted = names[index]
            if self.focused is None and not self.has_class("-editing"):
                listing.focus()
        else:
            self.highlighted = None
        self._show_detail()

    def _row_prompt(self, row: TemplateRow) -> Content:
        counts = lint_counts(row.findings)
        width = self.query_one("#templates-list", OptionList).scrollable_content_region.width or 76
        room = max(0, width - 59)
        title = row.title if len(row.title) <= room else row.title[:max(0, room - 1)] + "…"
        return Content.assemble(
            (f"{row.name:<18.18}", "bold"), " ", f"{row.key:<16.16} ", (f"{row.auth_type:<7.7}", "$secondary"), " ",
            f"{row.features} ", counts, " " * max(1, 10 - len(counts.plain)), (title, "$text-muted"))

    def _show_title(self) -> None:
        count = len(self.rows)
        full = count >= MAX_TEMPLATES
        limit = Content.assemble((f"{count}/{MAX_TEMPLATES} stored", "$error" if full else "$text-muted"))
        note = "  store full: delete one (d) before importing" if full else ""
        legend = "" if full else "   UCJT: User association, Contact, Journal, Ticket"
        self.query_one("#templates-title", Static).update(
            Content.assemble(("Templates ", "bold"), limit, (note, "$error"), (legend, "$text-muted")))

    @on(OptionList.OptionHighlighted, "#templates-list")
    def _row_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.highlighted = event.option.id
        self._show_detail()

    @on(OptionList.OptionSelected, "#templates-list")
    def _row_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_show_tab("findings" if self._current_row() and self._current_row().findings else "summary")

    def _current_row(self) -> TemplateRow | None:
        for row in self.rows:
            if row.name == self.highlighted:
                return row
        return None

    def _show_detail(self) -> None:
        row = self._current_row()
        summary = self.query_one("#templates-summary", Static)
        if row is None:
            summary.update(EMPTY_STORE.format(limit=MAX_TEMPLATES) if not self.rows else "")
        else:
            summary.update(Content(row.summary))
        self._show_findings()

    # -- findings -----------------------------------------------------------------------------------------
    def _findings_follow_buffer(self) -> bool:
        return self.editing is not None and (self.editing == self.highlighted or self.has_class("-editing"))

    def _show_findings(self) -> None:
        source = self.query_one("#findings-source", Static)
        listing = self.query_one("#templates-findings", OptionList)
        if self._findings_follow_buffer():
            findings = list(self.buffer_findings)
            origin = f"editor buffer of {self.editing}" + (" (unsaved)" if self.dirty else "")
        else:
            row = self._current_row()
            findings = list(row.findings) if row else []
            origin = f"stored file of {row.name}" if row else ""
        self._shown_findings = findings
        listing.clear_options()
        listing.add_options(Option(finding_prompt(f)) for f in findings)
        if not origin:
            source.update("No template highlighted. Press [b]i[/b] to import one.")
        elif findings:
            source.update(Content.assemble(f"{origin}: ", lint_counts(findings),
                                           ("  Enter jumps to the line in the editor", "$text-muted")))
        else:
            source.update(Content.assemble(f"{origin}: ", ("no findings", "$success")))

    @on(OptionList.OptionSelected, "#templates-findings")
    def _finding_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if not 0 <= event.option_index < len(self._shown_findings):
            return
        finding = self._shown_findings[event.option_index]
        line, col = max(finding.location.line, 1), max(finding.location.col, 1)
        if self._findings_follow_buffer():
            self._enter_editor()
            self._jump(line, col)
        elif self.highlighted:
            self._open_in_editor(self.highlighted, jump=(line, col))

    # -- editor -------------------------------------------------------------------------------------------
    @property
    def editor(self) -> TextArea:
        return self.query_one("#templates-editor", TextArea)

    @property
    def dirty(self) -> bool:
        return self.editing is not None and self.editor.text != self.saved_text

    def action_edit_template(self) -> None:
        if self.highlighted is None:
            self.notify("Nothing to edit: press i to import a template first", severity="warning")
            return
        self._open_in_editor(self.highlighted)

    def _open_in_editor(self, name: str, jump: tuple[int, int] | None = None) -> None:
        if self.editing == name:
            self._enter_editor()
            if jump:
                self._jump(*jump)
            return
        if self.dirty:
            def answered(discard: bool | None) -> None:
                if discard:
                    self._read_for_editor(name, jump)
            self.app.push_screen(TemplateConfirmDialog(
                f"The editor holds unsaved changes to {self.editing}. Discard them and open {name}?",
                yes="Discard"), answered)
            return
        self._read_for_editor(name, jump)

    @work(thread=True, exclusive=True, group="templates-open", exit_on_error=False)
    def _read_for_editor(self, name: str, jump: tuple[int, int] | None) -> None:
        try:
            path = self.store.path(name)
            data = path.read_bytes()
        except (LocatedError, OSError) as exc:
            self.post_message(TemplateStoreFailed("open", str(exc)))
            return
        note = ""
        try:
            doc = parse_template(data, str(path)).document
            text, encoding = doc.text, doc.encoding or "utf-8"
        except TemplateError:
            try:
                text, encoding = data.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                text, encoding = data.decode("utf-8", errors="replace"), "utf-8"
                note = "the file is not UTF-8: unreadable bytes are shown as U+FFFD"
        self.post_message(TemplateOpened(name, text, encoding, jump, note))

    @on(TemplateOpened)
    def _opened(self, message: TemplateOpened) -> None:
        self.editing = message.name
        self.encoding = message.encoding
        self.saved_text = message.text
        self.buffer_findings, self.buffer_error = [], None
        editor = self.editor
        editor.read_only = False
        editor.load_text(message.text)
        self._buffer_changed()
        self._enter_editor()
        if message.jump:
            self._jump(*message.jump)
        if message.note:
            self.notify(message.note, severity="warning", timeout=8)

    def _enter_editor(self) -> None:
        self.add_class("-editing")
        self.query_one(TabbedContent).active = "editor"
        self.editor.focus()

    def _leave_editor(self) -> None:
        self.remove_class("-editing")
        self.query_one(TabbedContent).active = "findings" if self.buffer_findings else "summary"
        listing = self.query_one("#templates-list", OptionList)
        if self.rows:
            listing.focus()
        self._show_findings()

    def _jump(self, line: int, col: int) -> None:
        editor = self.editor
        last = editor.document.line_count - 1
        row = min(max(line - 1, 0), last)
        column = min(max(col - 1, 0), len(editor.document.get_line(row)))
        editor.cursor_location = (row, column)
        editor.scroll_cursor_visible(center=True)

    @on(TextArea.Changed, "#templates-editor")
    def _editor_changed(self, event: TextArea.Changed) -> None:
        if self.editing is None:
            return
        self._buffer_changed()

    def _buffer_changed(self) -> None:
        self.generation += 1
        self._show_editor_status()
        if self._lint_timer is not None:
            self._lint_timer.stop()
        self._lint_timer = self.set_timer(self.lint_delay, self._lint_now)

    def _lint_now(self) -> None:
        self._lint_timer = None
        if self.editing is not None:
            self._lint_buffer(self.editor.text, self.generation, self.encoding, self.editing)

    @work(thread=True, exclusive=True, group="templates-lint", exit_on_error=False)
    def _lint_buffer(self, text: str, generation: int, encoding: str, name: str) -> None:
        try:
            template = parse_template(_encode(text, encoding, name), name)
        except TemplateError as exc:
            finding = error_finding(exc.message, exc.location, getattr(exc, "code", "xml"))
            self.post_message(TemplateBufferLinted(generation, [finding], exc))
            return
        self.post_message(TemplateBufferLinted(generation, lint_template(template)))

    @on(TemplateBufferLinted)
    def _buffer_linted(self, message: TemplateBufferLinted) -> None:
        if message.generation != self.generation:
            return  # the buffer changed since: a newer lint is on its way
        self.linted_generation = message.generation
        self.buffer_findings = message.findings
        self.buffer_error = message.parse_error
        self._show_editor_status()
        self._show_findings()

    def _show_editor_status(self) -> None:
        status = self.query_one("#editor-status", Static)
        if self.editing is None:
            status.update("No template open. Highlight one in the list and press [b]e[/b].")
            return
        state = ("modified", "$warning") if self.dirty else ("saved", "$success")
        parts: list = [(self.editing, "bold"), "  ", state]
        if self.linted_generation == self.generation:
            parts += ["  ", lint_counts(self.buffer_findings, ok="lint clean")]
        else:
            parts += [("  linting ...", "$text-muted")]
        parts += [("   F2 save  F3 findings  F4 $EDITOR  Esc back", "$text-muted")]
        text = Content.assemble(*parts)
        error = self.buffer_error
        if error is not None and self.linted_generation == self.generation:
            loc = error.location
            text = Content.assemble(text, "\n", (f"XML error at line {loc.line}:{loc.col}: {error.message}", "$error"))
            if error.excerpt:
                text = Content.assemble(text, "\n", (error.excerpt, "$text-muted"))
        status.set_class(error is not None, "-broken")
        status.update(text)

    def action_save_template(self) -> None:
        if self.editing is None:
            self.notify("Nothing to save: open a template with e first", severity="warning")
            return
        self._save(self.editing, self.editor.text, self.encoding)

    @work(thread=True, exclusive=True, group="templates-save", exit_on_error=False)
    def _save(self, name: str, text: str, encoding: str) -> None:
        try:
            data = _encode(text, encoding, name)
            template = parse_template(data, name)
            if template.document.elements[0].tag != "Information":
                raise TemplateError("not a template: the root element must be <Information>", template.where(0))
            self.store.save(name, template)
        except LocatedError as exc:
            self.post_message(TemplateSaveRefused(name, exc))
            return
        except OSError as exc:
            self.post_message(TemplateSaveRefused(name, LocatedError(f"cannot write: {exc.strerror or exc}",
                                                                     Location(name))))
            return
        self.post_message(TemplateSaved(name, text))

    @on(TemplateSaved)
    def _saved(self, message: TemplateSaved) -> None:
        if message.name == self.editing:
            self.saved_text = message.text
            self._show_editor_status()
        self.notify(f"Saved {message.name}", title="Template saved")
        self.reload(select=self.highlighted)

    @on(TemplateSaveRefused)
    def _save_refused(self, message: TemplateSaveRefused) -> None:
        self.notify(f"Not saved; your text is kept in the editor.\n{message.error}", title="Template not saved",
                    severity="error", timeout=10)
        if isinstance(message.error, TemplateError) and message.name == self.editing:
            self.buffer_error = message.error
            self._show_editor_status()

    def action_external_editor(self) -> None:
        if self.editing is None:
            self.notify("Open a template with e first; F4 then hands its buffer to $EDITOR", severity="warning")
            return
        command = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not command:
            self.notify("Set $EDITOR (or $VISUAL) to use an external editor", severity="warning")
            return
        fd, tmp = tempfile.mkstemp(prefix=f"deskline-{self.editing}-", suffix=".xml")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(self.editor.text)
            try:
                with self.app.suspend():
                    result = subprocess.run([*shlex.split(command), tmp], check=False)
            except Exception as exc:  # SuspendNotSupported (no terminal), editor not found
                self.notify(f"Cannot run the external editor: {exc}", severity="error")
                return
            if result.returncode != 0:
                self.notify(f"{command} exited with status {result.returncode}; the buffer is unchanged",
                            severity="warning")
                return
            with open(tmp, encoding="utf-8", newline="") as fh:
                text = fh.read()
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        editor = self.editor
        if text != editor.text:
            editor.replace(text, (0, 0), editor.document.end)  # keeps undo history
        self._enter_editor()

    # -- store actions ------------------------------------------------------------------------------------
    def action_import_template(self) -> None:
        if len(self.rows) >= MAX_TEMPLATES:
            self.notify(f"The store holds {MAX_TEMPLATES} templates, the limit. Delete one first (d).",
                        severity="error")
            return

        def chosen(path: str | None) -> None:
            if path:
                self._import(os.path.expanduser(path))

        self.app.push_screen(TemplatePromptDialog(
            "Import a template", placeholder="/path/to/template.xml or a folder with the XML and its logo",
            hint="The template is checked (XML, lint, logo) and stored under its Key. Escape cancels."), chosen)

    @work(thread=True, exclusive=True, group="templates-store", exit_on_error=False)
    def _import(self, path: str) -> None:
        try:
            result = self.store.import_path(path)
        except (LocatedError, OSError) as exc:
            self.post_message(TemplateStoreFailed("import", str(exc)))
            return
        errors = sum(1 for f in result.findings if f.severity is Severity.ERROR)
        warnings = sum(1 for f in result.findings if f.severity is Severity.WARNING)
        note = f" ({errors} lint errors, {warnings} warnings: press f)" if errors or warnings else ""
        self.post_message(TemplateStoreChanged("import", result.stored.name, note))

    def action_duplicate_template(self) -> None:
        name = self.highlighted
        if name is None:
            self.notify("Nothing to duplicate: press i to import a template first", severity="warning")
            return

        def chosen(new_name: str | None) -> None:
            if new_name:
                self._duplicate(name, new_name)

        self.app.push_screen(TemplatePromptDialog(
            f"Duplicate {name} as", value=f"{name}-copy",
            hint="Letters, digits, '_', '.', '-'. The copy gets this Key and \"(copy)\" in its Name."), chosen)

    @work(thread=True, exclusive=True, group="templates-store", exit_on_error=False)
    def _duplicate(self, name: str, new_name: str) -> None:
        try:
            stored = self.store.duplicate(name, new_name)
        except (LocatedError, OSError) as exc:
            self.post_message(TemplateStoreFailed("duplicate", str(exc)))
            return
        self.post_message(TemplateStoreChanged("duplicate", stored.name, f" (copy of {name})"))

    def action_export_template(self) -> None:
        name = self.highlighted
        if name is None:
            self.notify("Nothing to export: press i to import a template first", severity="warning")
            return

        def chosen(dest: str | None) -> None:
            if dest:
                self._export(name, os.path.expanduser(dest))

        self.app.push_screen(TemplatePromptDialog(
            f"Export {name} into folder", value=os.getcwd(),
            hint="Writes NAME.xml and its logo; password values are left out. Existing files are not replaced."),
            chosen)

    @work(thread=True, exclusive=True, group="templates-store", exit_on_error=False)
    def _export(self, name: str, dest: str) -> None:
        try:
            written = self.store.export(name, dest)
        except (LocatedError, OSError) as exc:
            self.post_message(TemplateStoreFailed("export", str(exc)))
            return
        self.post_message(TemplateStoreChanged("export", name, f" to {', '.join(str(p) for p in written)}"))

    def action_delete_template(self) -> None:
        name = self.highlighted
        if name is None:
            self.notify("Nothing to delete", severity="warning")
            return
        question = f"Delete {name} from the store? Its XML and logo are removed."
        if self.editing == name and self.dirty:
            question += " Your unsaved edits to it are lost too."

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(name)

        self.app.push_screen(TemplateConfirmDialog(question, yes="Delete"), answered)

    @work(thread=True, exclusive=True, group="templates-store", exit_on_error=False)
    def _delete(self, name: str) -> None:
        try:
            self.store.delete(name)
        except (LocatedError, OSError) as exc:
            self.post_message(TemplateStoreFailed("delete", str(exc)))
            return
        self.post_message(TemplateStoreChanged("delete", name))

    @on(TemplateStoreChanged)
    def _store_changed(self, message: TemplateStoreChanged) -> None:
        done = {"import": "Imported", "duplicate": "Created", "export": "Exported", "delete": "Deleted"}
        self.notify(f"{done.get(message.action, message.action)} {message.name}{message.note}")
        if message.action == "delete" and self.editing == message.name:
            self._close_editor()
        if message.action != "export":
            self.reload(select=None if message.action == "delete" else message.name)

    @on(TemplateStoreFailed)
    def _store_failed(self, message: TemplateStoreFailed) -> None:
        self.notify(message.error, title=f"{message.action.capitalize()} failed", severity="error", timeout=10)

    def _close_editor(self) -> None:
        self.editing = None
        self.saved_text = ""
        self.buffer_findings, self.buffer_error = [], None
        self.editor.load_text("")
        self.editor.read_only = True
        self._show_editor_status()
        self._leave_editor()

    # -- navigation ---------------------------------------------------------------------------------------
    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        if tab == "findings":
            self._show_findings()
            self.query_one("#templates-findings", OptionList).focus()

    def action_reload(self) -> None:
        self.reload()

    def pane_help(self) -> str:
        """The F1 paragraph for this screen."""
        return ("The custom templates in the store (at most 10, like the PBX). The list shows each template's "
                "auth type and lint counts; the right side shows the summary, the findings (Enter on one jumps "
                "to its line) or the XML editor, which lints as you type and saves (F2) only when the XML "
                "parses; a broken buffer is kept, never thrown away. Esc leaves the editor, then the screen.")

    def action_back(self) -> None:
        if self.has_class("-editing"):
            self._leave_editor()
            return
        if len(self.app.screen_stack) < 2 or self.app.screen is not self:
            return
        if self.dirty:
            def answered(discard: bool | None) -> None:
                if discard:
                    self.dismiss()
            self.app.push_screen(TemplateConfirmDialog(
                f"The editor holds unsaved changes to {self.editing}. Discard them and close?", yes="Discard"),
                answered)
            return
        self.dismiss()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save_template":
            return self.editing is not None
        if action in ("duplicate_template", "export_template", "delete_template", "edit_template"):
            return True if self.highlighted is not None else None
        return True

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "editor":
            self.set_class(self.editing is not None, "-editing")
        elif self.has_class("-editing"):
            self.remove_class("-editing")
        if event.pane.id == "findings":
            self._show_findings()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.notify(f"{event.worker.name} failed: {event.worker.error}", severity="error", timeout=10)


def _encode(text: str, encoding: str, name: str) -> bytes:
    try:
        return text.encode(encoding)
    except (UnicodeEncodeError, LookupError) as exc:
        start = getattr(exc, "start", 0)
        line = text.count("\n", 0, start) + 1
        col = start - (text.rfind("\n", 0, start) + 1) + 1
        reason = getattr(exc, "reason", str(exc))
        raise TemplateError(f"the text cannot be written as {encoding} (declared by the XML): {reason}",
                            Location(name, line, col)) from None
