"""`faellesdrift pulumi drift` results (pulumi.drift) as the report shows them, per municipality."""

from __future__ import annotations

from pathlib import Path

from faellesdrift import results
from faellesdrift.platform import engine
from faellesdrift.platform.engine import EngineRun
from faellesdrift.reports.site import build_site
from faellesdrift.settings import Settings
from tests.conftest import TODAY

GONE = {"tenant": "odder", "resource": "odder/server/odd-file01", "type": "ServerPlacement",
        "status": "gone", "keys": []}
CHANGED = {"tenant": "odder", "resource": "odder/device/odd-core01",
           "type": "DeviceRegistration", "status": "changed", "keys": ["status"]}


def _settings(root: Path) -> Settings:
    return Settings(root=root, state_dir=root / ".state", cache_dir=root / ".cache")


def _drift(stack: str, drift: list[dict], *, ok: bool = True) -> EngineRun:
    run = EngineRun("drift", stack, "file:///x", ok=ok, drift=drift)
    run.error = None if ok else "the stack is currently locked"
    return run


def test_drift_runs_are_saved_per_tenant_and_the_shared_stack_for_the_community(
        community_copy: Path) -> None:
    settings = _settings(community_copy)
    engine.save(settings, _drift("lab.odder", [GONE, CHANGED]), ["odder"])
    engine.save(settings, _drift("lab.samsoe", [], ok=False), ["samsoe"])
    shared = {"tenant": "community", "resource": "shared/segment", "type": "SharedSegment",
              "status": "changed", "keys": ["status"]}
    engine.save(settings, _drift("lab.shared", [shared]), [])
    saved = results.load(settings, "pulumi.drift")
    assert saved is not None and "pulumi.drift" in results.KINDS
    assert saved["tenants"]["odder"]["drift"] == [GONE, CHANGED]
    assert saved["tenants"]["samsoe"]["ok"] is False
    assert saved["community"]["shared"]["drift"] == [shared]


def test_the_report_shows_drifted_objects_per_municipality(community_copy: Path) -> None:
    settings = _settings(community_copy)
    engine.save(settings, _drift("lab.odder", [GONE, CHANGED]), ["odder"])
    engine.save(settings, _drift("lab.samsoe", []), ["samsoe"])
    engine.save(settings, _drift("lab.aarhus", [], ok=False), ["aarhus"])
    site = build_site(settings, today=TODAY, lang="en")
    odder = site.tenant_page("odder").read_text(encoding="utf-8")
    assert "Changed outside Pulumi" in odder
    assert "2 object(s) of stack lab.odder differ from what Pulumi applied" in odder
    assert "<code>odder/server/odd-file01</code></td><td>ServerPlacement</td><td>gone" in odder
    assert "<code>odder/device/odd-core01</code>" in odder
    samsoe = site.tenant_page("samsoe").read_text(encoding="utf-8")
    assert "No object of stack lab.samsoe changed outside Pulumi" in samsoe
    aarhus = site.tenant_page("aarhus").read_text(encoding="utf-8")
    assert "The drift check could not read stack lab.aarhus" in aarhus
    viborg = site.tenant_page("viborg").read_text(encoding="utf-8")
    assert "faellesdrift pulumi drift --tenant viborg" in viborg  # which command to run
    da = build_site(settings, today=TODAY, lang="da").tenant_page("odder")
    assert "Ændret uden om Pulumi" in da.read_text(encoding="utf-8")
