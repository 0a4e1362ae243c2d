"""The playbooks: ansible-lint clean (production profile), every fd_* variable comes from host vars."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from faellesdrift.servers.hostvars import CONTROLS

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


def test_ansible_lint_passes(tmp_path: Path) -> None:
    lint = Path(sys.executable).parent / "ansible-lint"
    if not lint.exists():
        pytest.fail("ansible-lint is missing: pip install -e '.[dev]'", pytrace=False)
    # a copy, so that ansible-lint's .ansible/ cache lands in tmp_path, not in the repo;
    # run from inside it, so that playbooks/ansible.cfg shows it the baseline's modules
    shutil.copytree(PLAYBOOKS, tmp_path / "playbooks")
    proc = subprocess.run([str(lint), "--offline", "--profile", "production", "."],
                          cwd=tmp_path / "playbooks", capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_the_roles_read_only_generated_variables() -> None:
    """Every fd_* name the playbooks use is one the host vars define (no defaults anywhere)."""
    generated = {c.var for c in CONTROLS} | {"fd_tenant", "fd_admin_group", "fd_admin_keys",
                                              "fd_sources", "fd_baseline_hash"}
    used: set[str] = set()
    for path in PLAYBOOKS.rglob("*"):
        if path.is_file() and path.suffix in (".yml", ".j2"):
            used |= set(re.findall(r"\bfd_[a-z_]+\b", path.read_text()))
    assert used == generated
    assert not list(PLAYBOOKS.glob("roles/*/defaults")), "roles take no defaults: host vars only"
