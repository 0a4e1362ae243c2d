"""Processes the lab starts: launch detached, recognise by command line, stop by pid.

A process spawned by *this* Python process is judged by its pid (Popen.poll, which
also reaps it): its command line is not to be trusted right after the spawn — during
execve /proc/<pid>/cmdline is briefly empty, and a `sh -c … exec` shows the shell's
arguments until the exec. Processes started by an earlier CLI run are recognised by
a marker argument (guards against pid reuse).
"""

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


_children: dict[int, subprocess.Popen[bytes]] = {}  # spawned by this process, by pid


def child_running(pid: int | None) -> bool | None:
    """For a process this process spawned: is it still running? None for any other pid."""
    proc = _children.get(pid) if pid else None
    if proc is None:
        return None
    if proc.poll() is None:
        return True
    del _children[pid]  # exited and reaped: the pid may be reused from now on
    return False


def alive(pid: int | None, marker: str) -> bool:
    """True when pid runs and is the lab's: our own child (judged by pid), or any
    process with marker as one of its arguments (guards against pid reuse)."""
    if not pid:
        return False
    mine = child_running(pid)
    if mine is not None:
        return mine
    return marker in cmdline(pid) and not _zombie(pid)


def find(marker: str, *, prefix: bool = False) -> list[int]:
    """Every live process with marker as one of its arguments (prefix=True: an argument
    starting with marker — give the marker its separator, e.g. `…/<p>-srv-`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            pid = int(entry.name)
            args = cmdline(pid)
            hit = any(a.startswith(marker) for a in args) if prefix else marker in args
            if hit and not _zombie(pid):
                found.append(pid)
    return sorted(found)


def alive_like(pid: int, prefix: str) -> bool:
    mine = child_running(pid)
    if mine is not None:
        return mine
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
    _children[proc.pid] = proc  # judged (and reaped) by pid: see child_running
    return proc.pid


def _reap(pid: int) -> None:
    if child_running(pid) is not None:
        return  # Popen.poll reaped it (or it still runs)
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def wait_until(ready: Callable[[], bool], running: Callable[[], bool], timeout: float,
               what: str, log: Path, interval: float = 0.1) -> None:
    """Poll until ready(); fail at once when not running(), or after timeout, with the log tail.

    running() is checked after ready() in each round, so a process that announced
    readiness and then ended is still judged ready.
    """
    deadline = time.monotonic() + timeout
    while not ready():
        if not running():
            if ready():
                return
            raise LabError(f"{what} exited while starting (log: {log}):\n{tail(log)}")
        if time.monotonic() > deadline:
            raise LabError(f"{what} not ready within {timeout:.0f} s (log: {log}):\n{tail(log)}")
        time.sleep(interval)


def tail(path: Path, lines: int = 8) -> str:
    """The last lines of a log, indented, for an error message."""
    try:
        text = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "  (no log)"
    return "\n".join(f"  {ln}" for ln in text[-lines:]) if text else "  (empty log)"


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
