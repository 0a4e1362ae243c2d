"""One settings object built at the edge (the CLI) and passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from faellesdrift.community import STANDARDS_FILE
from faellesdrift.errors import ConfigError


def find_root(start: Path | None = None) -> Path:
    """The community repository: $FAELLESDRIFT_ROOT, or the nearest parent with community.yaml."""
    env = os.environ.get("FAELLESDRIFT_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / STANDARDS_FILE).is_file():
            return candidate
    raise ConfigError(
        f"no {STANDARDS_FILE} in {here} or its parents — run inside a community repository "
        "or set FAELLESDRIFT_ROOT"
    )


@dataclass(frozen=True)
class Settings:
    root: Path
    state_dir: Path
    cache_dir: Path

    @classmethod
    def from_env(cls, root: Path | None = None) -> Settings:
        root = root.resolve() if root else find_root()
        state = Path(os.environ.get("FAELLESDRIFT_STATE") or root / ".state").resolve()
        xdg = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return cls(root=root, state_dir=state, cache_dir=(xdg / "faellesdrift").resolve())

    def secure_state_dir(self) -> None:
        """Keep the state directory private (0700) once it exists: it holds the metering
        database, backups, exports, reports and the lab's keys."""
        try:
            mode = self.state_dir.stat().st_mode
        except FileNotFoundError:
            return  # created by the first command that writes state, then tightened here
        if mode & 0o077:
            self.state_dir.chmod(0o700)

    @property
    def audit_log(self) -> Path:
        return self.state_dir / "audit.jsonl"
