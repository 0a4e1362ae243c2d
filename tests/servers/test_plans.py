"""Reusing a plan made moments before (servers apply), forks from the machine, run timings."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from faellesdrift import clock
from faellesdrift.estate import load_estate
from faellesdrift.servers import plans
from faellesdrift.servers.access import Access
from faellesdrift.servers.hostvars import select
from faellesdrift.servers.results import EventCollector, RunResult, ServerResult, TaskChange
from faellesdrift.servers.runner import ANSIBLE_CFG, default_forks
from faellesdrift.settings import Settings
from tests.conftest import TODAY

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeOperatorKeyForTests"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def access(tmp_path: Path) -> Access:
    cfg = tmp_path / "ssh_config"
    cfg.write_text("Host aar-file01\n  HostName 127.0.0.1\n")
    return Access(ssh_config=cfg, servers=frozenset({"aar-file01", "aar-citr08"}),
                  operator_keys=(KEY,), origin="test")


@pytest.fixture
def playbooks(tmp_path: Path) -> Path:
    return Path(shutil.copytree(REPO / "playbooks", tmp_path / "playbooks"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(root=REPO, state_dir=tmp_path / "state", cache_dir=tmp_path / "cache")


def _selection(access: Access, hosts: tuple[str, ...] = ("aar-file01", "aar-citr08")):
    return select(load_estate(REPO, TODAY), hosts=hosts, reachable=access.servers)


def _plan(ok: bool = True) -> RunResult:
    host = ServerResult("aar-file01", "aarhus", ok=3, changed=1, seen=True, changes=[
        TaskChange("Point chrony at the NTP servers", "time", "baseline_state",
                   "/etc/chrony/chrony.conf", "+server 10.250.0.123 iburst",
                   ("srv.ntp.servers",))], seconds=2.5)
    if not ok:
        host.unreachable = 1
    return RunResult("plan", "r1", {"aar-file01": host}, task_seconds={"time : Point": 1.0})


def test_the_fingerprint_follows_host_vars_hosts_ssh_config_and_playbooks(
        access: Access, playbooks: Path) -> None:
    sel = _selection(access)
    key = plans.fingerprint(sel, access, playbooks)
    assert key == plans.fingerprint(_selection(access), access, playbooks)
    assert key != plans.fingerprint(_selection(access, ("aar-file01",)), access, playbooks)
    other_keys = Access(access.ssh_config, access.servers, ("ssh-ed25519 AAAAother",))
    assert key != plans.fingerprint(sel, other_keys, playbooks)
    (playbooks / "roles" / "time" / "templates" / "chrony.conf.j2").write_text("changed\n")
    assert key != plans.fingerprint(sel, access, playbooks)


def test_a_recent_plan_is_reused_with_its_changes(settings: Settings) -> None:
    assert plans.save(settings, "k1", _plan()) is not None
    reused = plans.recent(settings, "k1")
    assert reused is not None and reused.reused_from
    h = reused.hosts["aar-file01"]
    assert (h.status, h.changed, h.changes[0].path) == ("changed", 1,
                                                        "/etc/chrony/chrony.conf")
    assert reused.changed_tasks == 1 and reused.mode == "plan"
    assert plans.recent(settings, "k2") is None  # another run's fingerprint
    plans.discard(settings)  # what an apply does: the hosts are no longer as planned
    assert plans.recent(settings, "k1") is None


def test_an_old_or_failed_plan_is_not_reused(settings: Settings) -> None:
    assert plans.save(settings, "bad", _plan(ok=False)) is None
    assert plans.recent(settings, "bad") is None
    path = plans.save(settings, "old", _plan())
    assert path is not None
    data = json.loads(path.read_text())
    data["made_at"] = (clock.now() - plans.MAX_AGE - timedelta(seconds=1)).isoformat()
    path.write_text(json.dumps(data))
    assert plans.recent(settings, "old") is None


def test_forks_follow_the_hosts_cores_and_memory() -> None:
    assert default_forks(3, cores=2, available_mib=8000) == 3
    assert default_forks(800, cores=2, available_mib=8000) == 16  # cores
    assert default_forks(800, cores=64, available_mib=800) == 10  # memory
    assert default_forks(800, cores=64, available_mib=64000) == 100  # the cap
    assert default_forks(5, cores=1, available_mib=0) == 1


def test_the_config_runs_the_free_strategy_with_pipelining_and_fact_cache() -> None:
    assert "strategy = {strategy}" in ANSIBLE_CFG and "pipelining = True" in ANSIBLE_CFG
    assert "fact_caching = jsonfile" in ANSIBLE_CFG


def test_the_run_names_its_slowest_hosts_and_tasks(access: Access) -> None:
    sel = _selection(access)
    collector = EventCollector(sel, "apply")

    def ev(host: str, task: str, start: str, end: str, duration: float) -> dict:
        return {"event": "runner_on_ok", "event_data": {
            "host": host, "task": task, "role": "time", "res": {"changed": False},
            "start": f"2026-11-30T12:00:{start}+00:00", "end": f"2026-11-30T12:00:{end}+00:00",
            "duration": duration}}

    for e in (ev("aar-file01", "A", "00", "01", 1.0), ev("aar-file01", "B", "01", "09", 8.0),
              ev("aar-citr08", "A", "00", "02", 2.0)):
        collector.handle(e)
    result = RunResult("apply", "r", collector.hosts, task_seconds=collector.task_seconds)
    slow = result.slowest()
    assert slow["hosts"][0] == {"host": "aar-file01", "seconds": 9.0}
    assert slow["tasks"][0] == {"task": "time : B", "seconds": 8.0}
    assert slow["tasks"][1] == {"task": "time : A", "seconds": 3.0}
    assert RunResult.from_dict(result.to_dict()).hosts["aar-citr08"].seconds == 2.0


def test_a_baseline_module_change_lists_each_file_once(access: Access) -> None:
    collector = EventCollector(_selection(access), "plan")
    diff = {"before": "a\n", "after": "b\n", "before_header": "/etc/motd",
            "after_header": "/etc/motd"}
    collector.handle({"event": "runner_on_ok", "event_data": {
        "host": "aar-file01", "task": "Write the banner", "role": "banner",
        "res": {"changed": True, "dest": "/etc/issue.net, /etc/motd", "diff": [diff, diff],
                "files": [{"changed": True, "dest": "/etc/issue.net", "diff": diff},
                          {"changed": True, "dest": "/etc/motd", "diff": diff}]}}})
    (change,) = collector.hosts["aar-file01"].changes
    assert change.path == "/etc/issue.net, /etc/motd"
    assert change.diff.count("-a") == 2 and change.controls == ("srv.banner.motd",)


def test_only_the_baseline_files_make_the_playbooks_digest(tmp_path):
    playbooks = tmp_path / "playbooks"
    shutil.copytree(REPO / "playbooks", playbooks)
    before = plans.playbooks_digest(playbooks)
    (playbooks / "facts.yml").write_text("# gathers facts, changes nothing\n", encoding="utf-8")
    (playbooks / "README.md").write_text("notes\n", encoding="utf-8")
    assert plans.playbooks_digest(playbooks) == before
    task = next((playbooks / "roles").rglob("main.yml"))
    task.write_text(task.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert plans.playbooks_digest(playbooks) != before
