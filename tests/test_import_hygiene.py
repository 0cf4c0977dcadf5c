"""The engine is a UI-free library: importing any part of it loads no UI module."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

PROBE = r"""
import importlib, pkgutil, sys
import engine
names = []
for m in pkgutil.walk_packages(engine.__path__, "engine."):
    importlib.import_module(m.name)
    names.append(m.name)
bad = sorted(k for k in sys.modules if k.split(".")[0] in ("textual", "rich"))
print(len(names))
print(" ".join(bad))
"""


def test_engine_and_every_submodule_load_no_ui_module():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, check=True)
    count, bad = (out.stdout.splitlines() + ["", ""])[:2]
    assert bad == "", f"engine imports UI modules: {bad}"
    assert int(count) >= 1  # the walk really visited submodules


def test_probe_detects_a_ui_import(tmp_path):
    """The hygiene probe itself fails when a module pulls in textual."""
    pkg = tmp_path / "engine"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "bad.py").write_text("import textual\n")
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert "textual" in out.stdout.splitlines()[1]
