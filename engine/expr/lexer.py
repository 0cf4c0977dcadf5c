"""Lexer for Go text/template, with the PBX dialect's single-quoted strings.

Ported from Go's ``text/template/parse/lex.go`` (BSD-3-Clause, Copyright 2009
The Go Authors), reshaped into one eager pass that returns a token list.
Positions are offsets into the Python string (characters, not bytes).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

LEFT_DELIM, RIGHT_DELIM = "{{", "}}"
LEFT_COMMENT, RIGHT_COMMENT = "/*", "*/"
SPACE_CHARS = " \t\r\n"

# token types
ERROR = "error"
EOF = "EOF"
TEXT = "text"
LEFT = "{{"
RIGHT = "}}"
SPACE = "space"
COMMENT = "comment"
ASSIGN = "="
DECLARE = ":="
PIPE = "|"
STRING = "string"
RAW_STRING = "raw string"
SQ_STRING = "single-quoted string"
VARIABLE = "variable"
CHAR_CONSTANT = "character constant"
FIELD = "field"
DOT = "."
NUMBER = "number"
COMPLEX = "complex number"
IDENTIFIER = "identifier"
BOOL = "bool"
LEFT_PAREN = "("
RIGHT_PAREN = ")"
CHAR = "char"

KEYWORDS = {
    "block": "block", "break": "break", "continue": "continue", "define": "define",
    "else": "else", "end": "end", "if": "if", "nil": "nil", "range": "range",
    "template": "template", "with": "with",
}
KEYWORD_TYPES = frozenset(KEYWORDS.values()) | {DOT}


@dataclass(slots=True)
class Token:
    typ: str
    pos: int
    val: str
    line: int

    def __str__(self) -> str:
        if self.typ == EOF:
            return "EOF"
        if self.typ == ERROR:
            return self.val
        if self.typ in KEYWORD_TYPES:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return f'"{self.val[:10]}"...'
        return '"' + self.val.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class LexError(Exception):
    """A lexical error at *pos* (offset in the template text)."""

    def __init__(self, message: str, pos: int):
        super().__init__(message)
        self.message = message
        self.pos = pos


def is_space(c: str) -> bool:
    return c in SPACE_CHARS and c != ""


def is_alnum(c: str) -> bool:
    return c == "_" or c.isalpha() or (c.isdigit() and c.isdecimal())


def _has_left_trim(s: str, i: int) -> bool:
    return len(s) >= i + 2 and s[i] == "-" and s[i + 1] in SPACE_CHARS


def _has_right_trim(s: str, i: int) -> bool:
    return len(s) >= i + 2 and s[i] in SPACE_CHARS and s[i + 1] == "-"


def _right_trim_length(s: str) -> int:
    return len(s) - len(s.rstrip(SPACE_CHARS))


def _skip_spaces(s: str, pos: int) -> int:
    n = len(s)
    while pos < n and s[pos] in SPACE_CHARS:
        pos += 1
    return pos


def lex(text: str, *, single_quote_strings: bool = False, break_ok: bool = True,
        continue_ok: bool = True) -> list[Token]:
    """Split *text* into tokens; raise :class:`LexError` on bad input."""
    toks: list[Token] = []
    n = len(text)
    pos = 0

    def emit(typ: str, start: int, end: int) -> None:
        toks.append(Token(typ, start, text[start:end], line_at(start)))

    newlines: list[int] = []  # offsets of "\n", for line numbers

    def line_at(p: int) -> int:
        return bisect.bisect_left(newlines, p) + 1

    i = text.find("\n")
    while i >= 0:
        newlines.append(i)
        i = text.find("\n", i + 1)

    while True:
        # ---- text
        x = text.find(LEFT_DELIM, pos)
        if x < 0:
            if pos < n:
                emit(TEXT, pos, n)
            toks.append(Token(EOF, n, "", line_at(n)))
            return toks
        end = x
        after = x + 2
        if _has_left_trim(text, after):
            end = x - _right_trim_length(text[pos:x])
        if end > pos:
            emit(TEXT, pos, end)
        # ---- left delimiter
        pos = after
        trim = _has_left_trim(text, pos)
        after_marker = 2 if trim else 0
        if text.startswith(LEFT_COMMENT, pos + after_marker):
            start = pos + after_marker
            c = text.find(RIGHT_COMMENT, start + 2)
            if c < 0:
                raise LexError("unclosed comment", start)
            pos = c + 2
            if _has_right_trim(text, pos) and text.startswith(RIGHT_DELIM, pos + 2):
                pos += 2 + 2
                pos = _skip_spaces(text, pos)
            elif text.startswith(RIGHT_DELIM, pos):
                pos += 2
            else:
                raise LexError("comment ends before closing delimiter", pos)
            continue
        toks.append(Token(LEFT, x, LEFT_DELIM, line_at(x)))
        pos += after_marker
        paren_depth = 0
        # ---- inside action
        while True:
            if _has_right_trim(text, pos) and text.startswith(RIGHT_DELIM, pos + 2):
                if paren_depth:
                    raise LexError("unclosed left paren", pos)
                pos += 2
                toks.append(Token(RIGHT, pos, RIGHT_DELIM, line_at(pos)))
                pos += 2
                pos = _skip_spaces(text, pos)
                break
            if text.startswith(RIGHT_DELIM, pos):
                if paren_depth:
                    raise LexError("unclosed left paren", pos)
                toks.append(Token(RIGHT, pos, RIGHT_DELIM, line_at(pos)))
                pos += 2
                break
            if pos >= n:
                raise LexError("unclosed action", pos)
            c = text[pos]
            start = pos
            if c in SPACE_CHARS:
                j = pos
                while j < n and text[j] in SPACE_CHARS:
                    j += 1
                # a trim-marked right delimiter: the last space belongs to it
                if _has_right_trim(text, j - 1) and text.startswith(RIGHT_DELIM, j + 1):
                    j -= 1
                    if j == pos:
                        continue  # the loop top sees " -}}"
                emit(SPACE, pos, j)
                pos = j
                continue
            pos += 1
            if c == "=":
                emit(ASSIGN, start, pos)
            elif c == ":":
                if pos < n and text[pos] == "=":
                    pos += 1
                    emit(DECLARE, start, pos)
                else:
                    raise LexError("expected :=", pos)
            elif c == "|":
                emit(PIPE, start, pos)
            elif c == '"':
                while True:
                    if pos >= n:
                        raise LexError("unterminated quoted string", start)
                    ch = text[pos]
                    pos += 1
                    if ch == "\\":
                        if pos >= n or text[pos] == "\n":
                            raise LexError("unterminated quoted string", start)
                        pos += 1
                    elif ch == "\n":
                        raise LexError("unterminated quoted string", start)
                    elif ch == '"':
                        break
                emit(STRING, start, pos)
            elif c == "`":
                e = text.find("`", pos)
                if e < 0:
                    raise LexError("unterminated raw quoted string", start)
                pos = e + 1
                emit(RAW_STRING, start, pos)
            elif c == "$":
                pos = _field_or_variable(text, pos, start)
                emit(VARIABLE, start, pos)
            elif c == "'":
                if single_quote_strings:
                    while True:
                        if pos >= n:
                            raise LexError("unterminated single-quoted string", start)
                        ch = text[pos]
                        pos += 1
                        if ch == "\\" and pos < n and text[pos] in "'\\":
                            pos += 1
                        elif ch == "'":
                            break
                    emit(SQ_STRING, start, pos)
                else:
                    while True:
                        if pos >= n:
                            raise LexError("unterminated character constant", start)
                        ch = text[pos]
                        pos += 1
                        if ch == "\\":
                            if pos >= n or text[pos] == "\n":
                                raise LexError("unterminated character constant", start)
                            pos += 1
                        elif ch == "\n":
                            raise LexError("unterminated character constant", start)
                        elif ch == "'":
                            break
                    emit(CHAR_CONSTANT, start, pos)
            elif c == "." and not (pos < n and "0" <= text[pos] <= "9"):
                if _at_terminator(text, pos):
                    emit(DOT, start, pos)
                else:
                    pos = _field_or_variable(text, pos, start)
                    emit(FIELD, start, pos)
            elif c in "+-." or "0" <= c <= "9":
                pos = start
                ok, pos = _scan_number(text, pos)
                if not ok:
                    raise LexError(f"bad number syntax: {text[start:pos]!r}", start)
                if pos < n and text[pos] in "+-":
                    ok, pos = _scan_number(text, pos)
                    if not ok or text[pos - 1] != "i":
                        raise LexError(f"bad number syntax: {text[start:pos]!r}", start)
                    emit(COMPLEX, start, pos)
                else:
                    emit(NUMBER, start, pos)
            elif is_alnum(c):
                while pos < n and is_alnum(text[pos]):
                    pos += 1
                word = text[start:pos]
                if not _at_terminator(text, pos):
                    raise LexError(f"bad character {_fmt_rune(text[pos])}", pos)
                kw = KEYWORDS.get(word)
                if kw is not None and not (kw == "break" and not break_ok) and not (kw == "continue" and not continue_ok):
                    emit(kw, start, pos)
                elif word in ("true", "false"):
                    emit(BOOL, start, pos)
                else:
                    emit(IDENTIFIER, start, pos)
            elif c == "(":
                emit(LEFT_PAREN, start, pos)
                paren_depth += 1
            elif c == ")":
                paren_depth -= 1
                if paren_depth < 0:
                    raise LexError("unexpected right paren", start)
                emit(RIGHT_PAREN, start, pos)
            elif c.isascii() and c.isprintable():
                emit(CHAR, start, pos)
            else:
                raise LexError(f"unrecognized character in action: {_fmt_rune(c)}", start)


def _fmt_rune(c: str) -> str:
    if c == "":
        return "EOF"
    return f"U+{ord(c):04X} {c!r}"


def _at_terminator(text: str, pos: int) -> bool:
    if pos >= len(text):
        return True
    c = text[pos]
    if c in SPACE_CHARS or c in ".,|:)(":
        return True
    return text.startswith(RIGHT_DELIM, pos)


def _field_or_variable(text: str, pos: int, start: int) -> int:
    """Scan the name after ``.`` or ``$`` (already consumed)."""
    if _at_terminator(text, pos):
        return pos
    n = len(text)
    while pos < n and is_alnum(text[pos]):
        pos += 1
    if not _at_terminator(text, pos):
        raise LexError(f"bad character {_fmt_rune(text[pos])}", pos)
    return pos


def _scan_number(text: str, pos: int) -> tuple[bool, int]:
    n = len(text)

    def accept(valid: str) -> bool:
        nonlocal pos
        if pos < n and text[pos] in valid:
            pos += 1
            return True
        return False

    def accept_run(valid: str) -> None:
        nonlocal pos
        while pos < n and text[pos] in valid:
            pos += 1

    accept("+-")
    digits = "0123456789_"
    if accept("0"):
        if accept("xX"):
            digits = "0123456789abcdefABCDEF_"
        elif accept("oO"):
            digits = "01234567_"
        elif accept("bB"):
            digits = "01_"
    accept_run(digits)
    if accept("."):
        accept_run(digits)
    if len(digits) == 11 and accept("eE"):
        accept("+-")
        accept_run("0123456789_")
    if len(digits) == 23 and accept("pP"):
        accept("+-")
        accept_run("0123456789_")
    accept("i")
    if pos < n and is_alnum(text[pos]):
        return False, pos + 1
    return True, pos
