"""``./dev test`` (what CI runs through ``.ci/run``): exit codes, arguments and the helpdesks' env files.

The script runs in a copy of the repository's entry files with a stand-in venv whose
``python`` records its arguments and exits with a chosen code, so no install happens.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from tests.conftest import REPO

FAKE_PYTHON = """#!/bin/sh
printf '%s\\n' "$@" > "$0.args"
printf 'RT_URL=%s\\nDH_URL=%s\\nREAL=%s\\n' "$RT_URL" "$DH_URL" "$DESKLINE_REAL_HELPDESKS" > "$0.env"
exit "${FAKE_PYTEST_RC:-0}"
"""


@pytest.fixture
def dev_copy(tmp_path):
    """A directory holding ``dev`` and ``pyproject.toml`` (no scripts/, so no helpdesk starts) and a fake venv."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy2(REPO / "dev", root / "dev")
    shutil.copy2(REPO / "pyproject.toml", root / "pyproject.toml")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    stamp = venv / ".deskline-installed"
    stamp.touch()
    later = time.time() + 60
    os.utime(stamp, (later, later))  # newer than pyproject.toml: "already installed"
    return root, python


def _run_dev(root, python, rc: int, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("RT_", "DH_", "DESKLINE_"))}
    environ.update(DESKLINE_VENV=str(python.parent.parent), FAKE_PYTEST_RC=str(rc), **env)
    return subprocess.run(["bash", str(root / "dev"), "test", *args], cwd=root, env=environ,
                          capture_output=True, text=True, timeout=60)


def test_no_tests_collected_is_a_failure(dev_copy):
    root, python = dev_copy
    out = _run_dev(root, python, 5)
    assert out.returncode == 5
    assert "collected no tests" in out.stderr


@pytest.mark.parametrize("rc", [0, 1, 2])
def test_pytest_exit_code_and_arguments_pass_through(dev_copy, rc):
    root, python = dev_copy
    out = _run_dev(root, python, rc, "tests/test_cli.py", "-x")
    assert out.returncode == rc
    assert python.with_name("python.args").read_text().split() == ["-m", "pytest", "tests/test_cli.py", "-x"]
    assert "REAL=1" in python.with_name("python.env").read_text()


def test_env_files_are_read_from_rt_home_and_dh_home(dev_copy, tmp_path):
    """Helpdesks started on other homes/ports (RT_HOME, DH_HOME) are the ones the tests talk to."""
    root, python = dev_copy
    rt_home, dh_home = tmp_path / "rt", tmp_path / "dh"
    rt_home.mkdir()
    dh_home.mkdir()
    (rt_home / "env").write_text("RT_URL=http://127.0.0.1:28350\n")
    (dh_home / "env").write_text("DH_URL=http://127.0.0.1:28351\n")
    out = _run_dev(root, python, 0, RT_HOME=str(rt_home), DH_HOME=str(dh_home))
    assert out.returncode == 0, out.stderr
    seen = python.with_name("python.env").read_text()
    assert "RT_URL=http://127.0.0.1:28350" in seen and "DH_URL=http://127.0.0.1:28351" in seen


def test_ci_runs_exactly_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    assert [line for line in ci.splitlines() if line.startswith("exec ")] == ["exec ./dev test"]
    assert "./dev test" in (REPO / "README.md").read_text().split("## ", 2)[1]  # in the opening section
