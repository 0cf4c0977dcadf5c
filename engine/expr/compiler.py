"""Compile parse trees into Python closures and run them.

Each node becomes a closure ``f(st, dot)``; commands become ``f(st, dot,
final)``.  The semantics follow Go's ``text/template/exec.go`` (BSD-3-Clause,
Copyright 2011 The Go Authors): argument checking, nil and missing values,
variables and their scopes, ``range``/``break``/``continue``, ``template``.
"""

from __future__ import annotations

from collections.abc import Mapping

from .escaping import ESCAPERS, EscapeError
from .functions import BUILTINS, FuncError, Function, pbx_text
from .nodes import (
    ActionNode, BoolNode, BranchNode, BreakNode, ChainNode, CommandNode, CommentNode, ContinueNode,
    DotNode, FieldNode, IdentifierNode, ListNode, NilNode, NumberNode, PipeNode, StringNode,
    TemplateNode, TextNode, VariableNode,
)
from .values import MISSING, format_value, go_type_name, is_true, sorted_keys

NOFINAL = object()
MAX_TEMPLATE_DEPTH = 200
# Bounds on one render, so a hostile template cannot hang the console or eat the memory (Go has
# none): range iterations plus template calls, characters written, and the length of a string a
# function returns (print/printf/urlquery... in a loop can double a value each time).
MAX_STEPS = 200_000
MAX_OUTPUT = 8 * 1024 * 1024
_CHECK_MASK = 63  # the output size is looked at every 64 steps


class ExecFailure(Exception):
    """An exec error at *node*; the renderer turns it into TemplateExecError."""

    def __init__(self, message: str, node, tree: str | None = None):
        super().__init__(message)
        self.message = message
        self.node = node
        self.tree = tree


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


_BREAK = _Break()
_CONTINUE = _Continue()


class State:
    """Everything one render needs: output, variables, options, escaper."""

    __slots__ = ("write", "vars", "missingkey", "depth", "estate", "tz", "trees", "tree", "out", "steps",
                 "size", "sized")

    def __init__(self, write, trees, missingkey: str, tz, tree: str, out: list[str] | None = None):
        self.write = write
        self.out = out  # the pieces written so far (for the size bound), when the writer keeps them
        self.steps = 0
        self.size = 0  # characters in out[:sized]
        self.sized = 0
        self.vars: list = []
        self.missingkey = missingkey
        self.depth = 0
        self.estate = 0  # the escaper's state (see engine.expr.escaping)
        self.tz = tz
        self.trees = trees
        self.tree = tree


def _fail(message: str, node):
    raise ExecFailure(message, node)


def _step(st: State, node) -> None:
    """Count one range iteration or template call; enforce MAX_STEPS and MAX_OUTPUT."""
    st.steps += 1
    if st.steps & _CHECK_MASK:
        return
    if st.steps > MAX_STEPS:
        _fail(f"the template does too much work: more than {MAX_STEPS:,} range iterations and template calls",
              node)
    out = st.out
    if out is not None and len(out) > st.sized:
        st.size += sum(map(len, out[st.sized:]))
        st.sized = len(out)
        if st.size > MAX_OUTPUT:
            _fail(f"the output is larger than {MAX_OUTPUT // (1024 * 1024)} MiB", node)


def show_go(v) -> str:
    """How Go prints an action's value (``<no value>`` for missing/nil)."""
    if type(v) is str:
        return v
    if v is MISSING or v is None:
        return "<no value>"
    return format_value(v)


def show_pbx(v) -> str:
    """How the PBX prints an action's value (missing/nil is empty)."""
    if type(v) is str:
        return v
    return pbx_text(v)


# ------------------------------------------------------------ runtime helpers

def var_value(st: State, name: str, node):
    vs = st.vars
    for i in range(len(vs) - 1, -1, -1):
        if vs[i][0] == name:
            return vs[i][1]
    _fail(f"undefined variable: {name}", node)


def set_var(st: State, name: str, value, node) -> None:
    vs = st.vars
    for i in range(len(vs) - 1, -1, -1):
        if vs[i][0] == name:
            vs[i][1] = value
            return
    _fail(f"undefined variable: {name}", node)


def eval_field(st: State, name: str, node, recv, has_args: bool):
    if recv is MISSING:
        if st.missingkey == "error":
            _fail(f'nil data; no entry for key "{name}"', node)
        return MISSING
    if isinstance(recv, Mapping):
        if has_args:
            _fail(f"{name} is not a method but has arguments", node)
        v = recv.get(name, MISSING)
        if v is MISSING:
            mk = st.missingkey
            if mk == "zero":
                return None
            if mk == "error":
                _fail(f'map has no entry for key "{name}"', node)
        return v
    if recv is None:
        _fail(f"nil pointer evaluating interface {{}}.{name}", node)
    _fail(f"can't evaluate field {name} in type {go_type_name(recv)}", node)


def eval_chain(st: State, recv, idents, node, has_args: bool):
    last = len(idents) - 1
    for i, name in enumerate(idents):
        recv = eval_field(st, name, node, recv, has_args and i == last)
    return recv


def ideal_constant(n: NumberNode):
    t = n.text
    if n.is_complex:
        return n.complex128
    is_hex_int = len(t) > 2 and t[0] == "0" and t[1] in "xX" and not any(c in t for c in "pP")
    if n.is_float and not is_hex_int and not t.startswith("'") and any(c in t for c in ".eEpP"):
        return n.float64
    if n.is_int:
        return n.int64
    if n.is_uint:
        _fail(f"{t} overflows int", n)
    return MISSING


def _check_string(v, node):
    if type(v) is str or isinstance(v, str):
        return v
    if v is MISSING:
        _fail("invalid value; expected string", node)
    _fail(f"wrong type for value; expected string; got {'interface {}' if v is None else go_type_name(v)}", node)


# ------------------------------------------------------------ compiler

class Compiler:
    """Turns the trees of one template into closures for one output kind."""

    def __init__(self, funcs: Mapping[str, Function], *, pbx: bool, context: str = "text"):
        self.funcs = funcs
        self.pbx = pbx
        self.escaper = ESCAPERS[context]
        self.escaped = self.escaper is not None
        self.show = show_pbx if pbx else show_go

    # -- lists and statements
    def list(self, lst: ListNode):
        nodes = [n for n in lst.nodes if not isinstance(n, CommentNode)]
        if not nodes:
            return lambda st, dot: None
        if len(nodes) == 1:
            return self.node(nodes[0])
        return self._generate(nodes)

    def _generate(self, nodes: list):
        """Generate one Python function for a list: text and simple ``{{.Field}}`` actions inline."""
        ns: dict = {"MISSING": MISSING, "EscapeError": EscapeError, "_fail": _fail, "show": self.show}
        lines = ["def run_list(st, dot):", "    w = st.write"]
        esc = self.escaper
        if esc is not None:
            ns["esc"] = esc.value
        for i, n in enumerate(nodes):
            if isinstance(n, TextNode):
                ns[f"T{i}"] = n.text
                lines.append(f"    w(T{i})")
                if esc is not None:
                    trans = tuple(esc.scan(n.text, s) for s in esc.STATES)
                    if any(trans[k] != s for k, s in enumerate(esc.STATES)):
                        ns[f"R{i}"] = trans
                        lines.append(f"    st.estate = R{i}[st.estate]")
                continue
            if isinstance(n, ActionNode) and self._simple_field(n):
                ns[f"P{i}"] = self.pipeline(n.pipe)
                ns[f"N{i}"] = n
                name = n.pipe.cmds[0].args[0].ident[0]
                lines += [
                    "    if type(dot) is dict:",
                    f"        v = dot.get({name!r})",
                    "        if type(v) is not str:",
                    f"            v = str(v) if type(v) is int else show(P{i}(st, dot))",
                    "    else:",
                    f"        v = show(P{i}(st, dot))",
                ]
                if esc is None:
                    lines.append("    w(v)")
                else:
                    lines += ["    try:", "        w(esc(st, v))", "    except EscapeError as e:",
                              f"        _fail(str(e), N{i}.pipe)"]
                continue
            f = self.node(n)
            if f is not None:
                ns[f"F{i}"] = f
                lines.append(f"    F{i}(st, dot)")
        exec(compile("\n".join(lines), "<template>", "exec"), ns)  # noqa: S102 - generated from the parse tree
        return ns["run_list"]

    @staticmethod
    def _simple_field(n: ActionNode) -> bool:
        cmds = n.pipe.cmds
        return (not n.pipe.decl and len(cmds) == 1 and len(cmds[0].args) == 1
                and isinstance(cmds[0].args[0], FieldNode) and len(cmds[0].args[0].ident) == 1)

    def node(self, n):
        if isinstance(n, TextNode):
            return self.text(n.text)
        if isinstance(n, ActionNode):
            return self.action(n)
        if isinstance(n, BranchNode):
            return self.range(n) if n.kind == "range" else self.if_with(n)
        if isinstance(n, CommentNode):
            return None
        if isinstance(n, BreakNode):
            def brk(st, dot):
                raise _BREAK
            return brk
        if isinstance(n, ContinueNode):
            def cont(st, dot):
                raise _CONTINUE
            return cont
        if isinstance(n, TemplateNode):
            return self.template(n)
        if isinstance(n, ListNode):
            return self.list(n)
        raise AssertionError(f"unknown node {n!r}")

    def text(self, t: str):
        if not self.escaped:
            def text(st, dot):
                st.write(t)
            return text
        esc = self.escaper
        trans = tuple(esc.scan(t, s) for s in esc.STATES)
        if all(trans[i] == s for i, s in enumerate(esc.STATES)):
            def text(st, dot):
                st.write(t)
        else:
            def text(st, dot):
                st.write(t)
                st.estate = trans[st.estate]
        return text

    def action(self, n: ActionNode):
        pipe = self.pipeline(n.pipe)
        if n.pipe.decl:
            return pipe
        show = self.show
        cmds = n.pipe.cmds
        simple = (len(cmds) == 1 and len(cmds[0].args) == 1 and isinstance(cmds[0].args[0], FieldNode)
                  and len(cmds[0].args[0].ident) == 1)
        escape = self.escaper.value if self.escaped else None
        if simple:
            name = cmds[0].args[0].ident[0]
            if escape is None:
                def action(st, dot):
                    if type(dot) is dict:
                        v = dot.get(name)
                        if type(v) is str:
                            st.write(v)
                            return
                    st.write(show(pipe(st, dot)))
            else:
                def action(st, dot):
                    if type(dot) is dict:
                        v = dot.get(name)
                        if type(v) is not str:
                            v = show(pipe(st, dot))
                    else:
                        v = show(pipe(st, dot))
                    try:
                        st.write(escape(st, v))
                    except EscapeError as e:
                        _fail(str(e), n.pipe)
            return action
        if escape is None:
            def action(st, dot):
                st.write(show(pipe(st, dot)))
        else:
            def action(st, dot):
                s = show(pipe(st, dot))
                try:
                    st.write(escape(st, s))
                except EscapeError as e:
                    _fail(str(e), n.pipe)
        return action

    def if_with(self, n: BranchNode):
        pipe = self.pipeline(n.pipe)
        body = self.list(n.list)
        other = self.list(n.else_list) if n.else_list is not None else None
        is_with = n.kind == "with"

        def branch(st, dot):
            vs = st.vars
            mark = len(vs)
            val = pipe(st, dot)
            if is_true(val):
                body(st, val if is_with else dot)
            elif other is not None:
                other(st, dot)
            del vs[mark:]
        return branch

    def range(self, n: BranchNode):
        pipe = self.pipeline(n.pipe)
        body = self.list(n.list)
        other = self.list(n.else_list) if n.else_list is not None else None
        decl = [v.ident[0] for v in n.pipe.decl]
        ndecl = len(decl)
        is_assign = n.pipe.is_assign

        def one(st, index, elem, mark):
            _step(st, n)
            if ndecl:
                if is_assign:
                    set_var(st, decl[0], index if ndecl > 1 else elem, n)
                else:
                    st.vars[-1][1] = elem
            if ndecl > 1:
                if is_assign:
                    set_var(st, decl[1], elem, n)
                else:
                    st.vars[-2][1] = index
            try:
                body(st, elem)
            except _Continue:
                pass
            finally:
                del st.vars[mark:]

        def rng(st, dot):
            vs = st.vars
            mark0 = len(vs)
            try:
                val = pipe(st, dot)
                mark = len(vs)
                ran = False
                try:
                    if isinstance(val, (list, tuple)):
                        if val:
                            ran = True
                            for i, elem in enumerate(val):
                                one(st, i, elem, mark)
                    elif isinstance(val, Mapping):
                        if val:
                            ran = True
                            for k in sorted_keys(val):
                                one(st, k, val[k], mark)
                    elif isinstance(val, int) and not isinstance(val, bool):
                        if ndecl > 1:
                            _fail(f"can't use {format_value(val)} to iterate over more than one variable", n.pipe)
                        if val > 0:
                            ran = True
                            typ = type(val)
                            for i in range(int(val)):
                                one(st, MISSING, typ(i), mark)
                    elif val is MISSING or val is None:
                        pass
                    else:
                        _fail(f"range can't iterate over {format_value(val)}", n.pipe)
                except _Break:
                    return
                if not ran and other is not None:
                    other(st, dot)
            finally:
                del vs[mark0:]
        return rng

    def template(self, n: TemplateNode):
        pipe = self.pipeline(n.pipe) if n.pipe is not None else None
        name = n.name

        def template(st, dot):
            f = st.trees.get(name)
            if f is None:
                _fail(f"template {name!r} not defined".replace("'", '"'), n)
            if st.depth >= MAX_TEMPLATE_DEPTH:
                _fail(f"exceeded maximum template depth ({MAX_TEMPLATE_DEPTH})", n)
            _step(st, n)
            new_dot = pipe(st, dot) if pipe is not None else MISSING
            saved = st.vars, st.tree
            st.vars = [["$", new_dot]]
            st.depth += 1
            st.tree = name
            try:
                f(st, new_dot)
            except ExecFailure as e:
                if e.tree is None:
                    e.tree = name
                raise
            finally:
                st.vars, st.tree = saved
                st.depth -= 1
        return template

    # -- pipelines and commands
    def pipeline(self, p: PipeNode):
        cmds = [self.command(c) for c in p.cmds]
        decl = [v.ident[0] for v in p.decl]
        is_assign = p.is_assign
        if len(cmds) == 1:
            c = cmds[0]

            def run(st, dot):
                v = c(st, dot, NOFINAL)
                return MISSING if v is None else v
        else:
            cmds = tuple(cmds)

            def run(st, dot):
                v = NOFINAL
                for c in cmds:
                    v = c(st, dot, v)
                    if v is None:
                        v = MISSING
                return v
        if not decl:
            return run
        if is_assign:
            def assign(st, dot):
                v = run(st, dot)
                for name in decl:
                    set_var(st, name, v, p)
                return v
            return assign

        def declare(st, dot):
            v = run(st, dot)
            for name in decl:
                st.vars.append([name, v])
            return v
        return declare

    def command(self, cmd: CommandNode):
        first = cmd.args[0]
        extra = len(cmd.args) > 1
        if isinstance(first, FieldNode):
            idents = first.ident
            if len(idents) == 1 and not extra:
                name = idents[0]

                def field1(st, dot, final):
                    if final is NOFINAL and type(dot) is dict:
                        v = dot.get(name, MISSING)
                        if v is not MISSING:
                            return v
                    return eval_field(st, name, first, dot, final is not NOFINAL)
                return field1

            def field(st, dot, final):
                return eval_chain(st, dot, idents, first, extra or final is not NOFINAL)
            return field
        if isinstance(first, ChainNode):
            if isinstance(first.node, NilNode):
                def nil_chain(st, dot, final):
                    _fail(f"indirection through explicit nil in {first}", first)
                return nil_chain
            recv = self.arg(first.node, "value")
            fields = first.field

            def chain(st, dot, final):
                r = recv(st, dot)
                return eval_chain(st, MISSING if r is None else r, fields, first, extra or final is not NOFINAL)
            return chain
        if isinstance(first, IdentifierNode):
            return self.call(first.ident, cmd.args[1:], first)
        if isinstance(first, VariableNode):
            name = first.ident[0]
            rest = first.ident[1:]

            def variable(st, dot, final):
                v = var_value(st, name, first)
                if not rest:
                    if extra or final is not NOFINAL:
                        _fail(f"can't give argument to non-function {first}", first)
                    return v
                return eval_chain(st, v, rest, first, extra or final is not NOFINAL)
            return variable
        # a literal, dot, nil or parenthesised pipeline: no arguments allowed
        if isinstance(first, PipeNode):
            inner = self.pipeline(first)
        elif isinstance(first, BoolNode):
            b = first.true
            inner = lambda st, dot: b  # noqa: E731
        elif isinstance(first, DotNode):
            inner = lambda st, dot: dot  # noqa: E731
        elif isinstance(first, NilNode):
            def inner(st, dot):
                _fail("nil is not a command", first)
        elif isinstance(first, NumberNode):
            inner = lambda st, dot: ideal_constant(first)  # noqa: E731
        elif isinstance(first, StringNode):
            s = first.text
            inner = lambda st, dot: s  # noqa: E731
        else:
            raise AssertionError(f"can't evaluate command {first}")

        def literal(st, dot, final):
            if extra or final is not NOFINAL:
                _fail(f"can't give argument to non-function {first}", first)
            return inner(st, dot)
        return literal

    def arg(self, n, kind: str):
        """Compile an argument evaluated for a parameter of *kind* (Go's evalArg)."""
        if kind == "string":
            if isinstance(n, StringNode):
                s = n.text
                return lambda st, dot: s
            if isinstance(n, NilNode):
                return lambda st, dot: _fail("cannot assign nil to string", n)
            if isinstance(n, (BoolNode, NumberNode)):
                return lambda st, dot: _fail(f"expected string; found {n}", n)
            inner = self.arg(n, "value")

            def string_arg(st, dot):
                v = inner(st, dot)
                if v is None:
                    v = MISSING if not isinstance(n, (FieldNode, VariableNode, ChainNode)) else v
                return _check_string(v, n)
            if isinstance(n, (FieldNode, VariableNode, ChainNode, DotNode)):
                raw = self._raw_value(n)

                def string_arg2(st, dot):
                    return _check_string(raw(st, dot), n)
                return string_arg2
            return string_arg
        # "value" / "any": nil allowed, missing becomes nil
        if isinstance(n, StringNode):
            s = n.text
            return lambda st, dot: s
        if isinstance(n, BoolNode):
            b = n.true
            return lambda st, dot: b
        if isinstance(n, NilNode):
            return lambda st, dot: None
        if isinstance(n, NumberNode):
            return lambda st, dot: ideal_constant(n)
        raw = self._raw_value(n)

        def any_arg(st, dot):
            v = raw(st, dot)
            return None if v is MISSING else v
        return any_arg

    def _raw_value(self, n):
        """The value of a dynamic argument node, MISSING kept (before Go's validateType)."""
        if isinstance(n, DotNode):
            return lambda st, dot: dot
        if isinstance(n, FieldNode):
            idents = n.ident
            if len(idents) == 1:
                name = idents[0]

                def field1(st, dot):
                    if type(dot) is dict:
                        v = dot.get(name, MISSING)
                        if v is not MISSING:
                            return v
                    return eval_field(st, name, n, dot, False)
                return field1
            return lambda st, dot: eval_chain(st, dot, idents, n, False)
        if isinstance(n, VariableNode):
            name, rest = n.ident[0], n.ident[1:]
            if not rest:
                return lambda st, dot: var_value(st, name, n)
            return lambda st, dot: eval_chain(st, var_value(st, name, n), rest, n, False)
        if isinstance(n, PipeNode):
            return self.pipeline(n)
        if isinstance(n, IdentifierNode):
            c = self.call(n.ident, [], n)
            return lambda st, dot: c(st, dot, NOFINAL)
        if isinstance(n, ChainNode):
            c = self.command(CommandNode(n.pos, [n]))
            return lambda st, dot: c(st, dot, NOFINAL)
        if isinstance(n, (StringNode, BoolNode, NumberNode)):
            f = self.arg(n, "value")
            return f
        if isinstance(n, NilNode):
            return lambda st, dot: None
        raise AssertionError(f"can't handle {n}")

    def call(self, name: str, arg_nodes: list, node):
        fn = self.funcs.get(name)
        if fn is None:  # unknown at run time (parse checks names; kept for safety)
            return lambda st, dot, final: _fail(f'"{name}" is not a defined function', node)
        if fn is BUILTINS.get(name) and name in ("and", "or"):
            return self._and_or(name, arg_nodes, node)
        params, variadic = fn.params, fn.variadic
        nparams = len(params)
        nargs = len(arg_nodes)
        arg_fs = []
        for i, a in enumerate(arg_nodes):
            kind = params[i] if i < nparams else variadic
            if kind is None:
                arg_fs = None
                break
            arg_fs.append(self.arg(a, kind))
        call_fn = fn.fn
        needs_tz = fn.needs_tz
        arg_fs = tuple(arg_fs) if arg_fs is not None else None

        def call(st, dot, final):
            has_final = final is not NOFINAL
            num_in = nargs + has_final
            if variadic is not None:
                if num_in < nparams:
                    _fail(f"wrong number of args for {name}: want at least {nparams} got {nargs}", node)
            elif num_in != nparams:
                _fail(f"wrong number of args for {name}: want {nparams} got {num_in}", node)
            argv = [f(st, dot) for f in arg_fs]
            if has_final:
                kind = params[num_in - 1] if num_in - 1 < nparams else variadic
                if kind == "string":
                    argv.append(_check_string(final, node))
                else:
                    argv.append(None if final is MISSING else final)
            try:
                result = call_fn(*argv, tz=st.tz) if needs_tz else call_fn(*argv)
                if isinstance(result, str) and len(result) > MAX_OUTPUT:
                    _fail(f"error calling {name}: the result is longer than {MAX_OUTPUT // (1024 * 1024)} MiB",
                          node)
                return result
            except (ExecFailure, _Break, _Continue):
                raise
            except RecursionError:
                raise
            except FuncError as e:
                _fail(f"error calling {name}: {e}", node)
            except Exception as e:  # a registered function failed
                _fail(f"error calling {name}: {e}", node)
        return call

    def _and_or(self, name: str, arg_nodes: list, node):
        arg_fs = tuple(self.arg(a, "value") for a in arg_nodes)
        want = name == "or"

        def and_or(st, dot, final):
            if not arg_fs and final is NOFINAL:
                _fail(f"wrong number of args for {name}: want at least 1 got 0", node)
            v = None
            for f in arg_fs:
                v = f(st, dot)
                if is_true(v) == want:
                    return v
            if final is not NOFINAL:
                v = None if final is MISSING else final
            return v
        return and_or
