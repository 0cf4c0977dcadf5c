"""GJSON and template playground: try a path or a Go template on real data and see the result live.

Two modes (tabs):

* **GJSON**: a JSON document (pasted, or loaded from a captured response file), a path, and the
  result as the PBX sees it (string, raw, exists, type).  When the path matches nothing the
  screen says where it stops matching and what would have matched (:mod:`tui.widgets.playground_explain`),
  and lists the path's syntax problems.
* **Template**: a Go text/template in the PBX dialect, the variables as JSON, the escaping context
  (text, json, url, header) and the rendered text, or the located error with a caret.

Evaluation runs in thread workers (a big response never stalls typing); results come back as
messages.  ``PlaygroundScreen(initial_json=..., initial_path=..., ...)`` pre-fills the inputs.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Label, Select, Static, TabbedContent, TabPane, TextArea
from textual.worker import Worker, WorkerState

from engine.errors import LocatedError
from engine.mapping import FieldDiagnostic, map_records, split_alternatives
from engine.paths import gjson
from tui.widgets.playground_explain import PathExplanation, explain_path, json_problem
from tui.widgets.template_syntax import syntax_language

CONTEXTS = ("text", "json", "url", "header")
MAX_LOAD_BYTES = 32 * 1024 * 1024
EMPTY_JSON_HINT = "Paste a response here, or type a file name in Load and press Enter (F4)."


# ---- what the workers report ------------------------------------------------------------------------

@dataclass
class GjsonEvaluated(Message):
    """A path was evaluated on the JSON input."""

    path: str
    exists: bool
    type: str
    string: str
    raw: str
    explanation: PathExplanation
    problems: list[gjson.PathProblem]
    json_note: str  # "" when the input is valid JSON
    mapping: FieldDiagnostic | None = None  # set when the path reads as a template Output spec
    records: list[str] = field(default_factory=list)  # the Output's value per record
    seq: int = 0  # which request this answers; older answers are dropped


@dataclass
class TemplateRendered(Message):
    """The template was rendered (``output``) or failed (``error``, located)."""

    output: str | None
    error: str = ""
    variables: list[str] = field(default_factory=list)  # names the template reads
    missing: list[str] = field(default_factory=list)  # ... that the variables JSON lacks
    seq: int = 0


@dataclass
class CapturedResponseLoaded(Message):
    """A file was read for the JSON input (GJSON mode) or the variables (template mode)."""

    path: str
    text: str
    target: str  # "gjson" or "template"


@dataclass
class CapturedResponseFailed(Message):
    path: str
    error: str


# ---- the work (no Textual) ----------------------------------------------------------------------------

class _DocumentCache:
    """The parsed JSON input, reused while only the path changes."""

    def __init__(self) -> None:
        self.text: str | None = None
        self.document: gjson.Document | None = None
        self.note = ""
        self._lock = threading.Lock()

    def get(self, text: str) -> tuple[gjson.Document, str]:
        with self._lock:
            if self.text != text or self.document is None:
                document = gjson.parse(text)
                self.note = "" if document.is_valid_json else json_problem(text)
                self.text, self.document = text, document
            return self.document, self.note


def evaluate_path(cache: _DocumentCache, text: str, path: str) -> GjsonEvaluated:
    document, note = cache.get(text)
    result = document.get(path) if path else gjson.Result()
    explanation = explain_path(document, path) if (not result.exists or not result.string) else PathExplanation()
    message = GjsonEvaluated(path, result.exists, result.type, result.string, result.raw, explanation,
                             gjson.path_problems(path), note)
    if is_output_spec(path):
        mapped = map_records(text, {"Output": path})
        message.mapping = mapped.fields.get("Output")
        message.records = [record.get("Output", "") for record in mapped.records]
        # the whole text as one GJSON path means little here: explain the first empty GJSON alternative
        message.explanation = PathExplanation()
        if message.mapping is not None and not any(message.records):
            for alt in message.mapping.alternatives:
                if alt.language == "gjson" and alt.empty and not alt.error:
                    message.explanation = explain_path(document, alt.evaluated)
                    break
    return message


def is_output_spec(path: str) -> bool:
    """True when *path* only makes sense as a template Output spec (alternatives, JSONPath, variables)."""
    return len(split_alternatives(path)) > 1 or path.lstrip().startswith("$") or "{{" in path


def render_template(text: str, variables_text: str, context: str) -> TemplateRendered:
    from engine.expr import compile_template, referenced_variables

    try:
        compiled = compile_template(text, "template")
        names = list(dict.fromkeys(ref.name for ref in referenced_variables(text)))
    except LocatedError as exc:
        return TemplateRendered(None, str(exc))
    data: object = {}
    if variables_text.strip():
        try:
            data = json.loads(variables_text)
        except json.JSONDecodeError as exc:
            return TemplateRendered(None, f"variables: line {exc.lineno}:{exc.colno}: {exc.msg}", names)
        except (ValueError, RecursionError) as exc:
            return TemplateRendered(None, f"variables: {exc}", names)
    if not isinstance(data, dict):
        return TemplateRendered(None, "variables: must be a JSON object, e.g. {\"Phone\": \"+4930123\"}", names)
    missing = [n for n in names if n not in data]
    try:
        output = compiled.render(data, context=context)
    except LocatedError as exc:
        return TemplateRendered(None, str(exc), names, missing)
    except RecursionError:
        return TemplateRendered(None, "the template nests too deeply", names, missing)
    return TemplateRendered(output, "", names, missing)


def _visible(text: str) -> str:
    """Show a result's whitespace at the ends so an operator can see it."""
    return text if text.strip() == text else repr(text)


# ---- the screen ---------------------------------------------------------------------------------------

class PlaygroundScreen(Screen[None]):
    """Try GJSON paths and PBX templates on captured data, live.

    Keys are function keys so they work while typing (TextArea keeps F6/F7 for itself).
    """

    DEFAULT_CSS = """
    PlaygroundScreen {
        layout: vertical;
    }
    PlaygroundScreen .playground-row {
        height: 1;
        margin: 0 1;
    }
    PlaygroundScreen .playground-row Label {
        width: 9;
        color: $text-muted;
    }
    PlaygroundScreen .playground-row Input {
        width: 1fr;
    }
    PlaygroundScreen #playground-modes {
        height: 1fr;
    }
    PlaygroundScreen TabPane {
        padding: 0;
    }
    PlaygroundScreen .playground-panes {
        height: 1fr;
    }
    PlaygroundScreen .playground-panes TextArea {
        width: 1fr;
        height: 1fr;
        border: round $primary 40%;
    }
    PlaygroundScreen .playground-panes TextArea:focus {
        border: round $primary;
    }
    PlaygroundScreen .playground-inputs {
        width: 1fr;
    }
    PlaygroundScreen .playground-result {
        width: 1fr;
        height: 1fr;
        border: round $secondary 40%;
        padding: 0 1;
    }
    PlaygroundScreen #template-context {
        width: 20;
    }
    """

    BINDINGS = [
        Binding("f2", "mode('gjson')", "GJSON", id="playground.gjson",
                tooltip="Try a GJSON path on a JSON response"),
        Binding("f3", "mode('template')", "Template", id="playground.template",
                tooltip="Render a PBX template with variables"),
        Binding("f4", "focus_load", "Load file", id="playground.load",
                tooltip="Type the path of a captured response (or variables JSON) and press Enter"),
        Binding("f9", "copy_result", "Copy", id="playground.copy",
                tooltip="Copy the current result to the clipboard"),
        Binding("escape", "back", "Back", id="playground.back", tooltip="Close the playground"),
    ]

    def __init__(self, initial_json: str = "", *, initial_path: str = "", initial_template: str = "",
                 initial_variables: str = "{}", context: str = "text", mode: str = "gjson",
                 debounce: float = 0.15, syntax: bool = True) -> None:
        super().__init__()
        self.syntax = syntax
        self.initial_json = initial_json
        self.initial_path = initial_path
        self.initial_template = initial_template
        self.initial_variables = initial_variables
        self.initial_context = context if context in CONTEXTS else "text"
        self.initial_mode = mode if mode in ("gjson", "template") else "gjson"
        self.debounce = debounce
        self.last_gjson: GjsonEvaluated | None = None
        self.last_render: TemplateRendered | None = None
        self._cache = _DocumentCache()
        self._debouncers: dict[str, Timer] = {}
        self._seq = 0
        self._shown = {"gjson": -1, "template": -1}

    def compose(self) -> ComposeResult:
        with Horizontal(classes="playground-row"):
            yield Label("Load")
            yield Input(placeholder="file with a captured response (or variables JSON); Enter loads it",
                        id="playground-file", compact=True)
        with TabbedContent(id="playground-modes", initial=self.initial_mode):
            with TabPane("GJSON (F2)", id="gjson"):
                with Horizontal(classes="playground-row"):
                    yield Label("Path")
                    yield Input(self.initial_path, placeholder="e.g. data.0.phone or items.#(name==\"Ann\").id",
                                id="gjson-path", compact=True)
                with Horizontal(classes="playground-panes"):
                    json_area = TextArea(self.initial_json, language=syntax_language("json", self.syntax),
                                         id="gjson-json",
                                         placeholder=EMPTY_JSON_HINT)
                    json_area.border_title = "JSON"
                    yield json_area
                    with VerticalScroll(classes="playground-result", id="gjson-result-box") as box:
                        box.border_title = "Result"
                        yield Static(id="gjson-result")
            with TabPane("Template (F3)", id="template"):
                with Horizontal(classes="playground-row"):
                    yield Label("Context")
                    yield Select([(c, c) for c in CONTEXTS], value=self.initial_context, allow_blank=False,
                                 id="template-context", compact=True,
                                 tooltip="Where the text goes: values are escaped for it")
                with Horizontal(classes="playground-panes"):
                    with Vertical(classes="playground-inputs"):
                        text_area = TextArea(self.initial_template, id="template-text",
                                             placeholder="e.g. {{.Phone}} or {{if .Name}}{{Capitalize .Name}}{{end}}")
                        text_area.border_title = "Template"
                        yield text_area
                        vars_area = TextArea(self.initial_variables, id="template-vars",
                                             language=syntax_language("json", self.syntax),
                                             placeholder='{"Phone": "+493012345"}')
                        vars_area.border_title = "Variables (JSON)"
                        yield vars_area
                    with VerticalScroll(classes="playground-result", id="template-result-box") as box:
                        box.border_title = "Rendered"
                        yield Static(id="template-result")
        yield Footer()

    def on_mount(self) -> None:
        self._evaluate_gjson_now()
        self._render_now()
        self.query_one("#gjson-path" if self.initial_mode == "gjson" else "#template-text").focus()

    # -- live updates ---------------------------------------------------------------------------------------
    def _later(self, key: str, callback) -> None:
        timer = self._debouncers.pop(key, None)
        if timer is not None:
            timer.stop()
        self._debouncers[key] = self.set_timer(self.debounce, callback)

    @on(Input.Changed, "#gjson-path")
    @on(TextArea.Changed, "#gjson-json")
    def _gjson_input_changed(self, event) -> None:
        self._later("gjson", self._evaluate_gjson_now)

    @on(TextArea.Changed, "#template-text")
    @on(TextArea.Changed, "#template-vars")
    @on(Select.Changed, "#template-context")
    def _template_input_changed(self, event) -> None:
        self._later("template", self._render_now)

    def _evaluate_gjson_now(self) -> None:
        self._debouncers.pop("gjson", None)
        self._seq += 1
        self._evaluate_gjson(self.query_one("#gjson-json", TextArea).text,
                             self.query_one("#gjson-path", Input).value, self._seq)

    def _render_now(self) -> None:
        self._debouncers.pop("template", None)
        self._seq += 1
        context = self.query_one("#template-context", Select).value
        self._render_worker(self.query_one("#template-text", TextArea).text,
                     self.query_one("#template-vars", TextArea).text,
                     context if isinstance(context, str) else "text", self._seq)

    @work(thread=True, exclusive=True, group="playground-gjson", exit_on_error=False)
    def _evaluate_gjson(self, text: str, path: str, seq: int) -> None:
        message = evaluate_path(self._cache, text, path)
        message.seq = seq
        self.post_message(message)

    @work(thread=True, exclusive=True, group="playground-template", exit_on_error=False)
    def _render_worker(self, text: str, variables: str, context: str, seq: int) -> None:
        message = render_template(text, variables, context)
        message.seq = seq
        self.post_message(message)

    # -- showing results ------------------------------------------------------------------------------------
    @on(GjsonEvaluated)
    def _show_gjson(self, message: GjsonEvaluated) -> None:
        if message.seq < self._shown["gjson"]:
            return
        self._shown["gjson"] = message.seq
        self.last_gjson = message
        self.query_one("#gjson-result", Static).update(self.gjson_content(message))

    def gjson_content(self, m: GjsonEvaluated) -> Content:
        parts: list = []
        text = self.query_one("#gjson-json", TextArea).text
        if not text.strip():
            return Content.assemble((EMPTY_JSON_HINT, "$text-muted"))
        if m.mapping is not None:
            parts += self._mapping_parts(m)
            parts += ["\n\n", ("Read as one GJSON path", "bold"), "\n"]
        if m.exists:
            parts += [("exists ", "$text-muted"), ("true", "$success"), ("   type ", "$text-muted"), (m.type, "bold"),
                      "\n", ("string ", "$text-muted"), _visible(m.string) if m.string else ("(empty)", "$text-muted")]
            if m.raw != m.string:
                parts += ["\n", ("raw    ", "$text-muted"), m.raw]
        elif m.path:
            parts += [("exists ", "$text-muted"), ("false", "$error"), ("   nothing matched", "$text-muted")]
        for problem in m.problems:
            parts += ["\n", (f"path col {problem.col}: {problem.message}", "$warning")]
            parts += ["\n", ("  " + m.path + "\n  " + " " * (problem.col - 1) + "^", "$text-muted")]
        explanation = m.explanation
        if explanation.steps and explanation.stopped is not None:
            parts += ["\n\n", ("Why nothing matched", "bold")]
            for step in explanation.steps:
                mark = ("✓ ", "$success") if step.exists else ("✗ ", "$error")
                parts += ["\n", mark, step.prefix]
                if step.exists:
                    parts += [("  " + step.type + "  " + step.preview, "$text-muted")]
            parts += ["\n", (f"stops at `{explanation.stopped.component}` (col {explanation.stopped.col})", "$error")]
        if explanation.reason:
            parts += ["\n", explanation.reason]
        for hint in explanation.hints:
            parts += ["\n", ("• " + hint, "$accent")]
        if m.json_note and not (explanation.reason and explanation.reason == m.json_note):
            parts += ["\n\n", (m.json_note, "$warning")]
        return Content.assemble(*parts) if parts else Content.assemble(("Type a path above.", "$text-muted"))

    @staticmethod
    def _mapping_parts(m: GjsonEvaluated) -> list:
        """How the path reads as a template Output spec: alternatives in order, first non-empty wins."""
        diag = m.mapping
        assert diag is not None
        parts: list = [("As a template Output path", "bold"),
                       (f"  {len(m.records)} record(s)", "$text-muted")]
        for i, value in enumerate(m.records[:20]):
            won = diag.matched[i] if i < len(diag.matched) else None
            which = f"  (alternative {won + 1})" if won is not None else "  (every alternative empty)"
            parts += ["\n", (f"{i + 1:>3}. ", "$text-muted"), value or ("(empty)", "$warning"),
                      (which, "$text-muted")]
        if len(m.records) > 20:
            parts += ["\n", (f"     ... {len(m.records) - 20} more", "$text-muted")]
        for n, alt in enumerate(diag.alternatives, 1):
            if alt.error:
                got: tuple[str, str] = (f"error: {alt.error}", "$error")
            elif alt.empty:
                got = ("nothing", "$warning")
            else:
                got = (f"{sum(1 for v in alt.values if v)} value(s)", "$success")
            parts += ["\n", (f"alt {n} ", "$text-muted"), f"{alt.evaluated} ({alt.language}): ", got]
            for problem in alt.problems:
                parts += ["\n", (f"      {problem}", "$warning")]
        return parts

    @on(TemplateRendered)
    def _show_render(self, message: TemplateRendered) -> None:
        if message.seq < self._shown["template"]:
            return
        self._shown["template"] = message.seq
        self.last_render = message
        self.query_one("#template-result", Static).update(self.render_content(message))

    def render_content(self, m: TemplateRendered) -> Content:
        parts: list = []
        if m.error:
            parts += [("Error\n", "bold $error"), (m.error, "$error")]
        elif m.output is not None:
            parts += [(f"{len(m.output)} characters\n", "$text-muted"),
                      m.output if m.output else ("(empty)", "$text-muted")]
        if m.variables:
            parts += ["\n\n", ("reads ", "$text-muted"), ", ".join(f".{n}" for n in m.variables)]
        if m.missing:
            parts += ["\n", ("not in the variables (render as empty): ", "$warning"),
                      ", ".join(f".{n}" for n in m.missing)]
        return Content.assemble(*parts)

    # -- loading a captured response ------------------------------------------------------------------------
    @on(Input.Submitted, "#playground-file")
    def _load_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = event.value.strip()
        if not path:
            self.notify("Type the path of a file first", severity="warning")
            return
        target = self.query_one(TabbedContent).active or "gjson"
        self._load(os.path.expanduser(path), target)

    @work(thread=True, exclusive=True, group="playground-load", exit_on_error=False)
    def _load(self, path: str, target: str) -> None:
        try:
            size = os.path.getsize(path)
            if size > MAX_LOAD_BYTES:
                raise ValueError(f"the file is {size} bytes; the playground loads at most {MAX_LOAD_BYTES}")
            with open(path, "rb") as fh:
                data = fh.read()
            text = data.decode("utf-8-sig")
        except OSError as exc:
            self.post_message(CapturedResponseFailed(path, f"cannot read {path}: {exc.strerror or exc}"))
            return
        except UnicodeDecodeError as exc:
            self.post_message(CapturedResponseFailed(path, f"{path} is not UTF-8 text (byte {exc.start})"))
            return
        except ValueError as exc:
            self.post_message(CapturedResponseFailed(path, f"{path}: {exc}"))
            return
        self.post_message(CapturedResponseLoaded(path, text, target))

    @on(CapturedResponseLoaded)
    def _loaded(self, message: CapturedResponseLoaded) -> None:
        area_id = "#gjson-json" if message.target == "gjson" else "#template-vars"
        area = self.query_one(area_id, TextArea)
        area.replace(message.text, (0, 0), area.document.end)  # undo (ctrl+z) brings the old text back
        self.notify(f"Loaded {message.path} ({len(message.text)} characters)")
        self.query_one("#gjson-path" if message.target == "gjson" else "#template-text").focus()

    @on(CapturedResponseFailed)
    def _load_failed(self, message: CapturedResponseFailed) -> None:
        self.notify(message.error, title="Not loaded", severity="error", timeout=10)

    # -- actions ----------------------------------------------------------------------------------------------
    def action_mode(self, mode: str) -> None:
        self.query_one(TabbedContent).active = mode
        self.query_one("#gjson-path" if mode == "gjson" else "#template-text").focus()

    def action_focus_load(self) -> None:
        self.query_one("#playground-file", Input).focus()

    def action_copy_result(self) -> None:
        if self.query_one(TabbedContent).active == "template":
            text = self.last_render.output if self.last_render and self.last_render.output is not None else None
        else:
            text = self.last_gjson.string if self.last_gjson and self.last_gjson.exists else None
        if text is None:
            self.notify("Nothing to copy yet", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {len(text)} characters")

    def pane_help(self) -> str:
        """The F1 paragraph for this screen."""
        return ("GJSON (F2): paste a JSON response (or load a captured one with F4), type a path and see what "
                "the PBX would read; when nothing matches, the result says where the path stops matching. "
                "Template (F3): a Go template with variables as JSON and an escaping context; the rendered "
                "text or the located error. Tab moves between fields; Esc closes the playground.")

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1 and self.app.screen is self:
            self.dismiss()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.notify(f"{event.worker.name} failed: {event.worker.error}", severity="error", timeout=10)
