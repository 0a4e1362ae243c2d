"""`faellesdrift verify`: run the testinfra checks in tests/infra/ and summarise them per host.

The checks get their expected values from the same Baselines the playbooks
get (faellesdrift.servers.expectations). Hosts are split over a few pytest
processes (one shard each) that run side by side; each writes a JSON report,
and the reports merge into one VerifyResult.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from faellesdrift import results
from faellesdrift.servers.access import Access
from faellesdrift.servers.errors import ServersError
from faellesdrift.servers.expectations import expectations, write
from faellesdrift.servers.hostvars import Selection, select
from faellesdrift.servers.runner import close_masters, new_run_id
from faellesdrift.settings import Settings

EXPECT_ENV = "FAELLESDRIFT_VERIFY_EXPECT"
REPORT_ENV = "FAELLESDRIFT_VERIFY_REPORT"
MAX_WORKERS = 4
HostStatus = Literal["passed", "failed", "unreachable", "not run"]


@dataclass(frozen=True)
class CheckResult:
    host: str
    control: str
    check: str
    outcome: str  # passed, failed, skipped
    source: str
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "control": self.control, "outcome": self.outcome,
                "source": self.source, "message": self.message}


@dataclass(frozen=True)
class KeptValue:
    """An exception-kept value on a host, and whether the host really has it."""

    control: str
    exception: str
    value: Any
    expires: str | None
    verified: bool

    def to_dict(self) -> dict[str, Any]:
        return {"control": self.control, "exception": self.exception, "value": self.value,
                "expires": self.expires, "verified": self.verified}


@dataclass
class HostVerify:
    host: str
    tenant: str
    checks: list[CheckResult] = field(default_factory=list)
    kept: list[KeptValue] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(c.outcome == "passed" for c in self.checks)

    @property
    def failed(self) -> int:
        return sum(c.outcome != "passed" for c in self.checks)

    @property
    def status(self) -> HostStatus:
        if not self.checks:
            return "not run"
        bad = [c for c in self.checks if c.outcome != "passed"]
        if bad and all("unreachable" in c.message for c in bad) and not self.passed:
            return "unreachable"
        return "failed" if bad else "passed"

    @property
    def reason(self) -> str:
        bad = [c for c in self.checks if c.outcome != "passed"]
        if not self.checks:
            return "no check ran for this host"
        return bad[0].message if bad else ""

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "tenant": self.tenant, "status": self.status,
                "passed": self.passed, "failed": self.failed, "reason": self.reason,
                "exceptions_kept": [k.to_dict() for k in self.kept],
                "checks": [c.to_dict() for c in self.checks]}


@dataclass
class VerifyResult:
    run_id: str
    hosts: dict[str, HostVerify]
    left_out: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0
    errors: list[str] = field(default_factory=list)
    directory: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and all(h.status == "passed" for h in self.hosts.values())

    def summary(self) -> dict[str, int]:
        return {s: sum(h.status == s for h in self.hosts.values())
                for s in ("passed", "failed", "unreachable", "not run")}

    def merge(self, other: VerifyResult) -> VerifyResult:
        """This run and one over other hosts (a canary wave and the rest) as one result."""
        return VerifyResult(f"{self.run_id}, {other.run_id}", {**self.hosts, **other.hosts},
                            {**self.left_out, **other.left_out}, self.elapsed + other.elapsed,
                            [*self.errors, *other.errors],
                            ", ".join(dict.fromkeys(filter(None, (self.directory,
                                                                  other.directory)))))

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "ok": self.ok, "elapsed_s": round(self.elapsed, 1),
                "summary": self.summary(), "errors": self.errors, "directory": self.directory,
                "hosts": [h.to_dict() for h in self.hosts.values()],
                "left_out": dict(self.left_out)}


def infra_dir(settings: Settings) -> Path:
    path = settings.root / "tests" / "infra"
    if not (path / "test_baseline.py").is_file():
        raise ServersError(f"{path}/test_baseline.py is missing: the testinfra checks live in "
                           "tests/infra/ at the repository root")
    return path


def lab_expectations(settings: Settings | None = None) -> dict[str, Any]:
    """Expectations for every lab server (used when pytest runs tests/infra directly)."""
    from faellesdrift.estate import load_estate

    settings = settings or Settings.from_env()
    access = Access.from_lab(settings)
    estate = load_estate(settings.root)
    selection = select(estate, reachable=access.servers, connect_user=access.user)
    data = expectations(selection, access,
                        control_dir=Path(tempfile.mkdtemp(prefix="fd-ti-")))
    data["control_dir_owned"] = True
    return data


def parse_report(records: list[dict[str, Any]], selection: Selection) -> dict[str, HostVerify]:
    """Per-host results from the conftest's JSON records (one per check and host)."""
    hosts = {b.host: HostVerify(b.host, b.tenant) for b in selection.targets}
    for r in records:
        host = r.get("host")
        if host not in hosts:
            continue
        hosts[host].checks.append(CheckResult(
            host=host, control=r.get("control", ""), check=r.get("check", ""),
            outcome=r.get("outcome", "failed"), source=r.get("source", "standard"),
            message=r.get("message", "")))
    for b in selection.targets:
        hv = hosts[b.host]
        for c in b.exceptions:
            mine = [x for x in hv.checks if x.control == c.control]
            verified = bool(mine) and all(x.outcome == "passed" for x in mine)
            hv.kept.append(KeptValue(c.control, c.source, c.value,
                                     c.expires.isoformat() if c.expires else None, verified))
    return hosts


def _refused(selection: Selection) -> dict[str, HostVerify]:
    """Hosts whose effective values are unsafe: not checked, failed with the reason."""
    return {r.host: HostVerify(r.host, r.tenant, checks=[CheckResult(
        r.host, "", "host vars", "failed", "standard", f"refused: {r.reason}")])
        for r in selection.refused}


def _shards(selection: Selection, workers: int) -> list[Selection]:
    n = max(1, min(workers, len(selection.targets)))
    groups: list[list] = [[] for _ in range(n)]
    for i, b in enumerate(selection.targets):
        groups[i % n].append(b)
    return [Selection(tuple(g)) for g in groups if g]


def new_verify_id() -> str:
    return new_run_id("plan").replace("-plan-", "-verify-")


def verify(selection: Selection, access: Access, settings: Settings, *,
           workers: int = MAX_WORKERS, timeout: float = 900) -> VerifyResult:
    """Run tests/infra against the selected hosts; failures are in the result."""
    result = check(selection, access, settings, workers=workers, timeout=timeout)
    if selection.targets:
        record(result, selection, settings)
    return result


def check(selection: Selection, access: Access, settings: Settings, *,
          workers: int = MAX_WORKERS, timeout: float = 900, run_id: str | None = None,
          directory: Path | None = None) -> VerifyResult:
    """The checks alone, their reports in ``directory`` (a shard of a larger run, whose
    merged result is recorded once)."""
    tests = infra_dir(settings)
    run_id = run_id or new_verify_id()
    directory = directory or settings.state_dir / "servers" / "verify" / run_id
    result = VerifyResult(run_id, _refused(selection), dict(selection.left_out),
                          directory=str(directory))
    if not selection.targets:
        return result
    directory.mkdir(parents=True, exist_ok=True)
    control = Path(tempfile.mkdtemp(prefix="fd-ti-"))
    shards = _shards(selection, workers)
    start = time.monotonic()

    def one(index: int, shard: Selection) -> tuple[list[dict[str, Any]], str]:
        own = control / str(index)  # per shard: a shard closes its own masters when done
        own.mkdir()
        expect = write(directory / f"expect-{index}.json",
                       expectations(shard, access, control_dir=own))
        report = directory / f"report-{index}.json"
        env = {**os.environ, EXPECT_ENV: str(expect), REPORT_ENV: str(report),
               "PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                        os.environ.get("PATH", "")])}
        argv = [sys.executable, "-m", "pytest", str(tests), "-q", "--no-header",
                "-p", "no:cacheprovider", "--rootdir", str(settings.root), "-o", "addopts=",
                "-o", "console_output_style=classic"]
        try:
            proc = subprocess.run(argv, env=env, cwd=settings.root, capture_output=True,
                                  text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return [], f"shard {index}: pytest did not finish within {timeout:.0f} s"
        (directory / f"pytest-{index}.log").write_text(proc.stdout + proc.stderr)
        if not report.exists():
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
            return [], (f"shard {index}: pytest ended with rc {proc.returncode} without a "
                        f"report: {' | '.join(tail)}")
        return json.loads(report.read_text()), ""

    try:
        with ThreadPoolExecutor(max_workers=len(shards)) as pool:
            outcomes = list(pool.map(lambda a: one(*a), enumerate(shards)))
    finally:
        for own in control.iterdir():
            close_masters(own)
        shutil.rmtree(control, ignore_errors=True)
    records = [r for recs, _ in outcomes for r in recs]
    result.errors = [e for _, e in outcomes if e]
    result.errors += [r["message"] for r in records if r.get("host") is None]
    result.hosts = {**parse_report(records, selection), **_refused(selection)}
    result.elapsed = time.monotonic() - start
    return result


def record(result: VerifyResult, selection: Selection, settings: Settings) -> None:
    """The run's result.json and its ``servers.verify`` results (per tenant)."""
    directory = Path(result.directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "result.json").write_text(json.dumps(result.to_dict(), indent=2, default=str))
    results.save(settings, "servers.verify", results_payload(result, selection))


def results_payload(result: VerifyResult, selection: Selection) -> dict[str, Any]:
    """The verification as a ``servers.verify`` payload (faellesdrift.results)."""
    tenants: dict[str, Any] = {}
    for r in selection.refused:
        entry = tenants.setdefault(r.tenant, {"ok": False, "run_id": result.run_id,
                                              "hosts": []})
        entry["ok"] = False
        entry["hosts"].append({"host": r.host, "status": "failed",
                               "reason": f"refused: {r.reason}", "compliant": None,
                               "exceptions": [], "controls": [], "passed": 0, "failed": 1})
    for b in selection.targets:
        h = result.hosts[b.host]
        known = h.status in ("passed", "failed")
        controls = []
        for c in b.controls:
            mine = [x for x in h.checks if x.control == c.control]
            bad = [x for x in mine if x.outcome != "passed"]
            controls.append({
                "control": c.control, "source": c.source,
                "compliant": (not bad) if known and mine else None,
                "exception_status": c.exception_status,
                "note": bad[0].message if bad else f"{len(mine)} check(s) passed"})
        status = {"passed": "ok", "failed": "failed", "unreachable": "unreachable",
                  "not run": "not run"}[h.status]
        row = {"host": b.host, "status": status, "reason": h.reason,
               "compliant": (h.status == "passed") if known else None,
               "exceptions": [c.source for c in b.exceptions], "controls": controls,
               "passed": h.passed, "failed": h.failed}
        entry = tenants.setdefault(b.tenant, {"ok": True, "run_id": result.run_id,
                                              "hosts": []})
        entry["hosts"].append(row)
        entry["ok"] = entry["ok"] and h.status == "passed" and not result.errors
    return {"tenants": tenants}
