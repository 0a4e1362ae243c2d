"""Network namespaces: `ip netns` for making them, setns(2) for entering one from Python.

Python 3.11 has no os.setns; setns through libc affects the calling thread only.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from faellesdrift.lab.errors import LabError
from faellesdrift.lab.sh import run

NETNS_DIR = Path("/run/netns")
CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd: int) -> None:
    """Move the calling thread into the network namespace open as fd."""
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise LabError(f"setns into network namespace failed: {os.strerror(err)}")


def path(name: str) -> Path:
    return NETNS_DIR / name


def exists(name: str) -> bool:
    return path(name).exists()


def names(prefix: str) -> list[str]:
    """Network namespaces whose name starts with '<prefix>-'."""
    if not NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(f"{prefix}-"))


def add(name: str) -> None:
    if not exists(name):
        run(["ip", "netns", "add", name])
        ip(name, "link", "set", "lo", "up")


def delete(name: str) -> None:
    if exists(name):
        run(["ip", "netns", "delete", name], check=False)
        if exists(name):  # a stale mount point whose namespace is gone
            try:
                path(name).unlink()
            except OSError as exc:
                raise LabError(f"cannot remove network namespace {name}: {exc}") from None


def ip(ns: str, *args: str, check: bool = True) -> str:
    """`ip -n ns ARGS`, returning stdout."""
    return run(["ip", "-n", ns, *args], check=check).stdout


def ip_batch(ns: str, commands: list[str]) -> None:
    """Many `ip` commands in one process (`ip -n ns -batch -`): fast bring-up."""
    if commands:
        run(["ip", "-n", ns, "-batch", "-"], input="\n".join(commands) + "\n")


def sysctl(ns: str, key: str, value: str) -> None:
    run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", f"{key}={value}"])


def links(ns: str) -> set[str]:
    if not exists(ns):
        return set()
    out = ip(ns, "-o", "link", "show", check=False)
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line}
