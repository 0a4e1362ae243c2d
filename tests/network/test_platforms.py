"""Every supported platform end to end: validate names them, the lab seeds them from the
renderer, and backup, compliance and remediation run on the lab's own emulator."""

from __future__ import annotations

import re
import shutil
import typing
from pathlib import Path

import pytest

from faellesdrift import device_config, model
from faellesdrift.estate import Estate, validate
from faellesdrift.lab import spec as lab_spec
from faellesdrift.lab.devices.store import seed_lines
from faellesdrift.lab.plan import plan_from_estate
from faellesdrift.network import Filters, Status, backup, compliance, remediate
from faellesdrift.network.intended import render
from faellesdrift.network.inventory import ANSIBLE_NETWORK_OS
from faellesdrift.network.platforms import PLATFORMS
from tests.conftest import REPO, TODAY
from tests.network.conftest import BASE_PORT, NEW_PLATFORMS, fleet, lab_settings


def test_one_list_of_platforms_everywhere() -> None:
    supported = set(typing.get_args(model.Platform))
    assert set(PLATFORMS) == supported
    assert set(device_config.platforms()) == supported
    assert set(lab_spec.PLATFORMS) == supported
    assert set(ANSIBLE_NETWORK_OS) == supported


def test_validate_refuses_a_platform_no_adapter_handles(tmp_path: Path) -> None:
    shutil.copy(REPO / "community.yaml", tmp_path / "community.yaml")
    shutil.copytree(REPO / "tenants", tmp_path / "tenants")
    odder = tmp_path / "tenants" / "odder.yaml"
    odder.write_text(odder.read_text(encoding="utf-8").replace(
        "platform: arista_eos, address: 10.27.0.2", "platform: huawei_vrp, address: 10.27.0.2"),
        encoding="utf-8")
    findings = [f for f in validate(tmp_path, TODAY).findings if f.severity == "error"]
    line = next(f.one_line() for f in findings if "huawei_vrp" in f.one_line())
    assert "tenants/odder.yaml" in line and "network_devices[1].platform" in line
    for platform in sorted(PLATFORMS):
        assert f"'{platform}'" in line


@pytest.fixture
def mixed_fleet(mixed_estate: Estate, tmp_path_factory: pytest.TempPathFactory):
    """The new-platform devices as the lab seeds them: rendered, with known deviations."""
    plan = plan_from_estate(mixed_estate, 0, ["odder"])
    seeds = {d.name: (d.platform, "\n".join(d.config)) for d in plan.devices
             if d.name in NEW_PLATFORMS}
    deviations = {d.name: d.deviations for d in plan.devices if d.name in NEW_PLATFORMS}
    assert all(deviations.values()), deviations
    with fleet(seeds, BASE_PORT + 100, tmp_path_factory.mktemp("mixed-fleet")) as served:
        yield served


def test_backup_compliance_remediate_on_every_new_platform(
        mixed_estate: Estate, mixed_fleet, tmp_path: Path) -> None:
    estate = mixed_estate.subset(["odder"])
    only = Filters.of(host=list(NEW_PLATFORMS))
    settings = lab_settings(tmp_path, mixed_fleet)
    saved = backup(estate, settings, only)
    assert saved.ok and saved.counts["changed"] == len(NEW_PLATFORMS), saved.summary()
    for name in NEW_PLATFORMS:
        text = (settings.backups / "odder" / f"{name}.cfg").read_text()
        assert re.search(rf'hostname "?{name}"?$', text, re.MULTILINE)
        assert not re.search(r'\bpublic\b', text)  # a stray community is redacted
    before = compliance(estate, settings, only)
    assert before.ok and {h.host for h in before.noncompliant} == set(NEW_PLATFORMS)
    fixed = remediate(estate, settings, only, apply=True)
    assert [h.status for h in fixed.hosts] == [Status.CHANGED] * len(NEW_PLATFORMS), \
        [h.reason for h in fixed.hosts]
    after = compliance(estate, settings, only)
    assert after.ok and not after.noncompliant, [h.reason for h in after.hosts]
    assert after.host("odd-fgt08").exceptions == ("ODD-EX-002",)
    assert '        set name "fw-vendor-ro"' in mixed_fleet.running("odd-fgt08")  # kept
    backup(estate, settings, only)
    assert "fw-vendor-ro" not in (settings.backups / "odder" / "odd-fgt08.cfg").read_text()


def test_the_lab_seeds_devices_with_the_rendered_intended_config(estate: Estate) -> None:
    """One renderer: a lab device starts from its intended config, minus its known drift."""
    device = next(d for d in plan_from_estate(estate, 0, ["odder"]).devices
                  if d.name == "odd-fire04")
    assert device.deviations == ("net.ntp.servers: missing ntp server 10.250.0.124",)
    intended = seed_lines("juniper_junos", render(estate, estate.host("odd-fire04")).text)
    assert [line for line in intended if line != "system ntp server 10.250.0.124"] == \
        list(device.config)
