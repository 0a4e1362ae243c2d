"""The server baseline against real lab hosts: one scenario, in order.

A lab of its own (prefix, loopback range and ports of its own, state in a temp
dir) with three sample servers of two tenants, one of them (aar-citr08) keeping
srv.ssh.password_auth = true by exception AAR-EX-002:

plan shows the drift -> apply fixes it -> a second apply changes nothing ->
verify passes and reports the exception-kept value -> local drift on one host is
planned and fixed alone -> a host stopped mid-run fails alone while the rest
finish. Anything missing on the machine fails with the reason, never a skip.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Network
from pathlib import Path

import pytest
from typer.testing import CliRunner

from faellesdrift import audit
from faellesdrift.estate import load_estate
from faellesdrift.lab import Lab, LabError, LabSettings, cache_dir
from faellesdrift.lab.plan import plan_from_estate
from faellesdrift.servers.access import Access
from faellesdrift.servers.cli import servers_app, verify_cmd
from faellesdrift.servers.hostvars import select
from faellesdrift.servers.runner import run
from faellesdrift.settings import Settings
from tests.conftest import REPO, TODAY, expiry_of
from tests.lab_paths import lab_paths_or_fail

pytestmark = pytest.mark.lab

SERVERS = {"aarhus": ("aar-file01", "aar-citr08"), "odder": ("odd-file01",)}
HOSTS = tuple(h for hs in SERVERS.values() for h in hs)
EXCEPTION_HOST, VICTIM = "aar-citr08", "odd-file01"
SETTINGS = LabSettings(prefix="fdsrv", device_ports=(47300, 47399),
                       loopback=IPv4Network("127.211.0.0/16"))  # unlikely to be taken


@dataclass
class Scenario:
    lab: Lab
    settings: Settings
    timings: dict[str, float] = field(default_factory=dict)


def _plan():
    estate = load_estate(REPO, TODAY)
    full = plan_from_estate(estate, tenants=list(SERVERS))
    tenants = tuple(replace(t, devices=(), servers=tuple(
        s for s in t.servers if s.name in SERVERS[t.slug])) for t in full.tenants)
    return replace(full, tenants=tenants)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    state = tmp_path_factory.mktemp("servers-lab")
    paths = lab_paths_or_fail(state, "the server lab tests need")
    the_lab = Lab(paths, SETTINGS)
    with one_session_at_a_time(), pytest.MonkeyPatch.context() as mp:
        the_lab.down()  # what a crashed earlier session with this prefix may have left
        mp.setenv("FAELLESDRIFT_STATE", str(state))
        try:
            try:
                the_lab.up(_plan())
            except LabError as first:  # the lab's daemons sometimes lose a start-up race
                print(f"\nlab up failed once ({first}); trying again")
                the_lab.up(_plan())
        except LabError as exc:
            the_lab.down(reset=True)
            pytest.fail(f"lab up failed: {exc}", pytrace=False)
        scenario = Scenario(the_lab, Settings.from_env(REPO))
        yield scenario
        the_lab.down(reset=True)
    print("\nserver lab timings (s): " + json.dumps(
        {k: round(v, 1) for k, v in scenario.timings.items()}))


@contextmanager
def one_session_at_a_time() -> Iterator[None]:
    """Two test sessions on one machine would share this lab's prefix (and the first
    step, cleaning up after a crash, would stop the other's lab): the second waits."""
    lock = cache_dir() / "lab" / f"tests-{SETTINGS.prefix}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"\nwaiting for another test session's server lab ({lock})")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def cli(s: Scenario, step: str, *argv: str) -> tuple[int, str]:
    start = time.monotonic()
    r = CliRunner().invoke(servers_app, [*argv, "--root", str(REPO)], catch_exceptions=False)
    s.timings[step] = time.monotonic() - start
    return r.exit_code, r.output


def verify_cli(s: Scenario, step: str, *argv: str) -> tuple[int, str]:
    import typer

    app = typer.Typer()
    app.command("verify")(verify_cmd)
    app.command("servers")(lambda: None)  # a group, as in the real CLI
    start = time.monotonic()
    r = CliRunner().invoke(app, ["verify", *argv, "--root", str(REPO)], catch_exceptions=False)
    s.timings[step] = time.monotonic() - start
    return r.exit_code, r.output


def as_json(output: str) -> dict:
    return json.loads(output[output.index("{"):])


def ssh(s: Scenario, host: str, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ssh", "-F", str(s.lab.paths.ssh_config), "-o", "BatchMode=yes",
                           "-o", "ConnectTimeout=10", host, command],
                          capture_output=True, text=True, timeout=60, check=False)


def by_host(payload: dict) -> dict[str, dict]:
    return {h["host"]: h for h in payload["hosts"]}


# ------------------------------------------------------------------ the scenario


def test_plan_shows_the_drift_of_fresh_hosts(scenario: Scenario) -> None:
    code, out = cli(scenario, "plan (fresh hosts)", "plan", "--tenant", "aarhus",
                    "--tenant", "odder", "-o", "json")
    assert code == 0, out
    result = as_json(out)
    hosts = by_host(result)
    assert set(hosts) == set(HOSTS)
    for name, h in hosts.items():
        assert h["status"] == "changed", h  # in a plan: would change
        roles = {c["role"] for c in h["changes"]}
        assert {"admin_accounts", "time", "logging", "ssh_hardening", "monitoring_agent",
                "banner"} <= roles, (name, roles)
    chrony = next(c for c in hosts["aar-file01"]["changes"] if c["role"] == "time")
    assert "+server 10.250.0.123 iburst" in chrony["diff"]
    assert hosts[EXCEPTION_HOST]["exceptions"] == {"srv.ssh.password_auth": "AAR-EX-002"}
    # check mode changed nothing
    assert ssh(scenario, "aar-file01", "id fd-ops").returncode != 0
    assert not scenario.settings.audit_log.exists()


def test_apply_fixes_it_and_audits_every_change(scenario: Scenario) -> None:
    code, out = cli(scenario, "first converge (apply)", "apply", "--skip-plan", "-o", "json")
    assert code == 0, out
    result = as_json(out)
    assert result["summary"]["changed"] == len(HOSTS) and result["ok"]
    events = [e for e in audit.read(scenario.settings.audit_log) if e["run"] == result["run_id"]]
    assert len(events) == result["changed_tasks"] > 0
    sshd = [e for e in events if e["target"] == EXCEPTION_HOST
            and e["change"]["path"] == "/etc/ssh/sshd_config.d/00-faellesdrift.conf"]
    assert sshd and sshd[0]["change"]["controls"]["srv.ssh.password_auth"] == "AAR-EX-002"
    assert sshd[0]["tenant"] == "aarhus" and sshd[0]["command"] == "servers apply"


def test_the_operator_still_logs_in_with_the_key(scenario: Scenario) -> None:
    for host in HOSTS:
        root = ssh(scenario, host, "id -un")
        assert (root.returncode, root.stdout.strip()) == (0, "root"), root.stderr
        ops = subprocess.run(["ssh", "-F", str(scenario.lab.paths.ssh_config), "-o",
                              "BatchMode=yes", "-l", "fd-ops", host, "sudo -n id -un"],
                             capture_output=True, text=True, timeout=60, check=False)
        assert (ops.returncode, ops.stdout.strip()) == (0, "root"), ops.stderr


def test_a_second_apply_changes_nothing(scenario: Scenario) -> None:
    code, out = cli(scenario, "second apply", "apply", "--skip-plan", "-o", "json")
    assert code == 0, out
    result = as_json(out)
    assert result["changed_tasks"] == 0, [
        (h["host"], [c["task"] for c in h["changes"]]) for h in result["hosts"]]
    assert result["summary"]["ok"] == len(HOSTS)


def test_verify_passes_and_reports_the_exception_kept_value(scenario: Scenario) -> None:
    code, out = verify_cli(scenario, "verify", "-o", "json")
    assert code == 0, out
    result = as_json(out)
    hosts = by_host(result)
    assert all(h["status"] == "passed" and h["failed"] == 0 for h in hosts.values()), out
    (kept,) = hosts[EXCEPTION_HOST]["exceptions_kept"]
    assert kept == {"control": "srv.ssh.password_auth", "exception": "AAR-EX-002",
                    "value": True, "expires": expiry_of("AAR-EX-002").isoformat(),
                    "verified": True}
    pw = [c for c in hosts[EXCEPTION_HOST]["checks"] if c["control"] == "srv.ssh.password_auth"]
    assert len(pw) == 2 and all(c["source"] == "AAR-EX-002" for c in pw)
    assert hosts["aar-file01"]["exceptions_kept"] == []
    # the table for people says so too
    code, text = verify_cli(scenario, "verify (aarhus, table)", "--tenant", "aarhus")
    assert code == 0, text
    until = expiry_of("AAR-EX-002").isoformat()
    assert f"srv.ssh.password_auth = true by AAR-EX-002 until {until}" in text, text


def test_logs_reach_the_shared_siem(scenario: Scenario) -> None:
    marker = f"fd-siem-{uuid.uuid4().hex[:8]}"
    assert ssh(scenario, "odd-file01", f"logger -t faellesdrift {marker}").returncode == 0
    log = Path(scenario.lab.status().files["services_log"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [json.loads(x) for x in log.read_text().splitlines() if marker in x]
        if lines:
            assert lines[0]["service"] == "syslog" and lines[0]["peer"] == "10.27.10.11"
            return
        time.sleep(0.3)
    pytest.fail(f"{marker} never reached the lab's SIEM listener ({log})")


def test_tests_infra_runs_on_its_own_against_the_lab(scenario: Scenario) -> None:
    env = {**os.environ, "FAELLESDRIFT_STATE": str(scenario.settings.state_dir),
           "FAELLESDRIFT_TODAY": TODAY.isoformat()}
    env.pop("FAELLESDRIFT_VERIFY_EXPECT", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", str(REPO / "tests" / "infra"), "-v",
                           "-p", "no:cacheprovider"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    # the test id says which exception a check is held to
    assert "test_sshd_password_authentication[aar-citr08[AAR-EX-002]] PASSED" in proc.stdout


def test_local_drift_on_one_host_is_planned_and_fixed_alone(scenario: Scenario) -> None:
    r = ssh(scenario, "aar-file01", "echo 'pool pool.ntp.org iburst' >> /etc/chrony/chrony.conf")
    assert r.returncode == 0, r.stderr
    code, out = cli(scenario, "plan (one drifted host)", "plan", "-o", "json")
    assert code == 0, out
    hosts = by_host(as_json(out))
    assert hosts["aar-file01"]["status"] == "changed"
    assert hosts["aar-file01"]["changes"][0]["role"] == "time"
    assert "-pool pool.ntp.org iburst" in hosts["aar-file01"]["changes"][0]["diff"]
    assert all(hosts[h]["status"] == "ok" for h in HOSTS if h != "aar-file01")
    code, out = cli(scenario, "apply (one drifted host)", "apply", "--host", "aar-file01",
                    "--skip-plan", "-o", "json")
    assert code == 0, out
    assert by_host(as_json(out))["aar-file01"]["changed"] >= 1
    assert "pool" not in ssh(scenario, "aar-file01", "cat /etc/chrony/chrony.conf").stdout


def test_apply_reuses_the_plan_made_moments_before_and_shows_the_diff(
        scenario: Scenario) -> None:
    r = ssh(scenario, "odd-file01", "echo 'a local note' >> /etc/motd")
    assert r.returncode == 0, r.stderr
    code, out = cli(scenario, "plan (before apply)", "plan", "-o", "json")
    assert code == 0, out
    plan = as_json(out)
    assert by_host(plan)["odd-file01"]["status"] == "changed"
    runs = scenario.settings.state_dir / "servers" / "runs"
    plans_before = sorted(p.name for p in runs.iterdir() if "-plan-" in p.name)
    code, out = cli(scenario, "apply (plan reused)", "apply", "--yes", "--diff")
    assert code == 0, out
    assert "reused" in out and plan["run_id"] in out, out
    assert sorted(p.name for p in runs.iterdir() if "-plan-" in p.name) == plans_before
    assert "-a local note" in out, out  # the applied change's diff
    assert "a local note" not in ssh(scenario, "odd-file01", "cat /etc/motd").stdout
    # another selection (one tenant) has no plan of its own yet: apply checks first
    code, out = cli(scenario, "apply (after the change)", "apply", "--yes", "--tenant", "odder")
    assert code == 0, out
    assert "reused" not in out
    assert "slowest hosts:" in out


def test_a_host_stopped_mid_run_fails_alone_while_the_rest_finish(scenario: Scenario) -> None:
    estate = load_estate(REPO, TODAY)
    access = Access.from_lab(scenario.settings)
    selection = select(estate, reachable=access.servers)
    stopped: list[str] = []
    # the hosts are at the baseline (they end after the probe): local drift makes the
    # victim run its roles, and it is stopped in the middle of them
    assert ssh(scenario, VICTIM, "echo 'drift' >> /etc/motd").returncode == 0

    def stop_victim(host: str, task: str, state: str) -> None:
        if host == VICTIM and task == "Create the admin accounts" and not stopped:
            stop_server(scenario, VICTIM)
            stopped.append(task)

    start = time.monotonic()
    result = run(selection, access, scenario.settings, mode="apply", on_progress=stop_victim)
    scenario.timings["apply with a host stopped mid-run"] = time.monotonic() - start
    assert stopped, "the victim never reached the task where it is stopped"
    victim = result.hosts[VICTIM]
    assert victim.status in ("unreachable", "failed"), victim.to_dict()
    assert victim.reason, victim.to_dict()
    assert victim.ok > 0  # it got some way before it stopped
    for host in HOSTS:
        if host != VICTIM:
            assert result.hosts[host].status == "ok", result.hosts[host].to_dict()
    assert not result.ok
    failed = [e for e in audit.read(scenario.settings.audit_log)
              if e["run"] == result.run_id and e["target"] == VICTIM]
    assert failed and failed[0]["result"] == victim.status

    # while it is down, the CLI reports it per host and exits non-zero (it stays down:
    # the module's teardown removes the lab)
    code, out = cli(scenario, "apply (host down)", "apply", "--skip-plan")
    assert code == 1, out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines()
            if line.startswith("│") and line.split("│")[1].strip() in HOSTS}
    assert "unreachable" in rows[VICTIM], out
    assert all(" ok " in rows[h] for h in HOSTS if h != VICTIM), out


def stop_server(s: Scenario, name: str) -> None:
    """Power the server off the way a power cut does: SIGTERM to its nspawn process.

    The lab's API has no stop (delete_server also drops the disk and the record, so
    the host would be "not in the lab" rather than down); the process is this test
    lab's own, found by the pid the lab recorded. `systemctl poweroff` inside a host
    leaves the lab's nspawn process hanging, so it is not used.
    """
    record = json.loads(s.lab.paths.state_file.read_text())["servers"][name]
    os.kill(int(record["pid"]), signal.SIGTERM)
    deadline = time.monotonic() + 30
    while s.lab.read_server(name).running:
        if time.monotonic() > deadline:
            pytest.fail(f"{name} still runs 30 s after SIGTERM to its nspawn process")
        time.sleep(0.2)
