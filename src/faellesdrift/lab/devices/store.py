"""A device's running config: shared by all its sessions, saved to <state>/lab/devices/<name>.cfg."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from faellesdrift.lab.devices.ios import STYLES
from faellesdrift.lab.state import write_atomic


def seed_lines(platform: str, text: str) -> tuple[str, ...]:
    """A config file as the device loads it: the lines its running config starts with.

    Comment lines (``!``, ``#``) and IOS's closing ``end`` are dropped, banner
    text is kept as it is; Junos statements are stored without their leading
    ``set``; FortiOS blocks are kept as they are.
    """
    out: list[str] = []
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        i += 1
        stripped = line.strip()
        if not stripped or stripped.startswith(("!", "#")) \
                or (stripped == "end" and platform != "fortinet"):
            continue
        if platform == "juniper_junos":
            out.append(line.removeprefix("set "))
            continue
        out.append(line)
        words = line.split()
        if words[0] == "banner" and len(words) <= 3 and not _one_line_banner(words) \
                and platform in STYLES:
            end = STYLES[platform].banner_end
            while i < len(lines):
                out.append(lines[i].rstrip())
                i += 1
                if out[-1].strip() == end:
                    break
    return tuple(out)


def _one_line_banner(words: list[str]) -> bool:
    """``banner motd ^Ctext^C`` (or ``#text#``): the whole banner on its first line."""
    rest = words[2] if len(words) > 2 else ""
    delim = "^C" if rest.startswith("^C") else rest[:1]
    return len(rest) > 2 * len(delim) and rest.endswith(delim)


@dataclass
class DeviceStore:
    name: str
    platform: str
    path: Path
    username: str
    lines: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    delay: float = 0.0  # seconds a `show` of the config takes (a slow or hung device)

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


# name -> store; filled by the emulator before its hosts start
REGISTRY: dict[str, DeviceStore] = {}
