"""The lab's record of what it made: one JSON file, written atomically under a lock.

The record is what `down` undoes; discovery by name prefix (teardown.py)
catches whatever a crash kept out of it.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faellesdrift.lab.errors import LabError
from faellesdrift.lab.paths import LabPaths

VERSION = 1


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Write text so that readers see the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


@dataclass
class LabState:
    """Objects and processes the lab made, by kind and name."""

    prefix: str
    segments: dict[str, dict[str, Any]] = field(default_factory=dict)
    servers: dict[str, dict[str, Any]] = field(default_factory=dict)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    processes: dict[str, dict[str, Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, paths: LabPaths, prefix: str) -> LabState:
        if not paths.state_file.exists():
            return cls(prefix=prefix)
        try:
            raw = json.loads(paths.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LabError(f"{paths.state_file}: unreadable ({exc}); run `faellesdrift lab down`"
                           " then remove the file") from None
        if raw.get("version") != VERSION:
            raise LabError(f"{paths.state_file}: version {raw.get('version')} is not {VERSION};"
                           " run `faellesdrift lab down` with the version that made it")
        return cls(prefix=raw.get("prefix", prefix), segments=raw.get("segments", {}),
                   servers=raw.get("servers", {}), devices=raw.get("devices", {}),
                   processes=raw.get("processes", {}), settings=raw.get("settings", {}))

    def save(self, paths: LabPaths) -> None:
        data = {"version": VERSION, "prefix": self.prefix, "settings": self.settings,
                "segments": self.segments, "servers": self.servers, "devices": self.devices,
                "processes": self.processes}
        write_atomic(paths.state_file, json.dumps(data, indent=2, sort_keys=True) + "\n")

    @property
    def empty(self) -> bool:
        return not (self.segments or self.servers or self.devices or self.processes)


@contextmanager
def locked(paths: LabPaths) -> Iterator[None]:
    """Serialise lab changes across processes (two `lab up` at once wait for each other)."""
    paths.root.mkdir(parents=True, exist_ok=True)
    with open(paths.lock_file, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
