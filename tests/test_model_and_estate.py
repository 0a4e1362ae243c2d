from dataclasses import FrozenInstanceError
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from faellesdrift.errors import ConfigError, ValidationFailed
from faellesdrift.estate import ExceptionStatus, expired_note, load_estate, validate
from faellesdrift.municipalities import lookup, municipalities, normalize_code
from tests.conftest import REPO as REPO_ROOT
from tests.conftest import TODAY, day_after_expiry, expiry_of


def test_98_municipalities_with_regions():
    ms = municipalities()
    assert len(ms) == 98
    assert {m.region for m in ms.values()} == {
        "Hovedstaden", "Sjælland", "Syddanmark", "Midtjylland", "Nordjylland"}
    assert sum(m.region == "Midtjylland" for m in ms.values()) == 19


@pytest.mark.parametrize("raw", [101, "101", "0101"])
def test_code_forms_normalise_to_four_digits(raw):
    assert normalize_code(raw) == "0101"
    assert lookup(raw).name == "København"


@pytest.mark.parametrize("raw", ["", "12345", "10a", True, 1.5, None])
def test_bad_code_forms(raw):
    with pytest.raises(ValueError):
        normalize_code(raw)


def test_sample_has_one_expired_exception_and_expiring_warnings(sample_root):
    result = validate(sample_root, TODAY)
    errors = [f for f in result.findings if f.severity == "error"]
    assert [(f.rule, f.message.split()[0]) for f in errors] == [("exception.expired", "SAM-EX-002")]
    assert "exception.expiring" in {f.rule for f in result.findings}
    estate = result.estate
    assert len(estate.tenants) >= 8
    assert {d.platform for t in estate.tenants for d in t.network_devices} >= {
        "cisco_ios", "arista_eos", "juniper_junos"}
    for t in estate.tenants:
        assert 10 <= len(t.servers) <= 40 and 4 <= len(t.network_devices) <= 20


def test_effective_value_standard_and_exception(sample_root):
    estate = load_estate(sample_root, TODAY)
    kept = estate.effective("net.ntp.servers", "odd-core01")
    assert kept.source == "ODD-EX-001" and kept.value == ["10.27.0.123"]
    assert kept.exception.status is ExceptionStatus.ACTIVE
    std = estate.effective("net.ntp.servers", "odd-dist02")
    assert std.source == "standard" and std.value == ["10.250.0.123", "10.250.0.124"]
    with pytest.raises(ConfigError, match="no control"):
        estate.effective("net.nope", "odd-core01")
    with pytest.raises(ConfigError, match="no host"):
        estate.effective("net.ntp.servers", "nowhere01")


def test_expired_exception_stops_applying_but_not_the_estate(sample_root):
    later = day_after_expiry("ODD-EX-002")
    result = validate(sample_root, later)
    assert not result.ok  # validate still fails, so CI flags it
    assert any(f.rule == "exception.expired" and "ODD-EX-002" in f.message for f in result.findings)
    estate = load_estate(sample_root, later)  # every other command still runs
    assert estate.effective("net.snmp.communities", "odd-fire04").source == "standard"
    assert "ODD-EX-002" in {k.record.id for k in estate.expired()}
    assert "ODD-EX-002 (odder, net.snmp.communities, expired" in (expired_note(estate) or "")


def test_other_errors_still_stop_the_estate(community_copy):
    odder = community_copy / "tenants" / "odder.yaml"
    odder.write_text(odder.read_text().replace("population: ", "population: -"))
    assert validate(community_copy).estate is None
    with pytest.raises(ValidationFailed) as caught:
        load_estate(community_copy, day_after_expiry("ODD-EX-002"))
    assert all(f.rule != "exception.expired" for f in caught.value.findings)


def test_exception_statuses_follow_the_date(sample_root):
    expires = expiry_of("ODD-EX-002")
    for day, status in ((expires - timedelta(days=31), ExceptionStatus.ACTIVE),
                        (expires - timedelta(days=30), ExceptionStatus.EXPIRING),
                        (expires, ExceptionStatus.EXPIRING),
                        (expires + timedelta(days=1), ExceptionStatus.EXPIRED)):
        statuses = {k.record.id: k.status for k in load_estate(sample_root, day).exceptions()}
        assert statuses["ODD-EX-002"] is status, day


def test_the_sample_loads_on_the_real_date(sample_root, monkeypatch):
    monkeypatch.delenv("FAELLESDRIFT_TODAY")
    estate = load_estate(sample_root)  # whatever has expired by now
    assert "SAM-EX-002" in {k.record.id for k in estate.expired()}  # expired on purpose
    assert estate.effective("srv.ssh.password_auth", "sam-citr08").source == "standard"


def test_estate_is_immutable_and_shards(sample_root):
    estate = load_estate(sample_root, TODAY)
    with pytest.raises(ValidationError):
        estate.tenants[0].name = "x"  # frozen pydantic model
    with pytest.raises(FrozenInstanceError):
        estate.tenants[0].servers[0].vcpu = 99  # frozen asset record
    shard = estate.subset(["odder", "samsoe"])
    assert shard.slugs == ("odder", "samsoe")
    assert {h.tenant for h in shard.hosts()} == {"odder", "samsoe"}
    assert shard.effective("net.ntp.servers", "odd-core01").source == "ODD-EX-001"
    with pytest.raises(ConfigError):
        shard.host("aar-core01")


def test_schema_files_are_current(sample_root, tmp_path):
    from faellesdrift.schema import write_schemas

    for path in write_schemas(tmp_path):
        committed = sample_root / "schemas" / path.name
        assert committed.read_text() == path.read_text(), "run `faellesdrift schema`"


def test_every_sample_file_names_its_schema(sample_root: Path):
    for path in [sample_root / "community.yaml", *(sample_root / "tenants").glob("*.yaml")]:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path


def test_both_inventories_name_a_tenant_group_alike():
    from faellesdrift.estate import Host, tenant_group
    from faellesdrift.network.inventory import group_names

    device = load_estate(REPO_ROOT, TODAY).host("odd-core01")
    hyphenated = Host(device.name, "ringkoebing-skjern", device.kind, device.spec)
    assert group_names(hyphenated)[0] == tenant_group("ringkoebing-skjern") \
        == "tenant_ringkoebing_skjern"


def test_one_quota_rule_for_servers_and_placements():
    from faellesdrift.model import Quota

    quota = Quota(vcpu=8, memory_gb=32, disk_gb=100)
    servers = load_estate(REPO_ROOT, TODAY).tenant("odder").servers[:2]
    used = {f: sum(getattr(s, f) for s in servers) for f in Quota.FIELDS}
    assert quota.usage(servers) == {f: (used[f], getattr(quota, f)) for f in Quota.FIELDS}
    placements = [{"vcpu": 6, "memory_gb": 16, "disk_gb": 50.5}, {"vcpu": 4, "disk_gb": 49.5}]
    assert quota.over(placements) == [("vcpu", 10, 8)]
    assert quota.over([{"vcpu": 8}]) == []


def test_a_dropped_estate_leaves_no_reference_cycles():
    """validate() freezes what it built (gc.freeze): that is only sound while nothing in
    a Validation needs the cyclic collector to be freed."""
    import gc

    validate(REPO_ROOT, TODAY)  # what was frozen before goes back to the collector
    result = validate(REPO_ROOT, TODAY)
    assert result.estate is not None and result.findings
    gc.unfreeze()
    del result
    assert gc.collect() == 0
