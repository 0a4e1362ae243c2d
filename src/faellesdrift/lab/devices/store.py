"""A device's running config: shared by all its sessions, saved to <state>/lab/devices/<name>.cfg."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from faellesdrift.lab.state import write_atomic


@dataclass
class DeviceStore:
    name: str
    platform: str
    path: Path
    username: str
    lines: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    @classmethod
    def open(cls, name: str, platform: str, path: Path, username: str) -> DeviceStore:
        store = cls(name, platform, path, username)
        if path.exists():
            store.lines = [ln.rstrip("\n") for ln in path.read_text().splitlines() if ln.strip()]
        return store

    def replace(self, lines: list[str]) -> None:
        """Set and persist the running config (caller holds the lock)."""
        self.lines = list(lines)
        write_atomic(self.path, "\n".join(self.lines) + "\n")


# name -> store; filled by the emulator daemon before its hosts start
REGISTRY: dict[str, DeviceStore] = {}
