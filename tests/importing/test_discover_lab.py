"""`faellesdrift discover` against the lab's emulated gear and Debian servers.

A lab of its own (prefix, ports, loopback and state of its own) for Samsø: four devices of
three platforms and four servers. The community it runs against is a copy in which the
tenant file differs from the live estate on purpose: one device's OS version, one server's
OS and a device missing from the file (discovered by address, platform told from
`show version`); the sample's Windows domain controller is skipped: not covered by the
Linux baseline.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from ipaddress import IPv4Network
from pathlib import Path

import pytest
from typer.testing import CliRunner

from faellesdrift.cli import app
from faellesdrift.estate import load_estate, validate
from faellesdrift.lab import Lab, LabError, LabSettings, cache_dir
from faellesdrift.lab.plan import plan_from_estate
from tests.conftest import REPO, TODAY
from tests.lab_paths import lab_paths_or_fail

pytestmark = pytest.mark.lab

SERVERS = ("sam-file01", "sam-dc02", "sam-db04", "sam-citr08")
SETTINGS = LabSettings(prefix="fddis", device_ports=(47500, 47599),
                       loopback=IPv4Network("127.212.0.0/16"))


def _plan():
    full = plan_from_estate(load_estate(REPO, TODAY), tenants=["samsoe"])
    (t,) = full.tenants
    return replace(full, tenants=(replace(t, servers=tuple(
        s for s in t.servers if s.name in SERVERS)),))


def _edited(root: Path) -> None:
    path = root / "tenants" / "samsoe.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in (
        ("role: core, site: Rådhuset, ports: 48}",
         "role: core, site: Rådhuset, ports: 48, os_version: 15.2(7)E3}"),
        (("  - {name: sam-acce03, platform: cisco_ios, address: 10.41.0.3, role: access, "
         "site: Materielgården, ports: 24}\n"), ""),
        ("name: sam-db04, address: 10.41.10.14, os: debian12",
         "name: sam-db04, address: 10.41.10.14, os: debian11"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def lab_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    state = tmp_path_factory.mktemp("discover-lab")
    root = tmp_path_factory.mktemp("community")
    shutil.copy(REPO / "community.yaml", root / "community.yaml")
    shutil.copytree(REPO / "tenants", root / "tenants")
    _edited(root)
    paths = lab_paths_or_fail(state, "the discovery lab test needs")
    lab = Lab(paths, SETTINGS)
    lock = cache_dir() / "lab" / f"tests-{SETTINGS.prefix}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+") as fh, pytest.MonkeyPatch.context() as mp:
        fcntl.flock(fh, fcntl.LOCK_EX)
        lab.down()
        mp.setenv("FAELLESDRIFT_STATE", str(state))
        mp.delenv("FAELLESDRIFT_DEVICE_USER", raising=False)
        mp.delenv("FAELLESDRIFT_DEVICE_CREDENTIALS", raising=False)
        try:
            lab.up(_plan())
        except LabError as exc:
            lab.down(reset=True)
            pytest.fail(f"lab up failed: {exc}", pytrace=False)
        try:
            yield root
        finally:
            lab.down(reset=True)


def test_discover_finds_every_host_and_flags_what_differs(lab_root: Path):
    before = (lab_root / "tenants" / "samsoe.yaml").read_text(encoding="utf-8")
    r = CliRunner().invoke(app, ["discover", "samsoe", "--root", str(lab_root),
                                 "--target", "lab", "-o", "json"], catch_exceptions=False)
    assert r.exit_code == 1, r.output  # two hosts differ from their entries
    report = json.loads(r.stdout)
    hosts = {h["entry"]: h for h in report["hosts"]}
    assert {n for n, h in hosts.items() if h["status"] == "found"} == {
        "sam-core01", "sam-dist02", "sam-fire04", "sam-file01", "sam-db04", "sam-citr08"}
    assert hosts["sam-dc02"]["status"] == "skipped"
    assert "not covered by the Linux baseline" in hosts["sam-dc02"]["reason"]
    core, dist, fire = hosts["sam-core01"], hosts["sam-dist02"], hosts["sam-fire04"]
    assert (core["platform"], core["hostname"]) == ("cisco_ios", "sam-core01")
    assert (dist["platform"], fire["platform"]) == ("arista_eos", "juniper_junos")
    for h in (core, dist, fire):
        assert h["os_version"] and h["model"] and h["serial"] and h["interfaces"], h
    assert hosts["sam-file01"]["os"] == "debian12" and hosts["sam-file01"]["vcpu"]
    assert {(d["host"], d["field"], d["in_file"]) for d in report["differences"]} == {
        ("sam-core01", "os_version", "15.2(7)E3"), ("sam-db04", "os", "debian11")}
    after = (lab_root / "tenants" / "samsoe.yaml").read_text(encoding="utf-8")
    assert after == before  # differences are a report, never an overwrite


def test_an_address_missing_from_the_file_becomes_a_valid_entry(lab_root: Path):
    r = CliRunner().invoke(app, ["discover", "samsoe", "--root", str(lab_root), "--target",
                                 "lab", "--address", "10.41.0.3", "-o", "json"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    (host,) = report["hosts"]
    assert (host["status"], host["entry"], host["platform"]) == ("found", None, "cisco_ios")
    assert report["import"]["written"]
    text = (lab_root / "tenants" / "samsoe.yaml").read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if "name: sam-acce03" in ln)
    assert "platform: cisco_ios, address: 10.41.0.3" in line and "os_version:" in line
    assert "# Samsø Kommune" in text  # the file's comments are kept
    assert not [f for f in validate(lab_root, TODAY).findings
                if f.severity == "error" and f.file == "tenants/samsoe.yaml"
                and f.rule != "exception.expired"]
    state = Path(os.environ["FAELLESDRIFT_STATE"])
    secret = json.loads((state / "lab" / "credentials.json").read_text())["devices"]["password"]
    assert secret not in text and secret not in r.stdout  # credentials are never written
