"""Processes the lab starts: launch detached, recognise by command line, stop by pid."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
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
    """True when pid runs and marker is one of its arguments (guards against pid reuse)."""
    if not pid:
        return False
    return marker in cmdline(pid) and not _zombie(pid)


def find(prefix: str) -> list[int]:
    """Every live process with an argument that starts with prefix."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            pid = int(entry.name)
            if any(arg.startswith(prefix) for arg in cmdline(pid)) and not _zombie(pid):
                found.append(pid)
    return sorted(found)


def alive_like(pid: int, prefix: str) -> bool:
    return any(a.startswith(prefix) for a in cmdline(pid)) and not _zombie(pid)


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


def stop(pids: Iterable[int], ours: Callable[[int], bool], timeout: float = 10.0) -> None:
    """SIGTERM each pid for which ours(pid) holds, wait, then SIGKILL what is left.

    `ours` is re-checked before every signal, so a recycled pid is never hit.
    """
    targets = [p for p in pids if ours(p)]
    for pid in targets:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while targets and time.monotonic() < deadline:
        for pid in targets:
            _reap(pid)
        targets = [p for p in targets if ours(p)]
        if targets:
            time.sleep(0.1)
    for pid in targets:
        _signal(pid, signal.SIGKILL)
    for pid in targets:
        for _ in range(50):
            _reap(pid)
            if not ours(pid):
                break
            time.sleep(0.1)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
