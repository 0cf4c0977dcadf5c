"""Hardened, source-preserving XML reading and writing for templates.

A template file is kept as its decoded source text.  lxml (with entity
expansion, DTD loading and network access off) checks well-formedness and
decodes attribute values; a small span scanner records where every element
and attribute sits in the source.  Saving an unmodified document writes the
original bytes back; an edit splices only the characters it changes into the
source, so attribute order, comments, ``<X />`` vs ``<X></X>``, whitespace,
escapes and the XML declaration stay exactly as written.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from lxml import etree

from engine.errors import Location, TemplateError, caret_excerpt

MAX_BYTES = 1024 * 1024
"""Largest template file accepted (1 MiB)."""

MAX_DEPTH = 32
"""Deepest element nesting accepted; real templates use 7 levels."""

_HARMLESS = {"WAR_UNKNOWN_VERSION"}  # libxml2 on version="1.1": parsed as 1.0, fine for templates

_BOM = b"\xef\xbb\xbf"
_DECL_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_NAME = r"[^\s/>=\"'<]+"
_ATTRIBUTE = re.compile(r"\s*(" + _NAME + r")\s*=\s*(\"[^\"]*\"|'[^']*')")


@dataclass(frozen=True, slots=True)
class AttributeSpan:
    """One attribute in the source: its name and where its value sits (without quotes)."""

    name: str
    name_start: int
    value_start: int
    value_end: int
    quote: str


@dataclass(slots=True)
class ElementSpan:
    """One element in the source, in document order."""

    index: int
    tag: str
    start: int
    head_end: int  # offset just after the start tag's '>'
    end: int = 0  # offset just after the end tag (== head_end when self-closing)
    self_closing: bool = False
    parent: int = -1
    depth: int = 0
    children: list[int] = field(default_factory=list)
    attributes: list[AttributeSpan] = field(default_factory=list)

    def attribute(self, name: str) -> AttributeSpan | None:
        for span in self.attributes:
            if span.name == name:
                return span
        return None


class _ScanError(Exception):
    pass


_TOKEN = re.compile(  # text before a token is consumed in one step ([^<]*+), then the token
    r"[^<]*+(?:<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|(<!)"
    r"|</(" + _NAME + r")\s*>"
    r"|<(" + _NAME + r")((?:\s+" + _NAME + r"\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>)",
    re.S,
)


def _scan(text: str) -> list[ElementSpan]:
    """Find every element's span in well-formed XML *text* (already checked by lxml)."""
    elements: list[ElementSpan] = []
    stack: list[ElementSpan] = []
    for m in _TOKEN.finditer(text):
        if m.group(1):
            raise _ScanError("declaration")  # DOCTYPE: refused before scanning
        end_tag = m.group(2)
        if end_tag is not None:
            if not stack or stack[-1].tag != end_tag:
                raise _ScanError(f"end tag at {m.end()}")
            stack.pop().end = m.end()
            continue
        tag = m.group(3)
        if tag is None:
            continue  # comment, CDATA or processing instruction
        el = ElementSpan(index=len(elements), tag=tag, start=m.start(3) - 1, head_end=m.end())
        base = m.start(4)
        for am in _ATTRIBUTE.finditer(m.group(4)):
            raw = am.group(2)
            vstart = base + am.start(2) + 1
            el.attributes.append(AttributeSpan(am.group(1), base + am.start(1), vstart, vstart + len(raw) - 2, raw[0]))
        el.self_closing = m.group(5) == "/"
        if stack:
            parent = stack[-1]
            el.parent = parent.index
            el.depth = parent.depth + 1
            parent.children.append(el.index)
        elements.append(el)
        if el.self_closing:
            el.end = el.head_end
        else:
            stack.append(el)
    if stack:
        raise _ScanError("unclosed element")
    return elements


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def escape_attribute(value: str, quote: str = '"') -> str:
    """Escape *value* for an attribute delimited by *quote* (newlines and tabs as character references)."""
    out = value.replace("&", "&amp;").replace("<", "&lt;")
    out = out.replace("\r", "&#xD;").replace("\n", "&#xA;").replace("\t", "&#x9;")
    return out.replace('"', "&quot;") if quote == '"' else out.replace("'", "&apos;")


class LineIndex:
    """Offset -> (line, col) for a text, both 1-based."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self._starts, offset) - 1
        return i + 1, offset - self._starts[i] + 1


@dataclass(frozen=True, slots=True)
class ParseWarning:
    """A non-fatal remark of the XML parser, with its position."""

    message: str
    line: int
    col: int


class SourceDocument:
    """A parsed template file that remembers its exact source.

    ``elements[i]`` (source spans) and ``nodes[i]`` (lxml elements) describe the
    same element, in document order; model objects refer to elements by index.
    """

    def __init__(self, data: bytes, file: str, text: str, encoding: str, root, elements: list[ElementSpan],
                 warnings: list[ParseWarning]) -> None:
        self.data = data
        self.file = file
        self.text = text
        self.encoding = encoding
        self.root = root
        self.elements = elements
        self.nodes = [el for el in root.iter() if isinstance(el.tag, str)]
        self.warnings = warnings
        self._lines = LineIndex(text)

    # -- reading -------------------------------------------------------------------------------------
    @classmethod
    def parse(cls, data: bytes, file: str = "") -> SourceDocument:
        """Parse template bytes; raise :class:`TemplateError` with file, line:col for any problem."""
        return parse_source(data, file)

    def position(self, offset: int) -> tuple[int, int]:
        return self._lines.position(offset)

    def location(self, index: int, attribute: str | None = None, field: str = "") -> Location:
        """Where element *index* (or its *attribute*'s value, when present) is in the file."""
        el = self.elements[index]
        offset = el.start
        if attribute is not None:
            span = el.attribute(attribute)
            if span is not None:
                offset = span.value_start
        line, col = self.position(offset)
        return Location(self.file, line, col, field)

    def value_offset(self, index: int, attribute: str, value_index: int) -> int:
        """Source offset of character *value_index* of the decoded value of *attribute*."""
        span = self.elements[index].attribute(attribute)
        if span is None:
            return self.elements[index].start
        raw = self.text[span.value_start:span.value_end]
        i = decoded = 0
        while i < len(raw) and decoded < value_index:
            if raw[i] == "&":
                j = raw.find(";", i)
                i = j + 1 if j > 0 else i + 1
            elif raw.startswith("\r\n", i):
                i += 2
            else:
                i += 1
            decoded += 1
        return span.value_start + i

    def attribute_value(self, index: int, name: str) -> str | None:
        return self.nodes[index].get(name)

    def to_bytes(self) -> bytes:
        """The document as bytes: the original bytes when nothing was edited."""
        return self.data

    # -- editing (each returns a new document; the original is unchanged) -----------------------------
    def _splice(self, start: int, end: int, replacement: str) -> SourceDocument:
        text = self.text[:start] + replacement + self.text[end:]
        bom = _BOM if self.data.startswith(_BOM) else b""
        return parse_source(bom + text.encode(self.encoding), self.file)

    def set_attribute(self, index: int, name: str, value: str) -> SourceDocument:
        """Set attribute *name* of element *index*, adding it after the last attribute when absent."""
        el = self.elements[index]
        span = el.attribute(name)
        if span is not None:
            if self.nodes[index].get(name) == value:
                return self
            return self._splice(span.value_start, span.value_end, escape_attribute(value, span.quote))
        if el.attributes:
            at = el.attributes[-1].value_end + 1
        else:
            at = el.start + 1 + len(el.tag)
        return self._splice(at, at, f' {name}="{escape_attribute(value)}"')

    def remove_attribute(self, index: int, name: str) -> SourceDocument:
        """Remove attribute *name*; the rest of the start tag keeps its layout."""
        el = self.elements[index]
        span = el.attribute(name)
        if span is None:
            return self
        text = self.text
        start, end = span.name_start, span.value_end + 1
        line_start = text.rfind("\n", 0, start) + 1
        if text[line_start:start].strip() == "":  # first on its line: the next attribute takes its place
            while end < len(text) and text[end] in " \t":
                end += 1
            if text[end:end + 1] in ("\r", "\n"):  # and alone on it: drop the whole line
                start = line_start - 1 if line_start > 0 else line_start
                if start > 0 and text[start - 1] == "\r":
                    start -= 1
                end = span.value_end + 1
        else:
            while start > 0 and text[start - 1] in " \t":
                start -= 1
        return self._splice(start, end, "")

    def _newline(self) -> str:
        return "\r\n" if "\r\n" in self.text else "\n"

    def _indent_of(self, index: int) -> str:
        el = self.elements[index]
        line_start = self.text.rfind("\n", 0, el.start) + 1
        lead = self.text[line_start:el.start]
        return lead if lead.strip() == "" else ""

    def _indent_unit(self) -> str:
        for el in self.elements:
            if el.parent >= 0:
                child, parent = self._indent_of(el.index), self._indent_of(el.parent)
                if len(child) > len(parent) and child.startswith(parent):
                    return child[len(parent):]
        return "  "

    def _empty_tag_style(self) -> str:
        return " />" if " />" in self.text or "/>" not in self.text else "/>"

    def element_text(self, tag: str, attributes: dict[str, str] | list[tuple[str, str]]) -> str:
        """Source text of a new empty element in this document's style."""
        pairs = attributes.items() if isinstance(attributes, dict) else attributes
        attrs = "".join(f' {k}="{escape_attribute(v)}"' for k, v in pairs)
        return f"<{tag}{attrs}{self._empty_tag_style()}"

    def insert_element(self, parent: int, fragment: str, after: int | None = None,
                       before: int | None = None) -> SourceDocument:
        """Insert the element source *fragment* into *parent* (last, or after/before a child)."""
        nl = self._newline()
        p = self.elements[parent]
        if before is not None:
            indent = self._indent_of(before)
            at = self.elements[before].start
            if indent:
                at -= len(indent)
            return self._splice(at, at, f"{indent}{fragment}{nl}" if indent else fragment)
        anchor = after if after is not None else (p.children[-1] if p.children else None)
        if anchor is not None:
            indent = self._indent_of(anchor)
            at = self.elements[anchor].end
            return self._splice(at, at, f"{nl}{indent}{fragment}" if indent else fragment)
        parent_indent = self._indent_of(parent)
        child_indent = parent_indent + self._indent_unit()
        if p.self_closing:  # <X /> -> <X>\n  fragment\n</X>
            head = self.text[p.start:p.head_end]
            head = re.sub(r"\s*/>$", ">", head)
            new = f"{head}{nl}{child_indent}{fragment}{nl}{parent_indent}</{p.tag}>"
            return self._splice(p.start, p.end, new)
        close = self.text.rfind("</", p.head_end, p.end)
        inner = self.text[p.head_end:close]
        if inner.strip() == "":
            return self._splice(p.head_end, close, f"{nl}{child_indent}{fragment}{nl}{parent_indent}")
        return self._splice(close, close, fragment)

    def remove_element(self, index: int) -> SourceDocument:
        """Remove element *index* with its own line when it stands alone on it."""
        el = self.elements[index]
        start, end = el.start, el.end
        line_start = self.text.rfind("\n", 0, start) + 1
        line_end = self.text.find("\n", end)
        line_end = len(self.text) if line_end < 0 else line_end
        if self.text[line_start:start].strip() == "" and self.text[end:line_end].strip() == "":
            start = line_start
            end = line_end + 1 if line_end < len(self.text) else line_end
        return self._splice(start, end, "")


def _declared_encoding(data: bytes) -> str:
    m = _DECL_ENCODING.match(data)
    if not m:
        return "utf-8"
    return m.group(1).decode("ascii").lower()


def _raw_quote(line_text: str) -> tuple[int, str] | None:
    """1-based column of a raw ``"`` inside a double-quoted attribute value on *line_text*, and the attribute."""
    for m in re.finditer(r'([\w:.-]+)\s*=\s*"[^"<>]*"', line_text):
        nxt = line_text[m.end():m.end() + 1]
        if nxt and nxt not in " \t\r\n/>?":
            return m.end(), m.group(1)  # the quote that ended the value too early
    return None


def _element_before(text: str, line: int, col: int) -> str:
    """Name of the last start tag that begins before (line, col): the element the error is in."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    if not 1 <= line <= len(starts):
        return ""
    offset = min(starts[line - 1] + max(col - 1, 0), len(text))
    m = None
    for m in re.finditer(r"<([A-Za-z_][\w.:-]*)", text[max(0, offset - 4000):offset]):
        pass
    return m.group(1) if m else ""


def template_error(code: str, message: str, location: Location, excerpt: str = "") -> TemplateError:
    """A :class:`TemplateError` tagged with a finding code (``exc.code``)."""
    exc = TemplateError(message, location, excerpt)
    exc.code = code
    return exc


def _syntax_error(exc: etree.XMLSyntaxError, log, text: str, file: str) -> TemplateError:
    entries = [e for e in log if e.type_name not in _HARMLESS and e.level >= etree.ErrorLevels.ERROR]
    first = entries[0] if entries else None
    line = first.line if first else (exc.lineno or 0)
    col = first.column if first else (exc.offset or 0)
    message = (first.message if first else str(exc)).strip()
    lines = text.splitlines()
    element = _element_before(text, line, col)
    if "excessive depth" in message.lower():  # libxml2's own limit (256) is reached before deskline's
        return template_error("xml-depth", f"elements are nested more than {MAX_DEPTH} levels deep",
                              Location(file, line, col, element), caret_excerpt(text, line, col) if line else "")
    if 1 <= line <= len(lines):
        raw = _raw_quote(lines[line - 1])
        if raw is not None and ("attribute" in message.lower() or "start tag" in message.lower()
                                or "space required" in message.lower()):
            qcol, attribute = raw
            element = _element_before(text, line, qcol)
            return template_error(
                "xml-raw-quote",
                'raw " inside an attribute value is not allowed in XML; write it as &quot; '
                f"(parser said: {message})",
                Location(file, line, qcol, f"{element}@{attribute}" if element else attribute),
                caret_excerpt(text, line, qcol),
            )
    return template_error("xml-syntax", f"not well-formed XML: {message}", Location(file, line, col, element),
                          caret_excerpt(text, line, col) if line else "")


def _make_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=False, remove_pis=False, recover=False,
    )


def parse_source(data: bytes, file: str = "") -> SourceDocument:
    """Parse template bytes safely; raise :class:`TemplateError` (located) on any problem."""
    if len(data) > MAX_BYTES:
        raise template_error("xml-size", f"file is {len(data)} bytes; templates are limited to {MAX_BYTES} bytes (1 MiB)",
                            Location(file, 0, 0, ""))
    encoding = _declared_encoding(data)
    body = data[len(_BOM):] if data.startswith(_BOM) else data
    try:
        text = body.decode(encoding)
    except LookupError:
        raise template_error("xml-encoding", f"unknown encoding {encoding!r} in the XML declaration", Location(file, 1, 1, "encoding"))
    except UnicodeDecodeError as exc:
        line = body[:exc.start].count(b"\n") + 1
        col = exc.start - (body.rfind(b"\n", 0, exc.start) + 1) + 1
        raise template_error("xml-encoding", f"the file is not valid {encoding}: byte 0x{body[exc.start]:02x} cannot be decoded",
                            Location(file, line, col, ""))
    lines = LineIndex(text)
    # comments and CDATA sections may mention <!DOCTYPE as text
    uncommented = re.sub(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>", lambda m: " " * len(m.group()), text, flags=re.S)
    doctype = re.search(r"<!DOCTYPE|<!ENTITY", uncommented)
    parser = _make_parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        if doctype:  # a broken document with a DTD: the DTD is the thing to report
            line, col = lines.position(doctype.start())
            raise _dtdtemplate_error(file, line, col, text) from None
        raise _syntax_error(exc, parser.error_log, text, file) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None or doctype:
        line, col = lines.position(doctype.start()) if doctype else (1, 1)
        raise _dtdtemplate_error(file, line, col, text)
    warnings = [ParseWarning(e.message.strip(), e.line, e.column) for e in parser.error_log
                if e.type_name not in _HARMLESS]
    try:
        elements = _scan(text)
    except _ScanError as exc:  # should not happen for documents lxml accepted
        raise template_error("xml-internal", f"cannot map the XML source ({exc})", Location(file, 0, 0, "")) from None
    nodes = [el for el in root.iter() if isinstance(el.tag, str)]
    # lxml names elements {uri}local, the source prefix:local
    if len(nodes) != len(elements) or any(_local(n.tag) != e.tag.rsplit(":", 1)[-1]
                                          for n, e in zip(nodes, elements)):
        raise template_error("xml-internal", "cannot map the XML source to its elements", Location(file, 0, 0, ""))
    for el in elements:
        if el.depth >= MAX_DEPTH:
            line, col = lines.position(el.start)
            raise template_error("xml-depth", f"elements are nested more than {MAX_DEPTH} levels deep",
                                Location(file, line, col, el.tag), caret_excerpt(text, line, col))
    return SourceDocument(data, file, text, encoding, root, elements, warnings)


def _dtdtemplate_error(file: str, line: int, col: int, text: str) -> TemplateError:
    return template_error(
        "xml-dtd",
        "DOCTYPE and entity declarations are not allowed in templates "
        "(refused without expanding them: protects against XXE and entity-expansion attacks)",
        Location(file, line, col, "DOCTYPE"), caret_excerpt(text, line, col))
