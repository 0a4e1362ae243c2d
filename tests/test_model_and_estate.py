from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from faellesdrift.errors import ConfigError
from faellesdrift.estate import ExceptionStatus, load_estate, validate
from faellesdrift.municipalities import lookup, municipalities, normalize_code
from tests.conftest import TODAY


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


def test_sample_validates_clean_with_expiring_warnings(sample_root):
    result = validate(sample_root, TODAY)
    assert result.ok, [f.one_line() for f in result.findings]
    rules = {f.rule for f in result.findings}
    assert "exception.expiring" in rules
    assert all(f.severity == "warning" for f in result.findings)
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


def test_expired_exception_stops_applying(sample_root):
    later = date(2026, 12, 20)  # ODD-EX-002 expired on 2026-12-17
    result = validate(sample_root, later)
    assert not result.ok
    assert any(f.rule == "exception.expired" and "ODD-EX-002" in f.message for f in result.findings)


def test_exception_statuses_in_the_register(sample_root):
    estate = load_estate(sample_root, TODAY)
    statuses = {k.record.id: k.status for k in estate.exceptions()}
    assert statuses["ODD-EX-002"] is ExceptionStatus.EXPIRING
    assert statuses["ODD-EX-001"] is ExceptionStatus.ACTIVE


def test_estate_is_immutable_and_shards(sample_root):
    estate = load_estate(sample_root, TODAY)
    with pytest.raises(ValidationError):
        estate.tenants[0].servers[0].vcpu = 99  # frozen pydantic model
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
