"""Per-server cgroup directories, so each nspawn container (run with --keep-unit) has its own.

On a hybrid host (systemd's v1 hierarchy next to the unified v2 one) a server
needs a directory in both; on a pure v2 host only in /sys/fs/cgroup.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from faellesdrift.lab.errors import LabError

CGROUP = Path("/sys/fs/cgroup")


def roots() -> list[Path]:
    hybrid = [CGROUP / "unified", CGROUP / "systemd"]
    found = [r for r in hybrid if (r / "cgroup.procs").exists()]
    if found:
        return found
    if (CGROUP / "cgroup.controllers").exists():
        return [CGROUP]
    raise LabError(f"no usable cgroup hierarchy under {CGROUP}: systemd-nspawn cannot run here")


def dirs(name: str) -> list[Path]:
    return [root / name for root in roots()]


def names(prefix: str) -> list[str]:
    found: set[str] = set()
    for root in roots():
        found.update(p.name for p in root.iterdir()
                     if p.is_dir() and p.name.startswith(f"{prefix}-"))
    return sorted(found)


def _pids(top: Path) -> list[int]:
    found: list[int] = []
    for procs in [top / "cgroup.procs", *top.rglob("cgroup.procs")]:
        try:
            found += [int(p) for p in procs.read_text().split()]
        except (OSError, ValueError):
            pass
    return found


def kill(name: str, timeout: float = 5.0) -> None:
    """SIGKILL whatever is still in the server's cgroups (a container whose nspawn died)."""
    for top in dirs(name):
        if not top.exists():
            continue
        deadline = time.monotonic() + timeout
        while (pids := _pids(top)) and time.monotonic() < deadline:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)


def remove(name: str) -> None:
    """Remove the server's cgroup directories, deepest first, killing any process left."""
    kill(name)
    for top in dirs(name):
        if not top.exists():
            continue
        for sub in sorted((p for p in top.rglob("*") if p.is_dir()),
                          key=lambda p: len(p.parts), reverse=True):
            _rmdir(sub)
        _rmdir(top)


def _rmdir(path: Path) -> None:
    try:
        path.rmdir()
    except FileNotFoundError:
        pass
    except OSError as exc:
        procs = (path / "cgroup.procs").read_text().split() if path.exists() else []
        raise LabError(f"cannot remove cgroup {path}: {exc.strerror}"
                       f" (processes still in it: {' '.join(procs) or 'none'})") from None
