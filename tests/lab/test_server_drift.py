"""Lab servers start behind on patching, on servers chosen by position (no root needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from faellesdrift.estate import load_estate
from faellesdrift.lab import LabError, security_repo, server_drift
from faellesdrift.lab.plan import plan_from_estate

SEC, REBOOT = server_drift.SECURITY_UPDATE, server_drift.REBOOT_REQUIRED


def test_the_rotation_gives_each_kind_and_clean_hosts():
    grid = [[server_drift.choose(t, s) for s in range(3)] for t in range(3)]
    assert grid == [[(SEC,), (REBOOT,), ()], [(REBOOT,), (), (SEC,)], [(), (SEC,), (REBOOT,)]]


def test_the_plan_plants_by_the_tenants_place_in_the_community(sample_root: Path):
    estate = load_estate(sample_root)
    full = plan_from_estate(estate, servers_per_tenant=1)
    first = {t.slug: t.servers[0].deviations for t in full.tenants if t.servers}
    assert first["aarhus"] == (SEC,) and first["favrskov"] == (REBOOT,)
    assert first["horsens"] == ()
    # a lab of some tenants plants the same drift on the same servers
    some = plan_from_estate(estate, servers_per_tenant=1, tenants=["horsens", "favrskov"])
    assert {t.slug: t.servers[0].deviations for t in some.tenants} == {
        "favrskov": (REBOOT,), "horsens": ()}


def _image(root: Path) -> Path:
    release = root / security_repo.REPO.lstrip("/") / "dists" / security_repo.SUITE / "Release"
    release.parent.mkdir(parents=True)
    release.write_text("Label: Debian-Security\n")
    return root


def test_plant_writes_the_sources_entry_and_the_tmpfiles_rule(tmp_path: Path):
    root = _image(tmp_path / "root")
    server_drift.plant(root, (SEC, REBOOT))
    server_drift.plant(root, (SEC, REBOOT))  # idempotent
    assert (root / security_repo.SOURCES_FILE).read_text() == (
        "deb [trusted=yes] file:/srv/faellesdrift-lab/security bookworm-security main\n")
    rule = (root / server_drift.REBOOT_TMPFILES).read_text()
    assert "f /run/reboot-required 0644 root root - *** System restart required ***\\n" in rule
    assert "f /run/reboot-required.pkgs 0644 root root - libc6\\n" in rule


def test_plant_refuses_what_it_cannot_do(tmp_path: Path):
    with pytest.raises(LabError, match="no lab security suite"):
        server_drift.plant(tmp_path, (SEC,))
    with pytest.raises(LabError, match="unknown server drift 'x'"):
        server_drift.plant(tmp_path, ("x",))
    server_drift.plant(tmp_path, ())
    assert list(tmp_path.iterdir()) == []
