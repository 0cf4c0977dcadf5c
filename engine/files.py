"""Writing files so that a crash never leaves half of one.

Templates, OAuth2 tokens and the config file are all written through
:func:`atomic_write`: the data goes to a temporary file in the same folder,
is flushed to disk, and replaces the target in one ``os.replace``; the folder
is synced so the rename survives a power cut.  Readers see the old file or the
new one, never a mix.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Replace *path* with *data* atomically.

    ``private=True`` gives the file mode 0600 from its creation on (tokens,
    secrets); otherwise it gets 0644 less the process umask, like a plain open.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700 if private else 0o777)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # created 0600
    try:
        if not private:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fd, 0o644 & ~umask)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename in it) to disk; best effort where the OS can't."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
