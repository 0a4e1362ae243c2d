"""Network runs on two real Celery workers over a real Redis: dispatch, merge, faults, caps."""

from __future__ import annotations

import json
import os
import subprocess
import time
from itertools import pairwise
from pathlib import Path

import pytest

from faellesdrift import audit
from faellesdrift.distributed.executor import CeleryExecutor, ShardOutcome
from faellesdrift.distributed.shards import Caps
from faellesdrift.estate import Estate, load_estate
from faellesdrift.lab.devices.fleet import Fleet
from faellesdrift.network import Filters, compliance
from tests.conftest import REPO, TODAY
from tests.distributed.conftest import (
    FAELLESDRIFT,
    TENANTS,
    VISIBILITY,
    Workers,
    lab_state,
    net_settings,
    request,
    rows,
)

pytestmark = pytest.mark.redis


def test_shards_run_on_both_workers_and_merge_into_the_local_result(
        estate: Estate, fleet: Fleet, workers: Workers, broker_url: str, tmp_path: Path) -> None:
    net = net_settings(REPO, lab_state(tmp_path, fleet))
    filters = Filters(tenants=TENANTS)
    local = compliance(estate, net, filters)
    assert local.ok and local.noncompliant  # drift is seeded on some devices
    for name in fleet.devices:
        fleet.slow(name, 1.0)  # a busy worker takes no second shard: both get work
    executor = CeleryExecutor(broker_url, caps=Caps())
    merged = executor.run(request("network.compliance", net, filters))
    assert rows(merged) == rows(local)
    assert merged.results_payload()["tenants"] == local.results_payload()["tenants"]
    assert merged.command == local.command and merged.target == local.target
    assert merged.summary().rsplit(",", 1)[0] == local.summary().rsplit(",", 1)[0]
    outcomes = executor.report.outcomes
    assert sorted(o.shard.name for o in outcomes) == sorted(TENANTS)
    assert {o.worker.split("@")[0] for o in outcomes} == {"w1", "w2"}
    assert all(o.status == "done" and o.attempts == 1 for o in outcomes)


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(FAELLESDRIFT), *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300, check=False)


def test_the_command_gives_the_same_json_results_file_and_exit_code(
        fleet: Fleet, workers: Workers, broker_url: str, tmp_path: Path) -> None:
    state = lab_state(tmp_path, fleet)
    env = {"FAELLESDRIFT_ROOT": str(REPO), "FAELLESDRIFT_STATE": str(state),
           "FAELLESDRIFT_NETWORK_TARGET": "lab", "FAELLESDRIFT_BROKER_URL": broker_url,
           "FAELLESDRIFT_TODAY": TODAY.isoformat()}
    args = ["network", "compliance", "--tenant", "odder", "--tenant", "samsoe", "-o", "json"]
    results = state / "results" / "network.compliance.json"
    runs = {}
    for executor in ("local", "celery"):
        proc = _cli([*args, "--executor", executor], env)
        saved = json.loads(results.read_text())["tenants"]
        runs[executor] = (proc.returncode, json.loads(proc.stdout), saved)
    (rc_l, out_l, saved_l), (rc_c, out_c, saved_c) = runs["local"], runs["celery"]
    assert rc_l == rc_c == 1, runs  # drift is seeded: exit 1 either way
    assert [{**h, "seconds": 0} for h in out_c["hosts"]] == \
        [{**h, "seconds": 0} for h in out_l["hosts"]]
    assert out_c["counts"] == out_l["counts"] and out_c["ok"] == out_l["ok"]
    assert {t: e["hosts"] for t, e in saved_c.items()} == \
        {t: e["hosts"] for t, e in saved_l.items()}
    assert out_c["details"]["executor"] == "celery"


def test_a_killed_worker_costs_only_the_rerun_of_its_shard(
        estate: Estate, fleet: Fleet, workers: Workers, broker_url: str, tmp_path: Path) -> None:
    net = net_settings(REPO, lab_state(tmp_path, fleet))
    filters = Filters(tenants=TENANTS)
    local = compliance(estate, net, filters)
    for name in fleet.devices:
        fleet.slow(name, 2.0)  # each shard takes a few seconds: time to kill it mid-run
    killed: dict[str, str] = {}
    killed_at: list[float] = []

    def kill_the_first_busy_worker(o: ShardOutcome) -> None:
        if not killed and o.status == "running" and "@" in o.worker:
            killed[o.shard.name] = o.worker.split("@")[0]
            workers.kill(killed[o.shard.name])
            killed_at.append(time.monotonic())

    executor = CeleryExecutor(broker_url, caps=Caps(), on_event=kill_the_first_busy_worker)
    merged = executor.run(request("network.compliance", net, filters))
    after_kill = time.monotonic() - killed_at[0]
    assert killed, "no shard was seen running"
    assert rows(merged) == rows(local)  # the same per-device results as a fault-free run
    (shard, dead), = killed.items()
    by = executor.report.by_name()
    assert by[shard].redelivered and by[shard].worker.split("@")[0] != dead
    assert not any(o.redelivered for name, o in by.items() if name != shard)
    # the price: the broker's visibility timeout (and its 1 s sweep), then the shard once more
    rerun = by[shard].finished - by[shard].started
    assert after_kill < VISIBILITY + 2 + rerun + 3, (after_kill, rerun)


def test_the_whole_sample_community_gives_the_local_results_with_a_worker_killed(
        estate: Estate, community_fleet: Fleet, workers: Workers, broker_url: str,
        tmp_path: Path) -> None:
    net = net_settings(REPO, lab_state(tmp_path, community_fleet))
    local = compliance(estate, net, Filters())
    assert len(local.hosts) == len(estate.hosts(kind="network_device"))
    assert local.noncompliant and not local.failed
    for name in community_fleet.devices:
        community_fleet.slow(name, 1.0)
    killed: list[str] = []

    def kill_the_first_busy_worker(o: ShardOutcome) -> None:
        if not killed and o.status == "running" and "@" in o.worker:
            killed.append(o.shard.name)
            workers.kill(o.worker.split("@")[0])

    executor = CeleryExecutor(broker_url, caps=Caps(), on_event=kill_the_first_busy_worker)
    merged = executor.run(request("network.compliance", net, Filters()))
    assert killed, "no shard was seen running"
    assert rows(merged) == rows(local)
    assert merged.results_payload()["tenants"] == local.results_payload()["tenants"]
    by = executor.report.by_name()
    assert sorted(by) == sorted(estate.slugs)
    assert by[killed[0]].redelivered and all(o.status == "done" for o in by.values())


def test_a_shard_failing_twice_is_reported_with_its_reason_and_the_others_finish(
        fleet: Fleet, workers: Workers, broker_url: str, community_copy: Path,
        tmp_path: Path) -> None:
    estate = load_estate(community_copy, TODAY)
    net = net_settings(community_copy, lab_state(tmp_path, fleet))
    filters = Filters(tenants=TENANTS)
    local = compliance(estate, net, filters)
    changed = community_copy / "tenants" / "samsoe.yaml"

    def change_samsoe_during_the_run(o: ShardOutcome) -> None:
        if o.status == "done" and not changed.read_text().endswith("# edited mid-run\n"):
            changed.write_text(changed.read_text() + "# edited mid-run\n")

    # every platform capped at 2 sessions: the shards run one after another, samsoe last
    executor = CeleryExecutor(broker_url, caps=Caps(every_platform=2),
                              on_event=change_samsoe_during_the_run)
    merged = executor.run(request("network.compliance", net, filters))
    by = executor.report.by_name()
    assert by["samsoe"].status == "failed" and by["favrskov"].status == by["odder"].status == "done"
    samsoe = [h for h in merged.hosts if h.tenant == "samsoe"]
    assert samsoe and all(h.status.value == "failed" for h in samsoe)
    assert "failed 2 times" in samsoe[0].reason and "tenants/samsoe.yaml" in samsoe[0].reason
    assert not merged.ok  # exit 1, as a local run with failed devices
    others = [r for r in rows(merged) if r["tenant"] != "samsoe"]
    assert others == [r for r in rows(local) if r["tenant"] != "samsoe"]


def test_caps_bound_sessions_per_site_and_per_platform(
        estate: Estate, fleet: Fleet, workers: Workers, broker_url: str, tmp_path: Path) -> None:
    net = net_settings(REPO, lab_state(tmp_path, fleet))
    filters = Filters(tenants=TENANTS)
    local = compliance(estate, net, filters)
    caps = Caps(per_site=1, per_platform={"cisco_ios": 1})
    executor = CeleryExecutor(broker_url, caps=caps)
    merged = executor.run(request("network.compliance", net, filters))
    assert rows(merged) == rows(local)
    outcomes = executor.report.outcomes
    assert all("/" in o.shard.name and o.shard.workers == 1 for o in outcomes)  # by site
    ios = [(o.started, o.finished) for o in outcomes if "cisco_ios" in o.shard.platforms]
    assert len(ios) >= 3
    ios.sort()
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in pairwise(ios))
    others = [o for o in outcomes if "cisco_ios" not in o.shard.platforms]
    overlap = any(a.started < b.finished and b.started < a.finished
                  for a in others for b in others if a is not b)
    assert overlap, "shards of uncapped platforms should run side by side"


def test_an_interrupted_remediation_rechecks_before_it_pushes_again(
        estate: Estate, fleet: Fleet, workers: Workers, broker_url: str, tmp_path: Path) -> None:
    state = lab_state(tmp_path, fleet)
    net = net_settings(REPO, state, workers=1)
    filters = Filters(tenants=("favrskov",))
    drifted = {h.host for h in compliance(estate, net, filters).noncompliant}
    assert len(drifted) >= 2
    for name in fleet.devices:
        fleet.slow(name, 0.5)
    killed: list[str] = []

    def kill_after_the_first_push(o: ShardOutcome) -> None:
        if not killed and o.status == "running" and any(audit.read(net.audit_log)):
            killed.append(o.worker.split("@")[0])
            workers.kill(killed[0])

    executor = CeleryExecutor(broker_url, caps=Caps(), on_event=kill_after_the_first_push)
    merged = executor.run(request("network.remediate", net, filters, apply=True))
    assert killed, "the worker was not killed after a push"
    assert executor.report.by_name()["favrskov"].redelivered
    pushes: dict[str, int] = {}
    for entry in audit.read(net.audit_log):
        if entry.get("result") == "verified":
            pushes[entry["target"]] = pushes.get(entry["target"], 0) + 1
    # a device pushed before the kill is re-checked, found compliant, never pushed again
    assert pushes and set(pushes) <= drifted and set(pushes.values()) == {1}
    already = [h for h in merged.hosts if h.host in drifted and h.reason.startswith("compliant")]
    assert already, "the re-run should find the devices pushed before the kill compliant"
    assert not compliance(estate, net, filters).noncompliant


def test_a_backup_deadline_reports_the_shards_not_finished_by_then(
        fleet: Fleet, workers: Workers, broker_url: str, tmp_path: Path) -> None:
    net = net_settings(REPO, lab_state(tmp_path, fleet))
    for name in fleet.devices:
        fleet.slow(name, 8.0)
    executor = CeleryExecutor(broker_url, caps=Caps(), deadline=3.0)
    t = time.monotonic()
    merged = executor.run(request("network.backup", net, Filters(tenants=TENANTS)))
    assert time.monotonic() - t < 6.0
    assert len(merged.hosts) == 16 and len(merged.failed) == 16
    assert all("backup deadline (3 s) passed" in h.reason for h in merged.hosts)
    assert {o.status for o in executor.report.outcomes} == {"failed"}
