"""Per-server cgroup directories, so each nspawn container (run with --keep-unit) has its own.

On a hybrid host (systemd's v1 hierarchy next to the unified v2 one) a server
needs a directory in both; on a pure v2 host only in /sys/fs/cgroup.
"""

from __future__ import annotations

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


def remove(name: str) -> None:
    """Remove the server's cgroup directories, deepest first; they must hold no process."""
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
