"""A sharded backup writes what a local run writes: the same files, one commit per run."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from faellesdrift.distributed.executor import CeleryExecutor
from faellesdrift.distributed.shards import Caps
from faellesdrift.estate import Estate
from faellesdrift.lab.devices.fleet import Fleet
from faellesdrift.network import Filters, backup
from faellesdrift.network.redact import load_key
from tests.conftest import REPO, TODAY
from tests.distributed.conftest import (
    FAELLESDRIFT,
    TENANTS,
    Workers,
    lab_state,
    net_settings,
    request,
    rows,
)

pytestmark = pytest.mark.redis


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_a_sharded_backup_is_one_commit_with_the_files_and_message_of_a_local_run(
        estate: Estate, fleet: Fleet, workers: Workers, broker_url: str, tmp_path: Path) -> None:
    local_net = net_settings(REPO, lab_state(tmp_path / "local", fleet))
    dist_net = net_settings(REPO, lab_state(tmp_path / "celery", fleet))
    dist_net.redaction_key.parent.mkdir(parents=True)
    dist_net.redaction_key.write_bytes(load_key(local_net.redaction_key))  # the same markers
    filters = Filters(tenants=TENANTS)
    local = backup(estate, local_net, filters)
    for name in fleet.devices:
        fleet.slow(name, 1.0)  # the shards finish on both workers at about the same time
    executor = CeleryExecutor(broker_url, caps=Caps())
    merged = executor.run(request("network.backup", dist_net, filters))
    outcomes = executor.report.outcomes
    assert {o.worker.split("@")[0] for o in outcomes} == {"w1", "w2"}
    assert all(o.status == "done" for o in outcomes)
    assert rows(merged) == rows(local) and merged.ok
    assert all(h.reason == "new backup" for h in merged.hosts)
    repo = dist_net.backups
    assert _git(repo, "rev-list", "--count", "HEAD") == "2"  # created, then this run: one commit
    assert merged.details["commit"] == _git(repo, "rev-parse", "HEAD")
    assert merged.details["repository"] == str(repo)
    assert _git(repo, "ls-tree", "-r", "HEAD") == _git(local_net.backups, "ls-tree", "-r", "HEAD")
    assert _git(repo, "log", "-1", "--format=%B") == \
        _git(local_net.backups, "log", "-1", "--format=%B")
    assert (repo / "odder" / "odd-core01.cfg").read_text().strip()

    again = CeleryExecutor(broker_url, caps=Caps()).run(request("network.backup", dist_net,
                                                                filters))
    assert _git(repo, "rev-list", "--count", "HEAD") == "3"
    assert {h.reason for h in again.hosts} == {"unchanged"}
    assert again.details["commit"] == _git(repo, "rev-parse", "HEAD") != merged.details["commit"]


@pytest.mark.parametrize("executor", ["local", "celery"])
def test_a_backup_with_a_canary_wave_is_still_one_commit(
        executor: str, estate: Estate, fleet: Fleet, workers: Workers, broker_url: str,
        tmp_path: Path) -> None:
    plain = net_settings(REPO, lab_state(tmp_path / "plain", fleet))
    state = lab_state(tmp_path / "canary", fleet)
    (state / "keys").mkdir()
    (state / "keys" / "redaction.key").write_bytes(load_key(plain.redaction_key))
    backup(estate, plain, Filters(tenants=("odder",)))
    env = {**os.environ, "FAELLESDRIFT_ROOT": str(REPO), "FAELLESDRIFT_STATE": str(state),
           "FAELLESDRIFT_NETWORK_TARGET": "lab", "FAELLESDRIFT_TODAY": TODAY.isoformat(),
           "FAELLESDRIFT_BROKER_URL": broker_url}
    proc = subprocess.run([str(FAELLESDRIFT), "network", "backup", "--tenant", "odder",
                           "--canary", "2", "--executor", executor, "-o", "json"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    repo = state / "backups" / "network"
    assert len(out["hosts"]) == 5
    assert _git(repo, "rev-list", "--count", "HEAD") == "2"  # created, then the run
    assert out["details"]["commit"] == _git(repo, "rev-parse", "HEAD")
    assert _git(repo, "ls-tree", "-r", "HEAD") == _git(plain.backups, "ls-tree", "-r", "HEAD")
    assert _git(repo, "log", "-1", "--format=%B") == _git(plain.backups, "log", "-1",
                                                          "--format=%B")
