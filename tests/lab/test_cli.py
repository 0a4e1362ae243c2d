"""The lab CLI's edges without bringing a lab up (no root needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from faellesdrift.lab import LabError, LabPaths, preflight
from faellesdrift.lab.cli import lab_app

runner = CliRunner()


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_root: Path) -> Path:
    monkeypatch.setenv("FAELLESDRIFT_ROOT", str(sample_root))
    monkeypatch.setenv("FAELLESDRIFT_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "state"


def test_not_root_is_one_clear_line(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(LabError, match="the lab needs root"):
        preflight(LabPaths.under(state, state))
    r = runner.invoke(lab_app, ["up", "--tenant", "odder"])
    assert r.exit_code == 1
    assert "the lab needs root" in r.output and "Traceback" not in r.output


def test_unknown_tenant_is_one_clear_line(state: Path) -> None:
    r = runner.invoke(lab_app, ["up", "--tenant", "nowhere"])
    assert r.exit_code == 1 and "no tenant 'nowhere'" in r.output


def test_status_without_a_lab(state: Path) -> None:
    r = runner.invoke(lab_app, ["status"])
    assert r.exit_code == 0 and "no lab in" in r.output
    r = runner.invoke(lab_app, ["status", "--output", "json"])
    assert r.exit_code == 0 and '"up": false' in r.output
    r = runner.invoke(lab_app, ["status", "--ssh-config"])
    assert r.exit_code == 1 and "run `faellesdrift lab up` first" in r.output


def test_dry_run_changes_nothing(state: Path) -> None:
    r = runner.invoke(lab_app, ["up", "--dry-run", "--servers-per-tenant", "2", "-t", "odder"])
    assert r.exit_code == 0 and "2 servers, 5 devices" in r.output
    assert not state.exists()
