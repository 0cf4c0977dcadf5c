"""Parser for Go text/template (plus the PBX dialect's single-quoted strings).

Ported from Go's ``text/template/parse/parse.go`` (BSD-3-Clause, Copyright
2009 The Go Authors).  :func:`parse` returns the trees of the text: the main
one under *name* and one per ``{{define}}``/``{{block}}``.
"""

from __future__ import annotations

import re

from . import lexer as L
from .nodes import (
    ActionNode, BoolNode, BranchNode, BreakNode, ChainNode, CommandNode, CommentNode,
    ContinueNode, DotNode, ElseNode, EndNode, FieldNode, IdentifierNode, ListNode, NilNode,
    NumberNode, PipeNode, StringNode, TemplateNode, TextNode, VariableNode, is_empty_tree,
)


class ParseError(Exception):
    """A syntax error at *pos* (offset in the template text)."""

    def __init__(self, message: str, pos: int):
        super().__init__(message)
        self.message = message
        self.pos = pos


# ---------------------------------------------------------------- literals

_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def unquote_char(s: str, i: int, quote: str) -> tuple[str, int]:
    """Go's ``strconv.UnquoteChar``: decode one (possibly escaped) char at s[i]."""
    c = s[i]
    if c == quote and quote in "'\"":
        raise ValueError("invalid syntax")
    if c != "\\":
        return c, i + 1
    if i + 1 >= len(s):
        raise ValueError("invalid syntax")
    c = s[i + 1]
    i += 2
    if c in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[c], i
    if c in "xuU":
        size = {"x": 2, "u": 4, "U": 8}[c]
        digits = s[i:i + size]
        if len(digits) < size or not all(d in "0123456789abcdefABCDEF" for d in digits):
            raise ValueError("invalid syntax")
        v = int(digits, 16)
        i += size
        if c == "x":
            return _byte_char(v), i
        if v > 0x10FFFF or 0xD800 <= v < 0xE000:
            raise ValueError("invalid syntax")
        return chr(v), i
    if c in "01234567":
        digits = s[i - 1:i + 2]
        if len(digits) < 3 or not all(d in "01234567" for d in digits):
            raise ValueError("invalid syntax")
        v = int(digits, 8)
        if v > 255:
            raise ValueError("invalid syntax")
        return _byte_char(v), i + 2
    if c in "'\"":
        if c != quote:
            raise ValueError("invalid syntax")
        return c, i
    raise ValueError("invalid syntax")


def _byte_char(v: int) -> str:
    # a single byte; bytes >= 0x80 are kept as surrogate escapes and joined later
    return chr(v) if v < 0x80 else chr(0xDC00 + v)


def _fix_bytes(s: str) -> str:
    """Turn runs of escaped bytes (\\x.. / octal) back into UTF-8 text where possible."""
    if not any(0xDC80 <= ord(c) <= 0xDCFF for c in s):
        return s
    return s.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def unquote(q: str) -> str:
    """Go's ``strconv.Unquote`` for "..." and `...` literals."""
    if q[0] == "`":
        if len(q) < 2 or q[-1] != "`":
            raise ValueError("invalid syntax")
        return q[1:-1].replace("\r", "")
    if len(q) < 2 or q[0] != '"' or q[-1] != '"':
        raise ValueError("invalid syntax")
    body = q[1:-1]
    if "\\" not in body:
        if "\n" in body:
            raise ValueError("invalid syntax")
        return body
    out = []
    i = 0
    while i < len(body):
        ch, i = unquote_char(body, i, '"')
        out.append(ch)
    return _fix_bytes("".join(out))


def unquote_single(q: str) -> str:
    """PBX dialect: '...' is a string; only \\' and \\\\ are escapes."""
    body = q[1:-1]
    return re.sub(r"\\([\\'])", r"\1", body)


_UNDERSCORE_RE = re.compile(r"^[+-]?(0[xXoObB]_?)?[0-9a-fA-F]+(_[0-9a-fA-F]+)*")


def _go_parse_int(text: str) -> int | None:
    """``strconv.ParseInt(text, 0, 64)`` without the range check (None on syntax error)."""
    s = text
    sign = 1
    if s[:1] in "+-":
        if s[0] == "-":
            sign = -1
        s = s[1:]
    if not s:
        return None
    base = 10
    if s[0] == "0" and len(s) > 1:
        p = s[1].lower()
        if p == "x":
            base, s = 16, s[2:]
        elif p == "o":
            base, s = 8, s[2:]
        elif p == "b":
            base, s = 2, s[2:]
        else:
            base, s = 8, s[1:]
    if "_" in s:
        if not _underscore_ok(text):
            return None
        s = s.replace("_", "")
    if not s:
        return None
    try:
        return sign * int(s, base)
    except ValueError:
        return None


def _underscore_ok(s: str) -> bool:
    """Go's ``underscoreOK``: underscores only between digits or after a base prefix."""
    saw = "^"
    i = 0
    if s[:1] in "+-":
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "bxo":
        i = 2
        saw = "0"
        hexa = s[1].lower() == "x"
    while i < len(s):
        c = s[i]
        if c.isdigit() or (hexa and c.lower() in "abcdef"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
        i += 1
    return saw != "_"


def _go_parse_float(text: str) -> float | None:
    s = text
    if "_" in s:
        if not _underscore_ok(s):
            return None
        s = s.replace("_", "")
    body = s.lstrip("+-")
    if body[:2].lower() == "0x":
        if "p" not in body.lower():
            return None
        try:
            v = float.fromhex(body)
        except (ValueError, OverflowError):
            return None
        return -v if s.startswith("-") else v
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", s):
        return None
    try:
        v = float(s)
    except ValueError:
        return None
    if v in (float("inf"), float("-inf")):
        return None
    return v


def new_number(pos: int, text: str, typ: str) -> NumberNode:
    """Classify a number literal the way Go's ``parse.newNumber`` does."""
    n = NumberNode(pos, text)
    if typ == L.CHAR_CONSTANT:
        try:
            ch, i = unquote_char(text, 1, "'")
        except (ValueError, IndexError):
            raise ParseError("invalid syntax", pos) from None
        if text[i:] != "'":
            raise ParseError(f"malformed character constant: {text}", pos)
        r = ord(ch) if not 0xDC80 <= ord(ch) <= 0xDCFF else ord(ch) - 0xDC00
        n.int64 = n.uint64 = r
        n.float64 = float(r)
        n.is_int = n.is_uint = n.is_float = True
        return n
    if typ == L.COMPLEX:
        m = re.fullmatch(r"([+-]?[^+-]+(?:[eEpP][+-][^+-]+)?)([+-].+)i", text)
        re_part = _go_parse_float(m.group(1)) if m else None
        if re_part is None and m:
            iv = _go_parse_int(m.group(1))
            re_part = float(iv) if iv is not None else None
        im_part = _go_parse_float(m.group(2)) if m else None
        if im_part is None and m:
            iv = _go_parse_int(m.group(2))
            im_part = float(iv) if iv is not None else None
        if re_part is None or im_part is None:
            raise ParseError(f"expected integer: {text!r}" if m else "illegal number syntax", pos)
        n.is_complex = True
        n.complex128 = complex(re_part, im_part)
        _simplify_complex(n)
        return n
    if text.endswith("i"):
        f = _go_parse_float(text[:-1])
        if f is None:
            iv = _go_parse_int(text[:-1])
            if iv is not None and not text[:-1].lstrip("+-").startswith(("0x", "0X", "0b", "0B", "0o", "0O")):
                f = float(int(text[:-1].replace("_", "")))
        if f is not None:
            n.is_complex = True
            n.complex128 = complex(0, f)
            _simplify_complex(n)
            return n
    iv = _go_parse_int(text)
    if iv is not None:
        if 0 <= iv < 1 << 64:
            n.is_uint, n.uint64 = True, iv
        if -(1 << 63) <= iv < 1 << 63:
            n.is_int, n.int64 = True, iv
            if iv == 0:
                n.is_uint, n.uint64 = True, 0
    if n.is_int:
        n.is_float, n.float64 = True, float(n.int64)
    elif n.is_uint:
        n.is_float, n.float64 = True, float(n.uint64)
    else:
        f = _go_parse_float(text)
        if f is not None:
            if not any(c in text for c in ".eEpP"):
                raise ParseError(f"integer overflow: {text!r}", pos)
            n.is_float, n.float64 = True, f
            if f == int(f) and -(1 << 63) <= int(f) < 1 << 63:
                n.is_int, n.int64 = True, int(f)
            if f == int(f) and 0 <= int(f) < 1 << 64:
                n.is_uint, n.uint64 = True, int(f)
    if not (n.is_int or n.is_uint or n.is_float):
        raise ParseError(f"illegal number syntax: {text!r}", pos)
    return n


def _simplify_complex(n: NumberNode) -> None:
    c = n.complex128
    n.is_float = c.imag == 0
    if n.is_float:
        f = c.real
        n.float64 = f
        if f == int(f) and -(1 << 63) <= int(f) < 1 << 63:
            n.is_int, n.int64 = True, int(f)
        if f == int(f) and 0 <= int(f) < 1 << 64:
            n.is_uint, n.uint64 = True, int(f)


# ---------------------------------------------------------------- parser

class _Tree:
    def __init__(self, name: str):
        self.name = name
        self.root: ListNode | None = None


# Nesting of parentheses and {{if}}/{{range}}/{{with}}/{{block}} together.  Go stops parenthesised
# expressions at 10000 ("max expression depth exceeded"); deskline parses recursively in Python, so it
# stops far earlier, with a located error instead of a RecursionError.  Real templates nest < 10 deep.
MAX_NESTING = 100


class Parser:
    def __init__(self, text: str, name: str, has_function, *, dialect: str = "go"):
        self.text = text
        self.name = name
        self.has_function = has_function
        self.single_quotes = dialect == "pbx"
        try:
            self.toks = L.lex(text, single_quote_strings=self.single_quotes,
                              break_ok=not has_function("break"), continue_ok=not has_function("continue"))
        except L.LexError as e:
            raise ParseError(e.message, e.pos) from None
        self.i = 0
        self.vars = ["$"]
        self.range_depth = 0
        self.nesting = 0
        self.open_blocks: list[tuple[str, int]] = []  # (keyword, pos) of unclosed if/range/with/define/block
        self.trees: dict[str, _Tree] = {}

    # -- token stream
    def next(self) -> L.Token:
        toks = self.toks
        t = toks[self.i] if self.i < len(toks) else toks[-1]  # EOF repeats
        self.i += 1
        return t

    def backup(self, k: int = 1) -> None:
        self.i -= k

    def peek(self) -> L.Token:
        toks = self.toks
        return toks[self.i] if self.i < len(toks) else toks[-1]

    def next_non_space(self) -> L.Token:
        t = self.next()
        while t.typ == L.SPACE:
            t = self.next()
        return t

    def peek_non_space(self) -> L.Token:
        t = self.next_non_space()
        self.backup()
        return t

    def error(self, msg: str, pos: int | None = None):
        if pos is None:
            pos = self.toks[min(max(self.i - 1, 0), len(self.toks) - 1)].pos
        raise ParseError(msg, pos)

    def _action_start(self) -> int:
        """Offset of the ``{{`` that opened the action being parsed."""
        j = min(self.i - 1, len(self.toks) - 1)
        while j > 0 and self.toks[j].typ != L.LEFT:
            j -= 1
        return self.toks[j].pos

    def expect(self, typ: str, context: str) -> L.Token:
        t = self.next_non_space()
        if t.typ != typ:
            self.unexpected(t, context)
        return t

    def unexpected(self, t: L.Token, context: str):
        if t.typ == L.ERROR:
            self.error(t.val, t.pos)
        self.error(f"unexpected {t} in {context}", t.pos)

    # -- structure
    def parse(self) -> dict[str, _Tree]:
        top = _Tree(self.name)
        top.root = ListNode(self.peek().pos)
        while self.peek().typ != L.EOF:
            if self.peek().typ == L.LEFT:
                delim = self.next()
                if self.next_non_space().typ == "define":
                    self.parse_definition()
                    continue
                self.i = min(self.i, len(self.toks) - 1)
                while self.toks[self.i] is not delim:
                    self.i -= 1
            n = self.text_or_action()
            if isinstance(n, (EndNode, ElseNode)):
                self.error(f"unexpected {n}", n.pos)
            top.root.nodes.append(n)
        self.add(top)
        return self.trees

    def add(self, tree: _Tree) -> None:
        old = self.trees.get(tree.name)
        if old is None or is_empty_tree(old.root):
            self.trees[tree.name] = tree
            return
        if not is_empty_tree(tree.root):
            self.error(f'multiple definition of template "{tree.name}"', tree.root.pos)

    def parse_definition(self) -> None:
        context = "define clause"
        t = self.next_non_space()
        if t.typ not in (L.STRING, L.RAW_STRING, L.SQ_STRING):
            self.unexpected(t, context)
        tree = _Tree(self._unquote(t))
        self.expect(L.RIGHT, context)
        saved_vars = self.vars
        self.vars = ["$"]
        self.open_blocks.append(("define", self._action_start()))
        tree.root, end = self.item_list()
        self.open_blocks.pop()
        self.vars = saved_vars
        if not isinstance(end, EndNode):
            self.error(f"unexpected {end} in {context}", end.pos)
        self.add(tree)

    def _unquote(self, t: L.Token) -> str:
        try:
            if t.typ == L.SQ_STRING:
                return unquote_single(t.val)
            return unquote(t.val)
        except ValueError:
            self.error("invalid syntax", t.pos)

    def item_list(self):
        lst = ListNode(self.peek_non_space().pos)
        while self.peek_non_space().typ != L.EOF:
            n = self.text_or_action()
            if isinstance(n, (EndNode, ElseNode)):
                return lst, n
            lst.nodes.append(n)
        if self.open_blocks:
            word, pos = self.open_blocks[-1]
            line = self.text.count("\n", 0, pos) + 1
            col = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
            self.error(f"unexpected EOF: {{{{{word}}}}} at {line}:{col} has no {{{{end}}}}", self.peek().pos)
        self.error("unexpected EOF", self.peek().pos)

    def text_or_action(self):
        t = self.next_non_space()
        if t.typ == L.TEXT:
            return TextNode(t.pos, t.val)
        if t.typ == L.LEFT:
            return self.action()
        if t.typ == L.COMMENT:
            return CommentNode(t.pos, t.val)
        self.unexpected(t, "input")

    def action(self):
        t = self.next_non_space()
        typ = t.typ
        if typ == "block":
            return self.block_control()
        if typ == "break":
            return self.break_control(t, "break")
        if typ == "continue":
            return self.break_control(t, "continue")
        if typ == "else":
            return self.else_control()
        if typ == "end":
            return EndNode(self.expect(L.RIGHT, "end").pos)
        if typ == "if":
            return self.branch("if")
        if typ == "range":
            return self.branch("range")
        if typ == "template":
            return self.template_control()
        if typ == "with":
            return self.branch("with")
        self.backup()
        t = self.peek()
        return ActionNode(t.pos, t.line, self.pipeline("command", L.RIGHT))

    def break_control(self, tok: L.Token, word: str):
        t = self.next_non_space()
        if t.typ != L.RIGHT:
            self.unexpected(t, "{{%s}}" % word)
        if self.range_depth == 0:
            self.error("{{%s}} outside {{range}}" % word, tok.pos)
        return (BreakNode if word == "break" else ContinueNode)(tok.pos, tok.line)

    def else_control(self):
        p = self.peek_non_space()
        if p.typ in ("if", "with"):
            return ElseNode(p.pos, p.line)
        t = self.expect(L.RIGHT, "else")
        return ElseNode(t.pos, t.line)

    def nest(self, pos: int, what: str) -> None:
        """Enter one level of nesting (leave it with ``self.nesting -= 1``)."""
        if self.nesting >= MAX_NESTING:
            self.error(f"{what}: blocks, else-if branches and parentheses nest more than {MAX_NESTING} "
                       "levels deep", pos)
        self.nesting += 1

    def branch(self, context: str):
        mark = len(self.vars)
        self.nest(self._action_start(), "{{%s}}" % context)
        self.open_blocks.append((context, self._action_start()))
        try:
            pipe = self.pipeline(context, L.RIGHT)
            if context == "range":
                self.range_depth += 1
            lst, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list = None
            if isinstance(nxt, ElseNode):
                if context == "if" and self.peek().typ == "if":
                    self.next()
                    else_list = ListNode(nxt.pos, [self.branch("if")])
                elif context == "with" and self.peek().typ == "with":
                    self.next()
                    else_list = ListNode(nxt.pos, [self.branch("with")])
                else:
                    else_list, nxt = self.item_list()
                    if not isinstance(nxt, EndNode):
                        self.error(f"expected end; found {nxt}", nxt.pos)
            return BranchNode(context, pipe.pos, pipe.line, pipe, lst, else_list)
        finally:
            del self.vars[mark:]
            self.open_blocks.pop()
            self.nesting -= 1

    def block_control(self):
        context = "block clause"
        t = self.next_non_space()
        name = self.template_name(t, context)
        pipe = self.pipeline(context, L.RIGHT)
        tree = _Tree(name)
        saved_vars, saved_depth = self.vars, self.range_depth
        self.vars, self.range_depth = ["$"], 0
        self.nest(self._action_start(), "{{block}}")
        self.open_blocks.append(("block", self._action_start()))
        tree.root, end = self.item_list()
        self.open_blocks.pop()
        self.nesting -= 1
        self.vars, self.range_depth = saved_vars, saved_depth
        if not isinstance(end, EndNode):
            self.error(f"unexpected {end} in {context}", end.pos)
        self.add(tree)
        return TemplateNode(t.pos, t.line, name, pipe)

    def template_control(self):
        context = "template clause"
        t = self.next_non_space()
        name = self.template_name(t, context)
        pipe = None
        if self.next_non_space().typ != L.RIGHT:
            self.backup()
            pipe = self.pipeline(context, L.RIGHT)
        return TemplateNode(t.pos, t.line, name, pipe)

    def template_name(self, t: L.Token, context: str) -> str:
        if t.typ in (L.STRING, L.RAW_STRING, L.SQ_STRING):
            return self._unquote(t)
        self.unexpected(t, context)

    def pipeline(self, context: str, end: str) -> PipeNode:
        t = self.peek_non_space()
        pipe = PipeNode(t.pos, t.line)
        while True:  # declarations
            v = self.peek_non_space()
            if v.typ != L.VARIABLE:
                break
            self.next_non_space()
            nxt = self.peek_non_space()
            if nxt.typ in (L.ASSIGN, L.DECLARE):
                pipe.is_assign = nxt.typ == L.ASSIGN
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, [v.val]))
                self.vars.append(v.val)
            elif nxt.typ == L.CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(VariableNode(v.pos, [v.val]))
                self.vars.append(v.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (L.VARIABLE, L.RIGHT, L.RIGHT_PAREN):
                        continue
                    self.error("range can only initialize variables", nxt.pos)
                self.error(f"too many declarations in {context}", nxt.pos)
            else:
                self.i = min(self.i, len(self.toks) - 1)
                while self.toks[self.i] is not v:
                    self.i -= 1
            break
        while True:
            t = self.next_non_space()
            if t.typ == end:
                self.check_pipeline(pipe, context, t)
                return pipe
            if t.typ in (L.BOOL, L.CHAR_CONSTANT, L.COMPLEX, L.DOT, L.FIELD, L.IDENTIFIER, L.NUMBER,
                         "nil", L.RAW_STRING, L.STRING, L.SQ_STRING, L.VARIABLE, L.LEFT_PAREN):
                self.backup()
                pipe.cmds.append(self.command())
            else:
                self.unexpected(t, context)

    def check_pipeline(self, pipe: PipeNode, context: str, end_tok: L.Token) -> None:
        if not pipe.cmds:
            self.error(f"missing value for {context}", end_tok.pos)
        for i, c in enumerate(pipe.cmds[1:]):
            if isinstance(c.args[0], (BoolNode, DotNode, NilNode, NumberNode, StringNode)):
                self.error(f"non executable command in pipeline stage {i + 2}", c.pos)

    def command(self) -> CommandNode:
        cmd = CommandNode(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            op = self.operand()
            if op is not None:
                cmd.args.append(op)
            t = self.next()
            if t.typ == L.SPACE:
                continue
            if t.typ in (L.RIGHT, L.RIGHT_PAREN):
                self.backup()
            elif t.typ == L.PIPE:
                pass
            else:
                self.unexpected(t, "operand")
            break
        if not cmd.args:
            self.error("empty command", cmd.pos)
        return cmd

    def operand(self):
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == L.FIELD:
            pos = self.peek().pos
            fields = []
            while self.peek().typ == L.FIELD:
                fields.append(self.next().val[1:])
            if isinstance(node, FieldNode):
                return FieldNode(node.pos, node.ident + fields)
            if isinstance(node, VariableNode):
                return VariableNode(node.pos, node.ident + fields)
            if isinstance(node, (BoolNode, StringNode, NumberNode, NilNode, DotNode)):
                self.error(f'unexpected . after term "{node}"', pos)
            return ChainNode(pos, node, fields)
        return node

    def term(self):
        t = self.next_non_space()
        typ = t.typ
        if typ == L.IDENTIFIER:
            if not self.has_function(t.val):
                self.error(f'function "{t.val}" not defined', t.pos)
            return IdentifierNode(t.pos, t.val)
        if typ == L.DOT:
            return DotNode(t.pos)
        if typ == "nil":
            return NilNode(t.pos)
        if typ == L.VARIABLE:
            parts = t.val.split(".")
            if parts[0] not in self.vars:
                self.error(f'undefined variable "{parts[0]}"', t.pos)
            return VariableNode(t.pos, parts)
        if typ == L.FIELD:
            return FieldNode(t.pos, t.val[1:].split("."))
        if typ == L.BOOL:
            return BoolNode(t.pos, t.val == "true")
        if typ in (L.CHAR_CONSTANT, L.COMPLEX, L.NUMBER):
            return new_number(t.pos, t.val, typ)
        if typ == L.LEFT_PAREN:
            self.nest(t.pos, "max expression depth exceeded")
            node = self.pipeline("parenthesized pipeline", L.RIGHT_PAREN)
            self.nesting -= 1
            return node
        if typ in (L.STRING, L.RAW_STRING, L.SQ_STRING):
            return StringNode(t.pos, t.val, self._unquote(t))
        self.backup()
        return None


def parse(text: str, name: str, has_function, *, dialect: str = "go") -> dict[str, ListNode]:
    """Parse *text*; return ``{template name: root list}``. Raise :class:`ParseError`."""
    trees = Parser(text, name, has_function, dialect=dialect).parse()
    return {k: v.root for k, v in trees.items()}
