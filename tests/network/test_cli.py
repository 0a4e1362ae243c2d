"""The network CLI: exit codes, JSON, one-line errors (via CliRunner on a local app)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from faellesdrift import results
from faellesdrift.lab.devices.fleet import Fleet
from faellesdrift.network.cli import inventory_app, network_app
from faellesdrift.settings import Settings
from tests.conftest import REPO
from tests.network.conftest import lab_settings

app = typer.Typer()
app.add_typer(network_app, name="network")
app.add_typer(inventory_app, name="inventory")
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, odder_gear: Fleet, monkeypatch) -> dict[str, str]:
    settings = lab_settings(tmp_path, odder_gear)
    monkeypatch.delenv("FAELLESDRIFT_DEVICE_USER", raising=False)
    monkeypatch.delenv("FAELLESDRIFT_DEVICE_CREDENTIALS", raising=False)
    return {"FAELLESDRIFT_ROOT": str(REPO), "FAELLESDRIFT_STATE": str(settings.state_dir),
            "FAELLESDRIFT_NETWORK_TARGET": "lab"}


def test_compliance_json_and_exit_code(env) -> None:
    r = runner.invoke(app, ["network", "compliance", "--tenant", "odder", "-o", "json"], env=env)
    assert r.exit_code == 1, r.output  # seeded drift: not compliant
    data = json.loads(r.stdout[r.stdout.index("{"):])
    assert data["ok"] is True and data["counts"]["ok"] == 5
    assert {h["host"]: h["compliant"] for h in data["hosts"]}["odd-fire04"] is True


def _settings(env: dict[str, str], tmp_path: Path) -> Settings:
    return Settings(root=REPO, state_dir=Path(env["FAELLESDRIFT_STATE"]),
                    cache_dir=tmp_path / "cache")


def test_compliance_saves_the_selected_tenants_results(env, tmp_path: Path) -> None:
    settings = _settings(env, tmp_path)
    other = {"ok": True, "hosts": [{"host": "aar-core01", "status": "ok", "reason": "",
                                    "compliant": True, "exceptions": [], "controls": []}]}
    results.save(settings, "network.compliance", {"tenants": {"aarhus": other}})
    r = runner.invoke(app, ["network", "compliance", "--tenant", "odder"], env=env)
    assert r.exit_code == 1, r.output
    saved = results.load(settings, "network.compliance")
    assert saved is not None and set(saved["tenants"]) == {"aarhus", "odder"}
    assert saved["tenants"]["aarhus"]["hosts"] == other["hosts"]  # not in this run: kept
    odder = saved["tenants"]["odder"]
    assert odder["ok"] is False and odder["generated_at"]
    rows = {h["host"]: h for h in odder["hosts"]}
    assert set(rows) == {"odd-core01", "odd-acce03", "odd-dist02", "odd-fire04", "odd-wan05"}
    assert rows["odd-fire04"]["compliant"] is True and rows["odd-fire04"]["status"] == "ok"
    acce = rows["odd-acce03"]
    assert acce["compliant"] is False
    ntp = next(c for c in acce["controls"] if c["control"] == "net.ntp.servers")
    assert ntp["compliant"] is False and ntp["source"] == "standard"
    assert "ntp server 10.250.0.124" in ntp["missing"] and ntp["extra"] == []
    assert {"host", "status", "reason", "compliant", "exceptions", "controls"} <= set(acce)
    core = rows["odd-core01"]
    assert core["exceptions"] and any(
        c["source"] in core["exceptions"] and c["exception_status"] in ("active", "expiring")
        for c in core["controls"])
    assert "$1$mERr$hx5rVt7" not in json.dumps(saved)  # secrets stay out of results


def test_remediate_dry_run_then_apply_then_compliance_passes(env, tmp_path: Path) -> None:
    dry = runner.invoke(app, ["network", "remediate", "--tenant", "odder"], env=env)
    assert dry.exit_code == 0, dry.output
    assert results.load(_settings(env, tmp_path), "network.compliance") is None  # dry run
    assert "would push" in dry.output and "--apply" in dry.output
    applied = runner.invoke(app, ["network", "remediate", "--tenant", "odder", "--apply"],
                            env=env)
    assert applied.exit_code == 0, applied.output
    saved = results.tenant_entry(
        results.load(_settings(env, tmp_path), "network.compliance"), "odder")
    assert saved is not None and saved["ok"] is True  # the re-check after the push
    assert all(h["compliant"] is True for h in saved["hosts"])
    ok = runner.invoke(app, ["network", "compliance", "--tenant", "odder", "--site",
                             "Rådhuset"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "ODD-EX-001" in ok.output


def test_backup_exit_code_is_1_when_a_device_fails(env, odder_gear: Fleet) -> None:
    odder_gear.stop("odd-wan05")
    r = runner.invoke(app, ["network", "backup", "--tenant", "odder"], env=env)
    assert r.exit_code == 1
    assert "odd-wan05" in r.output and "unreachable" in r.output


def test_unknown_filter_value_is_one_line_exit_2(env) -> None:
    r = runner.invoke(app, ["network", "compliance", "--role", "router"], env=env)
    assert r.exit_code == 2
    assert "--role 'router' matches no network device" in r.output
    assert "Traceback" not in r.output


def test_intended_show_prints_the_config(env) -> None:
    r = runner.invoke(app, ["network", "intended", "--host", "odd-fire04", "--show",
                            "--no-write"], env=env)
    assert r.exit_code == 0, r.output
    assert 'set system login message "Authorised access only - Faellesdrift Midt"' in r.output
    assert "fw-vendor-ro" not in r.output


def test_inventory_build_check(tmp_path: Path) -> None:
    root = tmp_path / "community"
    root.mkdir()
    (root / "community.yaml").write_text((REPO / "community.yaml").read_text())
    (root / "tenants").mkdir()
    for f in (REPO / "tenants").glob("*.yaml"):
        (root / "tenants" / f.name).write_text(f.read_text())
    env = {"FAELLESDRIFT_ROOT": str(root)}
    assert runner.invoke(app, ["inventory", "build", "--check"], env=env).exit_code == 1
    assert runner.invoke(app, ["inventory", "build"], env=env).exit_code == 0
    r = runner.invoke(app, ["inventory", "build", "--check"], env=env)
    assert r.exit_code == 0 and "up to date" in r.output
