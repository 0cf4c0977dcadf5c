"""``deskline template lint|show|list|import|export|duplicate|delete``."""

from __future__ import annotations

import json
import sys


def run(args) -> int:
    action = args.template_command
    return {
        "lint": _lint, "show": _show, "list": _list, "import": _import, "export": _export,
        "duplicate": _duplicate, "delete": _delete,
    }[action](args)


def _lint(args) -> int:
    from engine.template.lint import exit_code, lint_file

    findings = []
    for path in args.files:
        findings.extend(lint_file(path))
    if args.json:
        json.dump([f.as_dict() for f in findings], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for f in findings:
            print(f)
        errors = sum(f.severity.value == "error" for f in findings)
        warnings = sum(f.severity.value == "warning" for f in findings)
        print(f"{len(args.files)} file(s): {errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return exit_code(findings, args.strict)


def _show(args) -> int:
    from pathlib import Path

    from engine.errors import LocatedError
    from engine.template.model import load_template
    from engine.template.summary import summarize

    try:
        path = Path(args.file)
        if not path.exists() and "/" not in args.file and args.file in _store().names():
            path = _store().path(args.file)  # a stored template by name
        template = load_template(path)
    except LocatedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(summarize(template))
    return 0


def _store():
    from engine.template.store import TemplateStore

    return TemplateStore()


def _refused(exc) -> int:
    print(f"error: {exc}", file=sys.stderr)
    return 2


def _list(args) -> int:
    from engine.template.store import MAX_TEMPLATES

    store = _store()
    items = store.list()
    if not items:
        print(f"no custom templates in {store.root} (import one with 'deskline template import FILE')")
        return 0
    for t in items:
        logo = f"logo {t.logo.width}x{t.logo.height}" if t.logo else "no logo"
        print(f"{t.name:24} {t.title}  (key {t.key}, version {t.version or '?'}, auth {t.auth_type or '?'}, {logo})")
    print(f"{len(items)} of {MAX_TEMPLATES} custom templates, in {store.root}", file=sys.stderr)
    return 0


def _import(args) -> int:
    from engine.errors import LocatedError

    try:
        result = _store().import_path(args.path, args.name)
    except LocatedError as exc:
        return _refused(exc)
    for f in result.findings:
        if f.severity.value != "info":
            print(f, file=sys.stderr)
    logo = result.stored.logo
    shown = f", logo {logo.format} {logo.width}x{logo.height}" if logo else ""
    print(f"imported {result.stored.title!r} as {result.stored.name}{shown}")
    return 0


def _export(args) -> int:
    from engine.errors import LocatedError

    try:
        written = _store().export(args.name, args.dest)
    except LocatedError as exc:
        return _refused(exc)
    for p in written:
        print(f"wrote {p}")
    return 0


def _duplicate(args) -> int:
    from engine.errors import LocatedError

    try:
        stored = _store().duplicate(args.name, args.new_name)
    except LocatedError as exc:
        return _refused(exc)
    print(f"copied {args.name} to {stored.name}")
    return 0


def _delete(args) -> int:
    from engine.errors import LocatedError

    try:
        _store().delete(args.name)
    except LocatedError as exc:
        return _refused(exc)
    print(f"deleted {args.name}")
    return 0
