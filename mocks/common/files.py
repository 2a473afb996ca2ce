"""Store files readable by their owner only: the SQLite file, and so its WAL and shared memory.

A fake's store holds every request of the journal, demo keys included; on a shared machine
no other user should read it. `create_private(path)` creates the file 0600 (and a missing
folder 0700) before SQLite opens it; SQLite gives the `-wal`, `-shm` and `-journal` files it
creates next to it the mode of the database file, so they are 0600 too. An existing file
keeps the mode its owner gave it.
"""
from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def create_private(path: str | Path) -> None:
    """Create `path` empty and owner-only unless it exists (the umask may only remove bits)."""
    path = Path(path)
    path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass
