"""The runner through real ansible-runner and ansible-playbook, without the lab.

Hosts whose ssh_config entry points at a closed loopback port are unreachable:
each gets its own result, the run says so, and apply writes it to the audit log.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from faellesdrift import audit
from faellesdrift.estate import load_estate
from faellesdrift.servers.access import Access
from faellesdrift.servers.hostvars import select
from faellesdrift.servers.runner import ANSIBLE_CFG, run
from faellesdrift.settings import Settings
from tests.conftest import TODAY

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeOperatorKeyForTests"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends


@pytest.fixture
def dead_access(tmp_path: Path) -> Access:
    port = _closed_port()
    known = tmp_path / "known_hosts"
    known.write_text("")
    cfg = tmp_path / "ssh_config"
    cfg.write_text("".join(
        f"Host {h}\n  HostName 127.0.0.1\n  Port {port}\n  User root\n"
        f"  UserKnownHostsFile {known}\n  StrictHostKeyChecking yes\n"
        for h in ("aar-file01", "aar-citr08")))
    return Access(ssh_config=cfg, servers=frozenset({"aar-file01", "aar-citr08"}),
                  operator_keys=(KEY,), origin="test")


@pytest.fixture
def settings(tmp_path: Path, sample_root: Path) -> Settings:
    return Settings(root=sample_root, state_dir=tmp_path / "state", cache_dir=tmp_path / "cache")


def test_the_generated_config_never_disables_host_key_checking() -> None:
    assert "host_key_checking = True" in ANSIBLE_CFG
    assert "StrictHostKeyChecking=no" not in ANSIBLE_CFG
    assert "pipelining = True" in ANSIBLE_CFG


def test_unreachable_hosts_are_results_and_go_to_the_audit_log(
        dead_access: Access, settings: Settings, sample_root: Path) -> None:
    estate = load_estate(sample_root, TODAY)
    selection = select(estate, tenants=["aarhus"], reachable=dead_access.servers)
    seen: list[tuple[str, str]] = []
    result = run(selection, dead_access, settings, mode="apply",
                 on_progress=lambda h, t, s: seen.append((h, s)))
    assert not result.ok and not result.error
    assert set(result.hosts) == {"aar-file01", "aar-citr08"}
    for h in result.hosts.values():
        assert h.status == "unreachable", h.to_dict()
        assert "Connection refused" in h.reason
    assert ("aar-file01", "unreachable") in seen
    assert result.hosts["aar-citr08"].exceptions == {"srv.ssh.password_auth": "AAR-EX-002"}
    # the run's files: inventory from the estate, ansible.cfg, result
    run_dir = Path(result.artifacts)
    inv = json.loads((run_dir / "inventory" / "hosts.json").read_text())
    assert inv["all"]["children"]["tenant_aarhus"]["hosts"]["aar-citr08"][
        "fd_ssh_password_auth"] is True
    assert json.loads((run_dir / "result.json").read_text())["summary"]["unreachable"] == 2
    events = list(audit.read(settings.audit_log))
    assert {(e["target"], e["result"]) for e in events} == {
        ("aar-file01", "unreachable"), ("aar-citr08", "unreachable")}
    assert all(e["command"] == "servers apply" and e["tenant"] == "aarhus" for e in events)


def test_plan_writes_nothing_to_the_audit_log(dead_access: Access, settings: Settings,
                                              sample_root: Path) -> None:
    estate = load_estate(sample_root, TODAY)
    selection = select(estate, hosts=["aar-file01"], reachable=dead_access.servers)
    result = run(selection, dead_access, settings, mode="plan")
    assert result.summary()["unreachable"] == 1
    assert not settings.audit_log.exists()


def test_a_refused_host_is_a_failure_and_is_audited(dead_access: Access, settings: Settings,
                                                    community_copy: Path) -> None:
    from tests.servers.test_hostvars import _add_exception

    _add_exception(community_copy, "aarhus", id="AAR-EX-095", control="srv.ssh.allow_groups",
                   hosts=["aar-citr08"], value=["root"])
    estate = load_estate(community_copy, TODAY)
    selection = select(estate, tenants=["aarhus"], reachable=dead_access.servers)
    result = run(selection, dead_access, settings, mode="apply")
    refused = result.hosts["aar-citr08"]
    assert refused.status == "failed" and "refused:" in refused.reason
    assert "AAR-EX-095" in refused.reason
    assert result.hosts["aar-file01"].status == "unreachable"  # the other host still ran
    events = {e["target"]: e for e in audit.read(settings.audit_log)}
    assert events["aar-citr08"]["result"] == "failed"
    assert "AAR-EX-095" in events["aar-citr08"]["reason"]
