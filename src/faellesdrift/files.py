"""State files written safely: readers see the old or the new file, never half of one.

Every artefact and result file of the state directory is written through here, and a
writer that read-modify-writes a file holds its lock (``locked``) while it does.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def write_text_atomic(path: Path, text: str, *, mode: int = 0o600, durable: bool = False) -> None:
    """Write ``text`` in one rename; ``durable`` also waits until it is on disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_json_atomic(path: Path, data: Any, *, mode: int = 0o600, durable: bool = False) -> None:
    """``data`` as stable, readable JSON (sorted keys, UTF-8 as is), written in one rename."""
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True, default=str) + "\n"
    write_text_atomic(path, text, mode=mode, durable=durable)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``path`` (a ``.<name>.lock`` file beside it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
