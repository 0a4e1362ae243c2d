"""One settings object for network runs, built at the edge from the global Settings."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from faellesdrift.network.errors import NetworkError
from faellesdrift.settings import Settings

Target = Literal["auto", "lab", "estate"]
MAX_WORKERS = 50  # more sessions than this time out on the emulated gear (FACTS)


@dataclass(frozen=True)
class NetworkSettings:
    root: Path
    state_dir: Path
    audit_log: Path
    target: Target = "auto"  # lab: the emulated devices; estate: the management addresses
    workers: int = 20
    conn_timeout: float = 5.0  # TCP connect
    auth_timeout: float = 15.0  # SSH banner and authentication
    read_timeout: float = 30.0  # waiting for one command's output, mid-session
    save: bool = True  # write the running config to startup after a verified push
    credentials_file: Path | None = None  # default: $FAELLESDRIFT_DEVICE_CREDENTIALS or the lab's

    @classmethod
    def from_settings(cls, settings: Settings, **overrides) -> NetworkSettings:
        env_target = os.environ.get("FAELLESDRIFT_NETWORK_TARGET")
        base = cls(root=settings.root, state_dir=settings.state_dir,
                   audit_log=settings.audit_log, target=env_target or "auto")  # type: ignore[arg-type]
        clean = {k: v for k, v in overrides.items() if v is not None}
        return base.with_(**clean)

    def with_(self, **changes) -> NetworkSettings:
        new = replace(self, **changes)
        if new.target not in ("auto", "lab", "estate"):
            raise NetworkError(f"target {new.target!r}: use auto, lab or estate "
                               "(--target or FAELLESDRIFT_NETWORK_TARGET)")
        if not 1 <= new.workers <= MAX_WORKERS:
            raise NetworkError(f"--workers {new.workers}: use 1..{MAX_WORKERS}")
        return new

    @property
    def backups(self) -> Path:
        return self.state_dir / "backups" / "network"

    @property
    def redaction_key(self) -> Path:
        """The key of the backups' secret markers: outside the repository, never committed."""
        return self.state_dir / "keys" / "redaction.key"

    @property
    def intended_dir(self) -> Path:
        return self.state_dir / "intended"

    @property
    def lab_dir(self) -> Path:
        return self.state_dir / "lab"

