"""The PBX's template language: Go text/template plus the Yeastar dialect.

Every URL, header, body, subject and description of an integration template
is a Go ``text/template`` with a few PBX functions.  This package parses such
text once into closures (:func:`compile_template`, cached), renders it exactly
like Go does (checked against a corpus of 947 cases run through Go 1.27:
``tests/test_gotemplate_conformance.py``), and escapes substituted values for
where they go (see :mod:`engine.expr.escaping`).

Decisions (the PBX dialect, ``dialect="pbx"``, the product default):

* ``'single quoted'`` text is a string (Go reads ``'a'`` as the rune 97 and
  ``'abc'`` as an error).  Inside it ``\\'`` and ``\\\\`` are escapes; any
  other backslash is literal.
* A missing key or a null value prints as an empty string (Go: ``<no value>``).
  As a function argument it is nil, as in Go.
* Data keeps its Python types: ``int`` is Go's ``int`` (prints as digits),
  ``float`` is ``float64`` (prints like Go: ``1e+06``), ``bool``, ``None``
  (nil), ``list``, ``dict``/any ``Mapping``.  Comparisons follow Go: ``eq`` of
  an int and a float is an error.
* ``TimeFormat ts layout [utc]``, ``ToMillis ts``, ``Capitalize s``,
  ``UrlEncode s`` follow spec A.4 (see :mod:`engine.expr.functions`); a
  missing or empty ``ts`` gives an empty string; ``utc`` ``"1"`` means UTC,
  anything else the PBX zone passed as ``render(..., tz=...)`` (default: the
  host's zone).
* ``raw x`` (deskline extension) inserts ``x`` without escaping (the per-value
  opt-out); ``header`` still refuses CR/LF.
* ``len`` counts UTF-8 bytes and ``index``/``slice`` on strings work on bytes,
  as in Go; a cut that splits a character shows U+FFFD.
* ``{{template}}`` nesting is limited to 200 levels (Go: 100000).
* Errors are :class:`TemplateSyntaxError` / :class:`TemplateExecError`
  (``engine.errors.LocatedError``): template name, line:col of the offending
  node, a caret excerpt; messages never quote a value rejected by escaping.

``dialect="go"`` is plain Go text/template (for the conformance corpus).
The Basic-auth credential format ``{{.username:.password}}`` has its own tiny
parser in :mod:`engine.expr.credentials`.
"""

from __future__ import annotations

from . import credentials
from .analysis import VariableRef, check_syntax, referenced_variables
from .exceptions import TemplateExecError, TemplateSyntaxError
from .functions import FuncError, Function, RawString, resolve_timezone
from .template import CompiledTemplate, compile_template
from .values import MISSING, SafeString

PBX_FUNCTIONS: tuple[str, ...] = ("TimeFormat", "ToMillis", "Capitalize", "UrlEncode")
"""The PBX's documented template functions (``raw`` is deskline's extension)."""

CONTEXTS: tuple[str, ...] = ("text", "json", "url", "header", "gjson", "form")


def render(text: str, data=None, *, context: str = "text", name: str = "tpl", tz=None) -> str:
    """Compile (cached) and render *text* in the PBX dialect; see :meth:`CompiledTemplate.render`."""
    return compile_template(text, name).render(data, context=context, tz=tz)


__all__ = [
    "CONTEXTS", "MISSING", "PBX_FUNCTIONS", "CompiledTemplate", "FuncError", "Function", "RawString",
    "SafeString", "TemplateExecError", "TemplateSyntaxError", "VariableRef", "check_syntax",
    "compile_template", "credentials", "referenced_variables", "render", "resolve_timezone",
]
