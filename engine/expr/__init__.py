"""The PBX's template language: Go text/template plus the Yeastar dialect.

Every URL, header, body, subject and description of an integration template
is a Go ``text/template`` with a few PBX functions.  This package parses such
text once into closures (:func:`compile_template`, cached), renders it exactly
like Go does (checked against a corpus of 947 cases run through Go 1.27), and
escapes substituted values for where they go (``json``, ``url``, ``header``,
``gjson``; see :mod:`engine.expr.escaping`).

PBX dialect (the default): ``'single quoted'`` strings, ``TimeFormat``,
``ToMillis``, ``Capitalize``, ``UrlEncode``, ``raw`` (per-value opt-out of
escaping), missing values print as an empty string, Python ints print as ints.
"""

from __future__ import annotations

from .analysis import VariableRef, check_syntax, referenced_variables
from .exceptions import TemplateExecError, TemplateSyntaxError
from .functions import FuncError, Function, RawString, resolve_timezone
from .template import CompiledTemplate, compile_template
from .values import MISSING, SafeString

PBX_FUNCTIONS: tuple[str, ...] = ("TimeFormat", "ToMillis", "Capitalize", "UrlEncode")
"""The PBX's documented template functions (``raw`` is deskline's extension)."""

CONTEXTS: tuple[str, ...] = ("text", "json", "url", "header", "gjson")


def render(text: str, data=None, *, context: str = "text", name: str = "tpl", tz=None) -> str:
    """Compile (cached) and render *text* in the PBX dialect; see :meth:`CompiledTemplate.render`."""
    return compile_template(text, name).render(data, context=context, tz=tz)


__all__ = [
    "CONTEXTS", "MISSING", "PBX_FUNCTIONS", "CompiledTemplate", "FuncError", "Function", "RawString",
    "SafeString", "TemplateExecError", "TemplateSyntaxError", "VariableRef", "check_syntax",
    "compile_template", "referenced_variables", "render", "resolve_timezone",
]
