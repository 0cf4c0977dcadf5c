"""The documentation stays true to the code where that is cheap to check.

* every ``deskline ...`` command shown in README.md and docs/*.md parses with ``tui.cli.build_parser``,
  and every subcommand the parser has is shown in README.md;
* the lint-code table of docs/templates.md lists exactly the codes the template engine can report;
* the settings tables of docs/configuration.md list exactly the keys of ``engine.config`` with their
  real defaults;
* relative links between the documents point at files that exist.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import io
import json
import re
import shlex
from pathlib import Path

import pytest

from engine.config import SECTIONS
from tui.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```(\w*)\s*$")
INLINE = re.compile(r"`(deskline(?: [^`]*)?)`")
PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]*$")


# -- commands -------------------------------------------------------------------------------------

def _command_from_line(line: str) -> str | None:
    """The ``deskline ...`` part of a shell line (after a prompt, env assignments or a pipe)."""
    line = line.strip()
    if line.startswith("$ "):
        line = line[2:]
    m = re.search(r"(?:^|\|\s*|^(?:[A-Z_][A-Z0-9_]*=\S*\s+)+)(deskline(?:\s.*)?)$", line)
    return m.group(1) if m else None


def shown_commands(path: Path) -> list[tuple[int, str]]:
    """(line number, command) of every deskline command a markdown file shows.

    In ``bash``/``sh``/``console`` blocks every line is a command line; in other blocks only lines
    with a ``$ `` prompt are (the rest is output); outside blocks, inline code spans.
    """
    out: list[tuple[int, str]] = []
    lang: str | None = None
    pending = ""
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fence = FENCE.match(raw.strip())
        if fence:
            lang = None if lang is not None else fence.group(1)
            continue
        if lang is None:
            out.extend((number, m.group(1).replace("\\|", "|")) for m in INLINE.finditer(raw))
            continue
        is_shell = lang in ("bash", "sh", "console", "shell")
        if not is_shell and not raw.lstrip().startswith("$ "):
            continue
        text = pending + raw.strip()
        if text.endswith("\\"):
            pending = text[:-1] + " "
            continue
        pending = ""
        command = _command_from_line(text)
        if command is not None:
            out.append((number, command))
    return out


def _placeholder_form(argv: list[str]) -> bool:
    """Synopsis notation rather than a command: ``deskline COMMAND --help``, ``list|import|...``."""
    return any("|" in a for a in argv) or (len(argv) > 0 and argv[0].isupper())


def _parse(argv: list[str]) -> str | None:
    """None when *argv* parses, else argparse's message."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            build_parser().parse_args(argv)
        except SystemExit as exc:
            if exc.code not in (0, None):  # --help / --version exit 0
                return err.getvalue().strip().splitlines()[-1] if err.getvalue() else f"exit {exc.code}"
    return None


def _all_commands() -> list[tuple[str, int, str]]:
    return [(p.relative_to(ROOT).as_posix(), n, c) for p in [README, *DOCS] for n, c in shown_commands(p)]


def test_every_shown_command_parses():
    checked, problems = 0, []
    mentions = set(_subcommands(build_parser()))  # `deskline try` in prose names a command, it is no call
    for where, number, command in _all_commands():
        argv = shlex.split(command, comments=True)[1:]
        if _placeholder_form(argv) or " ".join(argv) in mentions:
            continue
        checked += 1
        message = _parse(argv)
        if message is not None and any(PLACEHOLDER.match(a) for a in argv):
            # a metavar standing for a number (`outbox retry ID`): try it with a number in its place
            message = _parse(["1" if PLACEHOLDER.match(a) else a for a in argv])
        if message is not None:
            problems.append(f"{where}:{number}: {command!r}: {message}")
    assert not problems, "documented commands that do not parse:\n" + "\n".join(problems)
    assert checked >= 20, f"only {checked} commands found: is the extraction broken?"


def _subcommands(parser: argparse.ArgumentParser, prefix: str = "") -> list[str]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.append(f"{prefix}{name}")
                out.extend(_subcommands(sub, f"{prefix}{name} "))
    return out


def test_readme_shows_every_subcommand():
    shown = {" ".join(shlex.split(c, comments=True)[1:]) for _, c in shown_commands(README)}
    missing = [s for s in _subcommands(build_parser())
               if not any(c == s or c.startswith(s + " ") for c in shown)]
    assert not missing, f"README.md shows no 'deskline {missing[0]} ...' command (all missing: {missing})"


def test_extraction_reads_shell_lines_and_skips_output(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text("Run `deskline demo --headless` or `deskline.sqlite3`.\n"
                   "```bash\nFOO=1 deskline try CallJournal --template T \\\n  --dry-run   # comment\n"
                   "echo '{}' | deskline gjson a\n./dev test\n```\n"
                   "```text\n$ deskline template list\ndeskline demo: helpdesk http://x\n```\n", encoding="utf-8")
    assert [c for _, c in shown_commands(doc)] == [
        "deskline demo --headless",
        "deskline try CallJournal --template T  --dry-run   # comment",
        "deskline gjson a",
        "deskline template list",
    ]
    assert _parse(["try", "CallJournal"]) is not None  # --template is required: the check can fail
    assert _parse(["gjson", "a", "b", "c"]) is not None
    assert _parse(["template", "frobnicate"]) is not None


# -- lint codes -----------------------------------------------------------------------------------

def engine_lint_codes() -> set[str]:
    """Every finding code the template engine can produce, read from the source."""
    codes: set[str] = set()
    for path in sorted((ROOT / "engine" / "template").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else ""
            args = node.args
            if name in ("error", "warning", "info", "sev", "Finding") and args:
                last = args[-1]
            elif name == "template_error" and args:
                last = args[0]
            elif name == "getattr" and len(args) == 3 and isinstance(args[1], ast.Constant) and args[1].value == "code":
                last = args[2]  # the fallback code of a TemplateError without one
            else:
                continue
            if isinstance(last, ast.Constant) and isinstance(last.value, str):
                codes.add(last.value)
    return codes


def documented_lint_codes() -> set[str]:
    text = (ROOT / "docs" / "templates.md").read_text(encoding="utf-8")
    section = text.split("\n## Lint codes", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, flags=re.M))


def test_lint_codes_documented_and_real():
    real, documented = engine_lint_codes(), documented_lint_codes()
    assert len(real) > 40, "the code scan found too few codes: has the linter's shape changed?"
    assert not real - documented, f"lint codes missing from docs/templates.md: {sorted(real - documented)}"
    assert not documented - real, f"docs/templates.md documents codes the linter lacks: {sorted(documented - real)}"


def test_lint_code_scan_sees_the_codes_of_a_real_run(tmp_path):
    """The source scan is not blind: codes reported by the linter on a broken template are in it."""
    from engine.template.lint import lint_file

    bad = tmp_path / "bad.xml"
    bad.write_text('<?xml version="1.0"?>\n<Information Provider="pbx" Name="x" Key="x" AuthType="basic" '
                   'Bogus="1"><Scenarios/></Information>\n', encoding="utf-8")
    reported = {f.code for f in lint_file(bad)}
    assert {"invalid-value", "unknown-attribute", "missing-scenario"} <= reported
    assert reported <= engine_lint_codes()


# -- configuration ----------------------------------------------------------------------------------

def documented_settings() -> dict[str, str]:
    """``section.key`` -> the default column, from the settings tables of docs/configuration.md."""
    out: dict[str, str] = {}
    section = None
    for line in (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^### `\[(\w+)\]`", line)
        if heading:
            section = heading.group(1)
            continue
        if line.startswith("## "):
            section = None
        row = re.match(r"^\| `(\w+)` \| [^|]+ \| `([^`]*)` \|", line)
        if section in SECTIONS and row:
            out[f"{section}.{row.group(1)}"] = row.group(2)
    return out


def _default(f: dataclasses.Field) -> object:
    return f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]


def test_config_keys_documented_with_their_defaults():
    real = {f"{s}.{f.name}": json.dumps(_default(f)) for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)}
    documented = documented_settings()
    assert not real.keys() - documented.keys(), f"settings missing from docs/configuration.md: {sorted(real.keys() - documented.keys())}"
    assert not documented.keys() - real.keys(), f"docs/configuration.md documents unknown settings: {sorted(documented.keys() - real.keys())}"
    wrong = {k: (documented[k], v) for k, v in real.items() if documented[k] != v}
    assert not wrong, f"documented defaults differ from engine.config (documented, real): {wrong}"


# -- links ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("doc", [README, *DOCS], ids=lambda p: p.name)
def test_relative_links_resolve(doc):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0]
        if not (doc.parent / path).exists():
            broken.append(target)
    assert not broken, f"{doc.name}: links to missing files: {broken}"
