"""The results store: per-tenant merge of shards, atomic writes, clear errors."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from faellesdrift import results
from faellesdrift.results import ResultsError
from faellesdrift.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(root=tmp_path, state_dir=tmp_path / "state", cache_dir=tmp_path / "cache")


def _host(name: str, compliant: bool = True) -> dict:
    return {"host": name, "status": "ok", "compliant": compliant,
            "controls": [{"control": "net.ntp.servers", "compliant": compliant,
                          "source": "standard"}]}


def test_load_before_any_run_is_none(settings):
    assert results.load(settings, "network.compliance") is None


def test_save_then_load_round_trips_with_envelope(settings):
    path = results.save(settings, "network.compliance",
                        {"tenants": {"odder": {"ok": True, "hosts": [_host("odd-core01")]}}})
    assert path == settings.state_dir / "results" / "network.compliance.json"
    data = results.load(settings, "network.compliance")
    assert data["kind"] == "network.compliance" and data["schema"] == 1
    assert data["generated_at"]
    entry = results.tenant_entry(data, "odder")
    assert entry["hosts"][0]["host"] == "odd-core01"
    assert entry["generated_at"]  # stamped when the payload had none


def test_shards_merge_per_tenant_and_a_rerun_replaces_only_its_tenants(settings):
    kind = "network.compliance"
    results.save(settings, kind, {"tenants": {"odder": {"hosts": [_host("odd-core01")]}}})
    results.save(settings, kind, {"tenants": {"aarhus": {"hosts": [_host("aar-core01")]},
                                              "samsoe": {"hosts": [_host("sam-core01")]}}})
    assert set(results.load(settings, kind)["tenants"]) == {"odder", "aarhus", "samsoe"}
    results.save(settings, kind, {"tenants": {"odder": {"hosts": [_host("odd-core01", False)]}}})
    data = results.load(settings, kind)
    assert data["tenants"]["odder"]["hosts"][0]["compliant"] is False  # replaced whole
    assert data["tenants"]["aarhus"]["hosts"][0]["compliant"] is True  # kept


def test_community_keys_merge_by_key(settings):
    results.save(settings, "settlement", {"community": {"period": "2026-10", "model": "hybrid"}})
    results.save(settings, "settlement", {"community": {"period": "2026-11"}})
    assert results.load(settings, "settlement")["community"] == {
        "period": "2026-11", "model": "hybrid"}


def test_entry_keeps_its_own_generated_at(settings):
    results.save(settings, "lab.status", {"generated_at": "2026-11-01T00:00:00+00:00",
                                          "tenants": {"odder": {"hosts": []}}})
    results.save(settings, "lab.status", {"tenants": {"aarhus": {
        "generated_at": "2026-11-02T00:00:00+00:00", "hosts": []}}})
    t = results.load(settings, "lab.status")["tenants"]
    assert t["odder"]["generated_at"] == "2026-11-01T00:00:00+00:00"
    assert t["aarhus"]["generated_at"] == "2026-11-02T00:00:00+00:00"


@pytest.mark.parametrize("kind", ["", "Network.Compliance", "network.", "../etc.passwd",
                                  "network/compliance", "network.compliance.json/x"])
def test_bad_kind_names_are_refused(settings, kind):
    with pytest.raises(ResultsError, match="not a valid name"):
        results.save(settings, kind, {"tenants": {}})


@pytest.mark.parametrize("payload, message", [
    ([], "must be a JSON object"),
    ({"hosts": []}, "unknown top-level key"),
    ({"tenants": []}, "must map tenant slugs"),
    ({"tenants": {"../x": {}}}, "not a tenant slug"),
    ({"tenants": {"odder": []}}, "must be an object"),
    ({"tenants": {"odder": {"hosts": [{"name": "x"}]}}}, "objects with 'host'"),
    ({"kind": "servers.verify", "tenants": {}}, "says kind"),
    ({"tenants": {"odder": {"x": float("nan")}}}, "not JSON-serialisable"),
])
def test_malformed_payloads_are_refused_with_the_reason(settings, payload, message):
    with pytest.raises(ResultsError, match=message):
        results.save(settings, "network.compliance", payload)
    assert results.load(settings, "network.compliance") is None


def test_a_corrupt_file_is_a_clear_error_on_load_and_set_aside_on_save(settings):
    path = results.path_for(settings, "servers.verify")
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(ResultsError, match="not valid JSON.*delete the file"):
        results.load(settings, "servers.verify")
    results.save(settings, "servers.verify", {"tenants": {"odder": {"hosts": []}}})
    assert set(results.load(settings, "servers.verify")["tenants"]) == {"odder"}
    assert list(path.parent.glob("servers.verify.json.corrupt-*"))


def test_writes_are_atomic_and_leave_no_temporary_files(settings):
    results.save(settings, "network.compliance", {"tenants": {"odder": {"hosts": []}}})
    names = sorted(p.name for p in results.results_dir(settings).iterdir())
    assert names == [".network.compliance.json.lock", "history", "network.compliance.json"]
    json.loads((results.results_dir(settings) / "network.compliance.json").read_text())
    assert [p.name for p in (results.results_dir(settings) / "history").iterdir()] == [
        "network.compliance.jsonl"]


def test_compliance_results_are_kept_over_time_per_tenant(settings, monkeypatch):
    def host(name, ok):
        return {"host": name, "status": "ok", "compliant": ok}

    for day, odder in (("2026-11-25", [host("a", False), host("b", True)]),
                       ("2026-11-26", [host("a", True), host("b", True)])):
        monkeypatch.setattr(results, "now", lambda d=day: f"{d}T08:00:00+00:00")
        results.save(settings, "network.compliance", {"tenants": {"odder": {"hosts": odder}}})
    results.save(settings, "network.compliance",  # a shard without odder: not a point for it
                 {"tenants": {"aarhus": {"hosts": [host("x", None)]}}})
    assert results.history(settings, "network.compliance", "odder") == [
        {"at": "2026-11-25T08:00:00+00:00", "hosts": 2, "checked": 2, "compliant": 1},
        {"at": "2026-11-26T08:00:00+00:00", "hosts": 2, "checked": 2, "compliant": 2}]
    assert results.history(settings, "network.compliance", "aarhus")[0]["checked"] == 0
    assert results.history(settings, "servers.verify", "odder") == []
    assert results.history(settings, "network.compliance", "odder", limit=1)[0][
        "compliant"] == 2


def test_concurrent_shards_all_land(settings):
    slugs = [f"t{i:02d}" for i in range(24)]

    def run(slug: str) -> None:
        results.save(settings, "network.compliance",
                     {"tenants": {slug: {"hosts": [_host(f"{slug}-core01")]}}})

    threads = [threading.Thread(target=run, args=(s,)) for s in slugs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.load(settings, "network.compliance")["tenants"]) == slugs


def test_forget_drops_tenants_or_the_whole_file(settings):
    results.save(settings, "settlement", {"tenants": {"odder": {}, "aarhus": {}}})
    results.forget(settings, "settlement", ["odder"])
    assert set(results.load(settings, "settlement")["tenants"]) == {"aarhus"}
    results.forget(settings, "settlement")
    assert results.load(settings, "settlement") is None


def test_every_documented_kind_is_a_valid_name_and_in_the_docstring():
    for kind in results.KINDS:
        results.path_for(Settings(Path("/x"), Path("/x/s"), Path("/x/c")), kind)
        assert f"``{kind}``" in results.__doc__
