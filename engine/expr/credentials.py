"""The Basic-auth credential format: ``{{.username:.password}}``, ``{{.api_key:}}``.

This is its own tiny syntax, not a Go template.  A format is text with
placeholders; the result is the Base64 of the text with the placeholders
filled in (UTF-8):

* ``{{.a:.b}}`` -> value of ``a``, ``:``, value of ``b`` (``{{.username:.password}}``)
* ``{{.a:}}`` -> value of ``a`` then ``:`` (an API key as user name, empty password);
  ``{{:.b}}`` likewise with an empty user name
* ``{{.a}}`` -> value of ``a``; text outside ``{{ }}`` is literal, so
  ``{{.email}}/token:{{.api_token}}`` (Zendesk's API-token form) works too.

Spaces inside the braces are ignored.  Names are letters, digits and ``_``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .exceptions import TemplateExecError, TemplateSyntaxError, located

_NAME = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True, slots=True)
class CredentialFormat:
    """A parsed credential format: ``parts`` are literal strings and ``(field name, offset)`` pairs."""

    text: str
    name: str
    parts: tuple

    @property
    def fields(self) -> tuple[str, ...]:
        """The field names in order of appearance (duplicates kept once)."""
        seen: list[str] = []
        for p in self.parts:
            if isinstance(p, tuple) and p[0] not in seen:
                seen.append(p[0])
        return tuple(seen)

    def credential(self, values: Mapping[str, str]) -> str:
        """The plain ``user:password`` text (never log it)."""
        out = []
        for p in self.parts:
            if isinstance(p, str):
                out.append(p)
                continue
            field, pos = p
            v = values.get(field)
            if v is None:
                raise located(TemplateExecError, self.text, self.name, pos,
                              f"no value for credential field {field!r}")
            out.append(str(v))
        return "".join(out)

    def encode(self, values: Mapping[str, str]) -> str:
        """The Base64 string for the ``Authorization: Basic`` header.

        ``{{.username:.password}}`` with alice/secret -> ``base64("alice:secret")``;
        ``{{.api_key:}}`` -> ``base64("KEY:")``.  A field without a value is a
        located :class:`TemplateExecError` (the message names the field, never a value).
        """
        return base64.b64encode(self.credential(values).encode("utf-8")).decode("ascii")


def parse_credential_format(fmt: str, name: str = "credential") -> CredentialFormat:
    """Parse a credential format; raise a located :class:`TemplateSyntaxError` on bad syntax."""

    def fail(pos: int, msg: str):
        raise located(TemplateSyntaxError, fmt, name, pos, msg)

    parts: list = []
    i = 0
    n = len(fmt)
    while i < n:
        j = fmt.find("{{", i)
        if j < 0:
            parts.append(fmt[i:])
            break
        if j > i:
            parts.append(fmt[i:j])
        k = fmt.find("}}", j + 2)
        if k < 0:
            fail(j, "unclosed {{ in credential format")
        inner_start = j + 2
        inner = fmt[inner_start:k]
        if "{{" in inner:
            fail(inner_start + inner.index("{{"), "{{ inside {{ }} in credential format")
        pieces = inner.split(":")
        if len(pieces) > 2:
            fail(inner_start + inner.index(":", inner.index(":") + 1),
                 "more than one ':' inside {{ }}; expected {{.user:.password}} or {{.api_key:}}")
        offset = inner_start
        got_field = False
        for idx, piece in enumerate(pieces):
            stripped = piece.strip()
            pos = offset + (len(piece) - len(piece.lstrip()))
            if stripped:
                m = _NAME.fullmatch(stripped)
                if not m:
                    fail(pos, f"expected a field like .username, found {stripped!r}")
                parts.append((m.group(1), pos))
                got_field = True
            if idx == 0 and len(pieces) == 2:
                parts.append(":")
            offset += len(piece) + 1
        if not got_field:
            fail(j, "empty {{ }} in credential format; expected {{.user:.password}} or {{.api_key:}}")
        i = k + 2
    fmt_obj = CredentialFormat(fmt, name, tuple(parts))
    if not fmt_obj.fields:
        fail(0, "credential format has no field; expected {{.user:.password}} or {{.api_key:}}")
    return fmt_obj
