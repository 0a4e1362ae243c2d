"""`review` runs the platform's real plan (the Pulumi engine) for the changed tenant only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from faellesdrift.cli import app
from faellesdrift.platform import engine
from faellesdrift.platform.errors import PulumiMissing
from faellesdrift.settings import Settings
from tests.conftest import REPO
from tests.delivery.conftest import make_history

pytestmark = pytest.mark.pulumi

PROJECT = ("Pulumi.yaml", "Pulumi.lab.yaml", "stacks")


def test_review_plans_the_changed_tenants_stack_only(tmp_path: Path, monkeypatch) -> None:
    try:
        engine.find_cli(Settings.from_env(REPO))
    except PulumiMissing as exc:
        pytest.fail(f"this test needs the Pulumi CLI: {exc}", pytrace=False)
    for name in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE",
                 "PULUMI_CONFIG_PASSPHRASE_FILE", "FAELLESDRIFT_STACK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FAELLESDRIFT_STATE", str(tmp_path / "state"))
    history = make_history(tmp_path / "community", extra=PROJECT)
    result = CliRunner().invoke(app, ["review", "--base", "main", "--root", str(history.root),
                                      "--skip", "servers", "-o", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    platform = next(p for p in data["plans"] if p["id"] == "platform")
    assert platform["status"] == "done", platform
    assert platform["command"] == "faellesdrift plan --tenant odder -o json"
    assert set(platform["details"]["tenants"]) == {"odder"}
    odder = platform["details"]["tenants"]["odder"]
    assert odder["create"] > 0 and not platform["details"]["violations"]
    # the exceptions the change touches are reported as exempted resources of odder's plan
    assert any("ODD-EX-001" in e for e in platform["details"]["exempted"])
