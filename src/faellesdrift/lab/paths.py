"""Where the lab keeps things: state under the repo's state dir, images in the user cache."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def repo_root(start: Path | None = None) -> Path:
    """The nearest directory above `start` (default: cwd) that holds pyproject.toml."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "pyproject.toml").is_file():
            return candidate
    return here


def state_dir() -> Path:
    """$FAELLESDRIFT_STATE, else <repo>/.state."""
    env = os.environ.get("FAELLESDRIFT_STATE")
    return Path(env).resolve() if env else repo_root() / ".state"


def cache_dir() -> Path:
    """${XDG_CACHE_HOME:-~/.cache}/faellesdrift."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "faellesdrift"


@dataclass(frozen=True)
class LabPaths:
    """Every file and directory of one lab."""

    root: Path  # <state>/lab
    cache: Path  # <cache>/lab

    @classmethod
    def default(cls) -> LabPaths:
        return cls(root=state_dir() / "lab", cache=cache_dir() / "lab")

    @classmethod
    def under(cls, state: Path, cache: Path) -> LabPaths:
        """The lab of a state dir, with images in a cache dir (both as Settings has them)."""
        return cls(root=state / "lab", cache=cache / "lab")

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"

    @property
    def credentials(self) -> Path:
        return self.root / "credentials.json"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def operator_key(self) -> Path:
        return self.keys / "operator_ed25519"

    @property
    def device_host_key(self) -> Path:
        return self.keys / "device_host_rsa"

    @property
    def known_hosts(self) -> Path:
        return self.root / "known_hosts"

    @property
    def ssh_config(self) -> Path:
        return self.root / "ssh_config"

    @property
    def devices(self) -> Path:
        return self.root / "devices"

    def device_config(self, name: str) -> Path:
        return self.devices / f"{name}.cfg"

    @property
    def devices_spec(self) -> Path:
        return self.root / "devices.json"

    @property
    def forwards_spec(self) -> Path:
        return self.root / "forwards.json"

    @property
    def services_spec(self) -> Path:
        return self.root / "services.json"

    @property
    def servers(self) -> Path:
        return self.root / "servers"

    def server_dir(self, name: str) -> Path:
        return self.servers / name

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def services_log(self) -> Path:
        """What the emulated shared services received (syslog lines, NTP/DNS queries)."""
        return self.logs / "services.jsonl"
