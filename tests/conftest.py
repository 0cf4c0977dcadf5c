"""Shared test configuration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch, tmp_path):
    """Keep tests away from the user's real dirs and colour settings."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("DESKLINE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DESKLINE_CONFIG_DIR", str(tmp_path / "config"))
    # the developer's own config file and DESKLINE_SECTION__KEY settings stay out of the tests
    monkeypatch.delenv("DESKLINE_CONFIG", raising=False)
    for name in [n for n in os.environ if n.startswith("DESKLINE_") and "__" in n]:
        monkeypatch.delenv(name)
    yield


def real_helpdesks_required() -> bool:
    """True when the run must have the real helpdesks (./dev test and CI)."""
    return os.environ.get("DESKLINE_REAL_HELPDESKS") == "1" or os.environ.get("CI") == "true"
