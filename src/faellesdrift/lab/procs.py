"""Processes the lab starts: launch detached, recognise by command line, stop by pid."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from faellesdrift.lab.errors import LabError


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def alive(pid: int | None, marker: str) -> bool:
    """True when pid runs and its command line contains marker (guards against pid reuse)."""
    if not pid:
        return False
    return marker in " ".join(cmdline(pid)) and not _zombie(pid)


def find(marker: str) -> list[int]:
    """Every live process whose command line contains marker."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            if alive(int(entry.name), marker):
                found.append(int(entry.name))
    return sorted(found)


def spawn(argv: Sequence[str], log: Path, env: dict[str, str] | None = None) -> int:
    """Start argv in its own session (it outlives the CLI); output goes to log."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        try:
            proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    env={**os.environ, **(env or {})})
        except OSError as exc:
            raise LabError(f"cannot start {argv[0]}: {exc}") from None
    return proc.pid


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def stop(pids: Iterable[int], marker: str, timeout: float = 10.0) -> None:
    """SIGTERM each pid that still matches marker, wait, then SIGKILL what is left."""
    targets = [p for p in pids if alive(p, marker)]
    for pid in targets:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while targets and time.monotonic() < deadline:
        for pid in targets:
            _reap(pid)
        targets = [p for p in targets if alive(p, marker)]
        if targets:
            time.sleep(0.1)
    for pid in targets:
        _signal(pid, signal.SIGKILL)
    for pid in targets:
        for _ in range(50):
            _reap(pid)
            if not alive(pid, marker):
                break
            time.sleep(0.1)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
