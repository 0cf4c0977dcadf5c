"""Compiled templates: parse once, cache, render into a destination."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .compiler import MAX_TEMPLATE_DEPTH, Compiler, ExecFailure, State
from .escaping import CONTEXTS
from .exceptions import TemplateExecError, TemplateSyntaxError, located
from .functions import BUILTINS, PBX_FUNCTION_SPECS, Function
from .parser import ParseError, parse
from .values import MISSING

DIALECTS = ("pbx", "go")
_MISSINGKEY = {"default": "default", "invalid": "default", "zero": "zero", "error": "error"}


def _function(f) -> Function:
    if isinstance(f, Function):
        return f
    if callable(f):
        return Function(f, (), "any")
    raise TypeError(f"not a template function: {f!r}")


@dataclass(frozen=True, slots=True)
class _Key:
    text: str
    name: str
    dialect: str
    funcs: tuple
    options: tuple


class CompiledTemplate:
    """A parsed template, ready to render many times.

    Made by :func:`compile_template` (cached per text, name, dialect, funcs,
    options).  Rendering never mutates it, so one instance serves every thread.
    """

    def __init__(self, text: str, name: str, dialect: str, funcs: Mapping[str, Function], missingkey: str):
        self.text = text
        self.name = name
        self.dialect = dialect
        self.funcs = funcs
        self.missingkey = missingkey
        try:
            self.trees = parse(text, name, funcs.__contains__, dialect="pbx" if dialect == "pbx" else "go")
        except ParseError as e:
            raise located(TemplateSyntaxError, text, name, e.pos, e.message) from None
        self._compiled: dict[str, dict] = {}

    def _closures(self, context: str) -> dict:
        c = self._compiled.get(context)
        if c is None:
            comp = Compiler(self.funcs, pbx=self.dialect == "pbx", context=context)
            c = {name: comp.list(root) for name, root in self.trees.items()}
            self._compiled[context] = c
        return c

    def render(self, data: Mapping | None = None, *, context: str = "text", tz=None) -> str:
        """Render with *data* as dot, escaping values for *context*.

        *context* is ``text`` (no escaping), ``json``, ``url``, ``header``,
        ``gjson`` or ``form`` (see :mod:`engine.expr.escaping`).  *tz* is the PBX time zone
        for ``TimeFormat`` (zone name or tzinfo; default the host's).  Raises
        :class:`TemplateExecError` with the template name, line:col and a caret
        excerpt.
        """
        trees = self._compiled.get(context)
        if trees is None:
            if context not in CONTEXTS:
                raise ValueError(f"unknown context {context!r}; expected one of {', '.join(CONTEXTS)}")
            trees = self._closures(context)
        out: list[str] = []
        st = State(out.append, trees, self.missingkey, tz, self.name, out)
        dot = MISSING if data is None else data
        st.vars = [["$", dot]]
        root = trees.get(self.name)
        try:
            if root is None:
                raise ExecFailure(f'"{self.name}" is an incomplete or empty template', None)
            root(st, dot)
        except ExecFailure as e:
            raise self._exec_error(e, st) from None
        except RecursionError:
            raise located(TemplateExecError, self.text, self.name, 0,
                          f"exceeded maximum template depth ({MAX_TEMPLATE_DEPTH})") from None
        return "".join(out)

    def _exec_error(self, e: ExecFailure, st: State) -> TemplateExecError:
        node = e.node
        pos = getattr(node, "pos", 0) if node is not None else 0
        message = f"at <{node}>: {e.message}" if node is not None else e.message
        tree = e.tree or st.tree
        if tree != self.name:
            message += f' (in template "{tree}")'
        return located(TemplateExecError, self.text, self.name, pos, message)

    def __repr__(self) -> str:
        return f"<CompiledTemplate {self.name!r} {self.dialect}>"


_CACHE: dict[_Key, CompiledTemplate] = {}
_CACHE_MAX = 4096


def compile_template(text: str, name: str = "tpl", *, dialect: str = "pbx", funcs: Mapping | None = None,
                     options: Iterable[str] = ()) -> CompiledTemplate:
    """Parse *text* once into a :class:`CompiledTemplate` (cached).

    *dialect* ``"pbx"`` (the product default): single-quoted strings, the PBX
    functions (:data:`PBX_FUNCTIONS`) and ``raw``; a missing value prints as
    an empty string.  ``"go"``: plain Go text/template (missing prints
    ``<no value>``; ``'a'`` is a rune).  *funcs* adds functions by name: a
    :class:`Function` (Go-typed parameters) or any callable (arguments passed as
    Python values, missing as None).  *options* are Go's ``Option`` strings:
    ``missingkey=default|invalid|zero|error``.  *name* appears in every error
    (e.g. ``"rt5.xml:42 CallJournal/Request[LogCall]/@URLFormat"``).

    Raises :class:`TemplateSyntaxError` (located, with a caret excerpt).
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; expected 'pbx' or 'go'")
    options = tuple(options)
    fkey = tuple(sorted(funcs.items(), key=lambda kv: kv[0])) if funcs else ()
    try:
        key = _Key(text, name, dialect, fkey, options)
        hash(key)
    except TypeError:
        key = None
    if key is not None:
        hit = _CACHE.get(key)
        if hit is not None:
            return hit
    missingkey = "default"
    for opt in options:
        k, _, v = opt.partition("=")
        if k != "missingkey" or v not in _MISSINGKEY:
            raise ValueError(f"unknown template option {opt!r}")
        missingkey = _MISSINGKEY[v]
    table: dict[str, Function] = dict(BUILTINS)
    if dialect == "pbx":
        table.update(PBX_FUNCTION_SPECS)
    for fname, f in (funcs or {}).items():
        table[fname] = _function(f)
    tpl = CompiledTemplate(text, name, dialect, table, missingkey)
    if key is not None:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[key] = tpl
    return tpl
