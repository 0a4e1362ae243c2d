"""The record provider: ids, outputs, diffs (replace on identity, seeds never diffed)."""

from __future__ import annotations

from faellesdrift.platform.providers import for_target
from faellesdrift.platform.providers.base import RecordProvider, changed_keys

PROPS = {"tenant": "odder", "name": "odd-core01", "kind": "device", "platform": "cisco_ios", "ports": 48,
         "tags": {"tenant": "odder"}, "seed": ["hostname odd-core01"], "__provider": "x"}


def test_create_keeps_inputs_and_adds_status():
    r = RecordProvider().create(dict(PROPS))
    assert r.id == "odder/odd-core01"
    assert r.outs["status"] == {"target": "record"} and "__provider" not in r.outs
    assert r.outs["ports"] == 48


def test_no_change_when_only_ignored_or_numeric_noise_differs():
    olds = {**PROPS, "ports": 48.0, "status": {"target": "record"}}
    news = {**PROPS, "seed": ["hostname something-else"]}
    d = RecordProvider().diff("id", olds, news)
    assert d.changes is False and d.replaces == []


def test_identity_change_replaces_other_changes_update():
    p = RecordProvider()
    d = p.diff("id", PROPS, {**PROPS, "name": "odd-core02"})
    assert d.changes and d.replaces == ["name"] and d.delete_before_replace
    d = p.diff("id", PROPS, {**PROPS, "platform": "arista_eos"})
    assert d.replaces == ["platform"]
    d = p.diff("id", PROPS, {**PROPS, "ports": 24})
    assert d.changes and d.replaces == [] and not d.delete_before_replace


def test_changed_keys_sees_removed_keys():
    assert changed_keys({"a": 1, "b": 2}, {"a": 1}) == ["b"]


def test_record_target_uses_one_record_provider_and_is_not_secret():
    p = for_target("record")
    assert p.target == "record" and p.server is p.device
    assert RecordProvider.serialize_as_secret_always is False


def test_lab_target_needs_a_lab_target():
    import pytest

    from faellesdrift.errors import ConfigError
    with pytest.raises(ConfigError, match="LabTarget"):
        for_target("lab")
    with pytest.raises(ConfigError, match="use one of record, lab"):
        for_target("cloud")
