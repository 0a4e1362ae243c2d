"""A community repository with a git history: a base commit of the sample community and a
change to one tenant (Odder) — a new server, a renewed exception and a changed NTP value on
one device (the value its exception keeps on odd-core01)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

NEW_SERVER = "odd-app13"
RENEWED = "ODD-EX-002"
NTP_EXCEPTION, NTP_DEVICE = "ODD-EX-001", "odd-core01"

# (old, new) text edits of tenants/odder.yaml; each old text occurs once
ODDER_CHANGE = (
    # first in the list: a lab that starts one server per tenant starts this one
    ("servers:\n",
     ("servers:\n"
     f"  - {{name: {NEW_SERVER}, address: 10.27.10.23, os: debian12, role: app, vcpu: 2, "
     "memory_gb: 8, disk_gb: 100, criticality: medium, backup: daily}\n")),
    (("    approved_by: Driftsudvalget (board decision 2026-15)\n    approved_on: 2026-09-12\n"
     "    expires: 2027-09-01\n"),
     ("    approved_by: Driftsudvalget (board decision 2026-21)\n    approved_on: 2026-11-20\n"
     "    expires: 2027-11-15\n")),
    ("    value: [10.27.0.123]\n", "    value: [10.27.0.124]\n"),
)


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.dk",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.dk"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=env).stdout


def edit(path: Path, edits: tuple[tuple[str, str], ...]) -> None:
    text = path.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, f"{path.name}: {old!r} is not in the sample once"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class History:
    root: Path
    base: str  # the base commit
    change: str  # the commit with the change


def make_history(top: Path, *, extra: tuple[str, ...] = (), subdir: str = "") -> History:
    """community.yaml and tenants/ (plus ``extra`` paths of the checkout) committed on main,
    then the Odder change committed on a branch that is checked out. ``subdir``: the
    community lies in this directory of the repository."""
    root = top / subdir if subdir else top
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "community.yaml", root / "community.yaml")
    shutil.copytree(REPO / "tenants", root / "tenants")
    for rel in extra:
        src = REPO / rel
        if src.is_dir():
            shutil.copytree(src, root / rel, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, root / rel)
    (top / ".gitignore").write_text(".state/\n", encoding="utf-8")
    git(top, "init", "-q", "-b", "main")
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "the sample community")
    base = git(top, "rev-parse", "HEAD").strip()
    git(top, "checkout", "-q", "-b", "odder-change")
    edit(root / "tenants" / "odder.yaml", ODDER_CHANGE)
    git(top, "commit", "-q", "-am", "Odder: a new app server, ODD-EX-002 renewed, NTP on core")
    return History(root, base, git(top, "rev-parse", "HEAD").strip())


@pytest.fixture
def history(tmp_path: Path) -> History:
    return make_history(tmp_path / "community")
