"""engine.files.atomic_write: old file or new file, never half of one; private files are 0600."""

from __future__ import annotations

import os
import stat

import pytest

from engine import files
from engine.files import atomic_write


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_private_file_is_0600_and_public_follows_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "tokens.json", b"{}", private=True)
        atomic_write(tmp_path / "template.xml", b"<a/>")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "tokens.json") == 0o600
    assert _mode(tmp_path / "template.xml") == 0o644
    assert (tmp_path / "template.xml").read_bytes() == b"<a/>"


def test_a_failed_replace_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "template.xml"
    target.write_bytes(b"old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["template.xml"]


def test_creates_missing_folders(tmp_path):
    atomic_write(tmp_path / "a" / "b" / "c.txt", b"x")
    assert (tmp_path / "a" / "b" / "c.txt").read_bytes() == b"x"
