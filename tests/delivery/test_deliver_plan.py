"""`faellesdrift deliver` without --yes: the steps it would run, limited to what changed."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from faellesdrift.cli import app
from tests.delivery.conftest import NEW_SERVER, NTP_DEVICE, History, edit


def _deliver(history: History, *argv: str):
    return CliRunner().invoke(app, ["deliver", "--base", "main", "--root", str(history.root),
                                    *argv])


def test_without_yes_it_shows_only_the_affected_steps(history: History, tmp_path) -> None:
    result = _deliver(history, "-o", "json", "--junit-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["applied"] is False and data["tenants"] == ["odder"]
    assert data["commit"] == history.change and data["base"] == history.base
    steps = {s["id"]: (s["status"], s["command"]) for s in data["steps"]}
    assert steps == {
        "platform": ("planned", "faellesdrift apply --tenant odder --yes"),
        "network": ("planned", f"faellesdrift network remediate --host {NTP_DEVICE} --apply"),
        "servers": ("planned", (f"faellesdrift servers apply --host {NEW_SERVER} --yes "
                               "--skip-plan")),
        "verify": ("planned", (f"faellesdrift verify --host {NEW_SERVER} --junit "
                              f"{tmp_path / 'verify.xml'}")),
        "compliance": ("planned", (f"faellesdrift network compliance --host {NTP_DEVICE} "
                                  f"--junit {tmp_path / 'network.xml'}")),
        "report": ("planned", "(built in: the transparency report)"),
    }
    assert data["audit_log"] is None  # nothing was done, nothing recorded


def test_table_output_says_nothing_was_changed(history: History) -> None:
    result = _deliver(history)
    assert result.exit_code == 0, result.output
    assert "nothing was changed; run again with --yes to deliver" in result.stdout


def test_uncommitted_changes_are_not_delivered(history: History) -> None:
    edit(history.root / "tenants" / "odder.yaml", (("population: 24000", "population: 1"),))
    result = _deliver(history, "--yes")
    assert result.exit_code == 1 and "uncommitted changes" in result.output


def test_no_change_nothing_to_deliver(history: History) -> None:
    result = CliRunner().invoke(app, ["deliver", "--base", "HEAD", "--root", str(history.root),
                                      "--yes", "-o", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["tenants"] == [] and data["steps"] == [] and data["ok"] is True


def test_a_removed_tenant_is_not_applied(history: History) -> None:
    from tests.delivery.conftest import git

    git(history.root, "rm", "-q", "tenants/horsens.yaml")
    git(history.root, "commit", "-q", "-m", "Horsens leaves")
    result = CliRunner().invoke(app, ["deliver", "--base", "main", "--root", str(history.root),
                                      "-o", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["tenants"] == ["horsens", "odder"]
    platform = next(s for s in data["steps"] if s["id"] == "platform")
    assert platform["command"] == "faellesdrift apply --tenant odder --yes"
