"""TUI test setup: snapshots go to the top-level ``snapshots/`` folder.

pytest-textual-snapshot (pinned to 1.1.0 in pyproject) has no option for the
folder, so its SVG extension's ``dirname`` is overridden here.
"""

from __future__ import annotations

from pathlib import Path

import pytest_textual_snapshot

SNAPSHOT_ROOT = Path(__file__).resolve().parents[2] / "snapshots"


class _TopLevelSVGExtension(pytest_textual_snapshot.SVGImageExtension):
    @classmethod
    def dirname(cls, *, test_location) -> str:
        return str(SNAPSHOT_ROOT / test_location.basename)


# snap_compare looks the class up as a module global at call time
pytest_textual_snapshot.SVGImageExtension = _TopLevelSVGExtension
