"""Static questions about a template, for the linter: does it parse, which variables does it read."""

from __future__ import annotations

from dataclasses import dataclass

from .exceptions import TemplateSyntaxError, located, position
from .nodes import (
    ActionNode, BranchNode, ChainNode, FieldNode, ListNode, PipeNode, TemplateNode,
    VariableNode,
)
from .parser import ParseError, parse


@dataclass(frozen=True, slots=True)
class VariableRef:
    """A top-level variable read from dot: ``.Phone`` -> ``VariableRef("Phone", line, col)`` (1-based)."""

    name: str
    line: int
    col: int


def check_syntax(text: str, name: str = "tpl") -> TemplateSyntaxError | None:
    """Parse *text* in the PBX dialect; return the located syntax error, or None when it parses.

    Unknown function names are syntax errors (as on the PBX).
    """
    from .template import compile_template
    try:
        compile_template(text, name)
    except TemplateSyntaxError as e:
        return e
    return None


def referenced_variables(text: str) -> list[VariableRef]:
    """The top-level names the template reads from dot, in order of appearance.

    ``.Phone`` and ``.a.b`` (-> ``a``) at the top level, in ``if``/``with``/
    ``range`` conditions and their ``else`` branches, inside pipelines and
    parenthesised arguments, and ``$.X`` anywhere (``$`` is always the data).
    Not reported: fields read inside a ``with``/``range`` body (dot is the
    rebound value there), inside ``{{define}}``/``{{block}}`` bodies (dot is
    whatever the caller passes), and through variables other than ``$``.
    Unknown function names are accepted here (``check_syntax`` reports them).
    Raises :class:`TemplateSyntaxError` when the text does not parse.
    """
    try:
        trees = parse(text, "tpl", lambda n: True, dialect="pbx")
    except ParseError as e:
        raise located(TemplateSyntaxError, text, "tpl", e.pos, e.message) from None
    refs: list[VariableRef] = []

    def add(name: str, pos: int) -> None:
        line, col = position(text, pos)
        refs.append(VariableRef(name, line, col))

    def arg(n, root: bool) -> None:
        if isinstance(n, FieldNode):
            if root:
                add(n.ident[0], n.pos)
        elif isinstance(n, VariableNode):
            if n.ident[0] == "$" and len(n.ident) > 1:
                add(n.ident[1], n.pos)
        elif isinstance(n, PipeNode):
            pipe(n, root)
        elif isinstance(n, ChainNode):
            arg(n.node, root)

    def pipe(p: PipeNode, root: bool) -> None:
        for c in p.cmds:
            for a in c.args:
                arg(a, root)

    def walk(n, root: bool) -> None:
        if isinstance(n, ListNode):
            for x in n.nodes:
                walk(x, root)
        elif isinstance(n, ActionNode):
            pipe(n.pipe, root)
        elif isinstance(n, BranchNode):
            pipe(n.pipe, root)
            walk(n.list, root and n.kind == "if")
            if n.else_list is not None:
                walk(n.else_list, root)
        elif isinstance(n, TemplateNode):
            if n.pipe is not None:
                pipe(n.pipe, root)

    main = trees.get("tpl")
    for tname, tree in trees.items():
        walk(tree, tname == "tpl" and tree is main)
    refs.sort(key=lambda r: (r.line, r.col))
    return refs
