"""Onboarding one municipality: validate → plan → show what will happen → (--apply) apply →
verify → meter → report.

The steps are data (``STEPS``). Each runs another adapter's command as a
subprocess (``faellesdrift pulumi plan --tenant X``, …), so no adapter
imports another; ``validate`` and ``report`` run in-process because they are
the core and this package. A command that this installation does not have
yet fails its step with a message naming it — never a silent success.

Idempotent and resumable: every step's outcome is recorded in
``<state>/onboarding/<tenant>.json``. Plan steps (read-only) run every time,
so the plan is current. Apply steps that are recorded as done are skipped on
the next ``--apply``; a failed step runs again. When the tenant file or the
community standards changed since the recorded apply steps, they are stale
and run again. ``restart=True`` forgets the record.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from faellesdrift import clock, results
from faellesdrift.community import STANDARDS_FILE, TENANTS_DIR
from faellesdrift.errors import ConfigError, FaellesdriftError
from faellesdrift.estate import blocking, expired_note, validate
from faellesdrift.onboarding_record import (
    check_slug,
    load_record,
    record_path,
    save_record,
)
from faellesdrift.settings import Settings

Phase = Literal["plan", "apply"]
StepStatus = Literal["done", "failed"]
OUTPUT_TAIL = 40


@dataclass(frozen=True)
class Step:
    id: str
    title: str  # what it does, in plain words
    phase: Phase
    argv: tuple[str, ...] = ()  # sub-command and options; {tenant} and {month} are replaced
    internal: str | None = None  # or an in-process step: a key of INTERNAL
    provided_by: str = ""  # who builds the command, named when it is missing
    drift_ok: str | None = None  # results kind: exit 1 with a verdict for every host = ran

    def command(self, tenant: str) -> tuple[str, ...]:
        month = clock.today().strftime("%Y-%m")
        return tuple(a.replace("{tenant}", tenant).replace("{month}", month) for a in self.argv)

    def shown(self, tenant: str) -> str:
        if self.internal:
            return f"(built in: {self.internal})"
        return "faellesdrift " + " ".join(self.command(tenant))

    @property
    def words(self) -> tuple[str, ...]:
        """The sub-command path, without options: what `--help` checks."""
        out = []
        for a in self.argv:
            if a.startswith("-"):
                break
            out.append(a)
        return tuple(out)


STEPS: tuple[Step, ...] = (
    Step("validate", "Check the tenant file and the community guardrails", "plan",
         internal="validate"),
    Step("pulumi-plan", "Preview the platform resources the shared company would create",
         "plan", ("pulumi", "plan", "--tenant", "{tenant}"), provided_by="the Pulumi adapter"),
    Step("network-compliance", "Read the network devices and compare them with the baseline",
         "plan", ("network", "compliance", "--tenant", "{tenant}"),
         provided_by="the network adapter", drift_ok="network.compliance"),
    Step("servers-plan", "Run the server baseline in check mode (changes nothing)", "plan",
         ("servers", "plan", "--tenant", "{tenant}"), provided_by="the servers adapter"),
    Step("pulumi-apply", "Create the municipality's platform resources", "apply",
         ("pulumi", "apply", "--tenant", "{tenant}", "--yes"), provided_by="the Pulumi adapter"),
    Step("network-remediate", "Bring the network devices to the baseline (exceptions kept)",
         "apply", ("network", "remediate", "--tenant", "{tenant}", "--apply"),
         provided_by="the network adapter"),
    Step("servers-apply", "Apply the server baseline (exceptions kept)", "apply",
         ("servers", "apply", "--tenant", "{tenant}", "--yes"),
         provided_by="the servers adapter"),
    Step("verify", "Verify every server independently (testinfra)", "apply",
         ("verify", "--tenant", "{tenant}"), provided_by="the servers adapter"),
    Step("network-recheck", "Check network compliance again after the changes", "apply",
         ("network", "compliance", "--tenant", "{tenant}"), provided_by="the network adapter"),
    Step("meter", "Collect usage for settlement", "apply", ("meter", "collect"),
         provided_by="the metering adapter"),
    Step("settle", "Settle this month under every allocation model", "apply",
         ("bill", "--compare", "--period", "{month}"), provided_by="the metering adapter"),
    Step("report", "Write the transparency report", "apply", internal="report"),
)


# ------------------------------------------------------------------ record


@contextlib.contextmanager
def _exclusive(settings: Settings, tenant: str) -> Iterator[None]:
    lock = record_path(settings, tenant).with_name(f".{tenant}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"another `faellesdrift onboard {tenant}` is running "
                              f"(lock {lock}); wait for it to finish") from None
        yield
    finally:
        os.close(fd)


def fingerprint(settings: Settings, tenant: str) -> str:
    """The definition the apply steps were done for: the tenant file and the standards."""
    h = hashlib.sha256()
    for path in (settings.root / STANDARDS_FILE, _tenant_file(settings, tenant)):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _tenant_file(settings: Settings, tenant: str) -> Path:
    for suffix in (".yaml", ".yml"):
        path = settings.root / TENANTS_DIR / f"{tenant}{suffix}"
        if path.is_file():
            return path
    raise ConfigError(f"no tenant file {TENANTS_DIR}/{tenant}.yaml — create it with "
                      "`faellesdrift tenant new CODE --population N`")


# ------------------------------------------------------------------ running


@dataclass
class StepRun:
    step: Step
    status: Literal["done", "failed", "skipped", "pending", "unavailable"]
    message: str = ""
    exit_code: int | None = None
    seconds: float = 0.0
    output_tail: list[str] = field(default_factory=list)


@dataclass
class OnboardingOutcome:
    tenant: str
    applied: bool
    runs: list[StepRun]
    record: Path
    report: Path | None = None

    @property
    def ok(self) -> bool:
        return not any(r.status in ("failed", "unavailable") for r in self.runs)

    @property
    def failed(self) -> list[StepRun]:
        return [r for r in self.runs if r.status in ("failed", "unavailable")]


Say = Callable[[str], None]
Probe = Callable[[tuple[str, ...]], bool]  # does this installation have `faellesdrift WORDS`?


def find_cli() -> list[str]:
    """The `faellesdrift` console script of this installation."""
    here = Path(sys.executable).parent
    found = shutil.which("faellesdrift", path=os.pathsep.join([str(here),
                                                                os.environ.get("PATH", "")]))
    if not found:
        raise ConfigError("the `faellesdrift` command is not on PATH or next to "
                          f"{sys.executable}; install the package (./dev setup)")
    return [found]


class Runner:
    """Runs the steps of one tenant's onboarding. ``cli`` is the command prefix (tests
    give a stand-in); ``say`` prints one line for people."""

    def __init__(self, settings: Settings, tenant: str, *, cli: list[str] | None = None,
                 say: Say = print, steps: tuple[Step, ...] = STEPS,
                 timeout: float | None = None, probe: Probe | None = None) -> None:
        self.settings = settings
        self.tenant = tenant
        self.cli = list(cli) if cli is not None else None
        self.say = say
        self.steps = steps
        self.timeout = timeout
        self.probe = probe
        self._available: dict[tuple[str, ...], bool] = {}
        self.report: Path | None = None  # set by the report step

    # -- environment -------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["FAELLESDRIFT_ROOT"] = str(self.settings.root)
        env["FAELLESDRIFT_STATE"] = str(self.settings.state_dir)
        env.setdefault("FAELLESDRIFT_TODAY", clock.today().isoformat())
        env["NO_COLOR"] = "1"
        env["COLUMNS"] = env.get("COLUMNS", "120")
        return env

    def _prefix(self) -> list[str]:
        if self.cli is None:
            self.cli = find_cli()
        return self.cli

    def check_available(self) -> dict[tuple[str, ...], bool]:
        """Which sub-commands this installation has: asked of ``probe`` (the CLI passes its
        own command tree), else `faellesdrift WORDS --help` for each, in parallel."""
        wanted = sorted({s.words for s in self.steps if s.argv} - set(self._available))
        if self.probe is not None:
            self._available.update({w: self.probe(w) for w in wanted})
            return dict(self._available)
        prefix, env = self._prefix(), self._env()

        def probe(words: tuple[str, ...]) -> bool:
            try:
                p = subprocess.run([*prefix, *words, "--help"], env=env, capture_output=True,
                                   stdin=subprocess.DEVNULL, timeout=120, check=False)
            except (OSError, subprocess.TimeoutExpired):
                return False
            return p.returncode == 0

        with ThreadPoolExecutor(max_workers=8) as pool:
            for words, ok in zip(wanted, pool.map(probe, wanted), strict=True):
                self._available[words] = ok
        return dict(self._available)

    def available(self, step: Step) -> bool:
        if step.internal:
            return True
        if step.words not in self._available:
            self.check_available()
        return self._available[step.words]

    def missing_message(self, step: Step) -> str:
        who = f" ({step.provided_by})" if step.provided_by else ""
        return (f"`faellesdrift {' '.join(step.words)}` is not available in this installation"
                f"{who}; step {step.id!r} cannot run — install or wire that command, then run "
                f"`faellesdrift onboard {self.tenant}` again")

    # -- one step ----------------------------------------------------------------

    def run_step(self, step: Step) -> StepRun:
        if step.internal:
            return self._internal(step)
        if not self.available(step):
            return StepRun(step, "unavailable", self.missing_message(step))
        argv = [*self._prefix(), *step.command(self.tenant)]
        tail: deque[str] = deque(maxlen=OUTPUT_TAIL)
        started = time.monotonic()
        since = results.now()
        try:
            proc = subprocess.Popen(argv, env=self._env(), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True, errors="replace", bufsize=1)
        except OSError as exc:
            return StepRun(step, "failed", f"cannot start {argv[0]}: {exc.strerror}")
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            self.say(f"    {line}")
        try:
            code = proc.wait(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return StepRun(step, "failed", f"timed out after {self.timeout:.0f}s",
                           None, time.monotonic() - started, list(tail))
        seconds = time.monotonic() - started
        if code == 0:
            return StepRun(step, "done", "", code, seconds, list(tail))
        text = "\n".join(tail)
        if code == 2 and ("No such command" in text or "No such option" in text):
            return StepRun(step, "unavailable", self.missing_message(step) + f" ({tail[-1]})",
                           code, seconds, list(tail))
        if code == 1 and step.drift_ok:
            verdict = self._all_checked(step.drift_ok, since)
            if verdict is None:
                return StepRun(step, "done", "differences from the baseline found (see above); "
                               "the apply steps bring them in line", code, seconds, list(tail))
            return StepRun(step, "failed", f"exit code 1: {verdict}", code, seconds, list(tail))
        last = next((x for x in reversed(tail) if x.strip()), "")
        return StepRun(step, "failed", f"exit code {code}" + (f": {last}" if last else ""),
                       code, seconds, list(tail))

    def _all_checked(self, kind: str, since: str) -> str | None:
        """None when the run saved a verdict for every host of the tenant; else why not."""
        try:
            entry = results.tenant_entry(results.load(self.settings, kind), self.tenant)
        except results.ResultsError as exc:
            return str(exc)
        if entry is None or str(entry.get("generated_at", "")) < since:
            return (f"no {kind} results for {self.tenant} were saved by this run, so drift "
                    "cannot be told from failure")
        unchecked = [h.get("host") for h in entry.get("hosts", []) if h.get("compliant") is None]
        if unchecked:
            return f"{len(unchecked)} host(s) could not be read and checked: " + ", ".join(
                map(str, unchecked[:5]))
        return None

    def _internal(self, step: Step) -> StepRun:
        started = time.monotonic()
        try:
            message = INTERNAL[step.internal or ""](self)
        except FaellesdriftError as exc:
            return StepRun(step, "failed", str(exc), None, time.monotonic() - started)
        return StepRun(step, "done", message, 0, time.monotonic() - started)


# ------------------------------------------------------------------ in-process steps


def _validate(runner: Runner) -> str:
    result = validate(runner.settings.root)
    errors = blocking(result.findings)
    if errors:
        mine = [f for f in errors if f.file.startswith(f"{TENANTS_DIR}/{runner.tenant}.")]
        shown = (mine or errors)[:5]
        for f in shown:
            runner.say(f"    {f.one_line()}")
        whose = "its tenant file" if mine else "the community (other adapters refuse to run)"
        raise ConfigError(f"{len(errors)} validation error(s) in {whose}; first: "
                          f"{shown[0].one_line()}")
    assert result.estate is not None
    result.estate.tenant(runner.tenant)
    if note := expired_note(result.estate):
        runner.say(f"    {note}")
    warnings = [f for f in result.findings if f.file.startswith(f"{TENANTS_DIR}/{runner.tenant}.")]
    for f in warnings:
        runner.say(f"    warning: {f.one_line()}")
    return f"valid ({len(warnings)} warning(s))"


def _report(runner: Runner) -> str:
    from faellesdrift.reports.site import build_site

    site = build_site(runner.settings)
    runner.report = site.index
    return f"report written: {site.index} (this municipality: {site.tenant_page(runner.tenant)})"


INTERNAL: dict[str, Callable[[Runner], str]] = {"validate": _validate, "report": _report}


# ------------------------------------------------------------------ the flow


def onboard(settings: Settings, tenant: str, *, apply: bool = False, restart: bool = False,
            cli: list[str] | None = None, say: Say = print,
            steps: tuple[Step, ...] = STEPS, probe: Probe | None = None) -> OnboardingOutcome:
    """Run the plan steps, show what the apply steps will do, and with ``apply`` do them."""
    check_slug(tenant)
    current = fingerprint(settings, tenant)
    with _exclusive(settings, tenant):
        record = (None if restart else load_record(settings, tenant)) or {}
        record = {"tenant": tenant, "steps": dict(record.get("steps") or {}),
                  "fingerprint": record.get("fingerprint"),
                  "plan": [{"id": s.id, "title": s.title, "phase": s.phase} for s in steps]}
        stale = record["fingerprint"] not in (None, current)
        runner = Runner(settings, tenant, cli=cli, say=say, steps=steps, probe=probe)
        outcome = OnboardingOutcome(tenant, apply, [], record_path(settings, tenant))
        runner.check_available()

        def keep(run: StepRun) -> None:
            outcome.runs.append(run)
            entry = {"status": "done" if run.status == "done" else "failed",
                     "phase": run.step.phase, "command": run.step.shown(tenant),
                     "finished": results.now(), "seconds": round(run.seconds, 1),
                     "exit_code": run.exit_code, "message": run.message,
                     "output_tail": run.output_tail}
            if run.step.phase == "apply":
                entry["fingerprint"] = current
            record["steps"][run.step.id] = entry
            if run.step.phase == "apply" and run.status == "done":
                record["fingerprint"] = current
            save_record(settings, tenant, record)

        def announce(run: StepRun) -> None:
            mark = {"done": "ok", "failed": "FAILED", "unavailable": "NOT AVAILABLE"}[run.status]
            say(f"  [{mark}] {run.step.id}" + (f" — {run.message}" if run.message else ""))

        plan = [s for s in steps if s.phase == "plan"]
        for step in plan:
            say(f"- {step.id}: {step.title}  [{step.shown(tenant)}]")
            run = runner.run_step(step)
            keep(run)
            announce(run)
            if step.internal == "validate" and run.status != "done":
                break  # nothing else can run on an invalid community

        say("")
        say(f"What `faellesdrift onboard {tenant} --apply` does:")
        if stale:
            say("  (the tenant file or community.yaml changed since the recorded apply steps: "
                "every apply step runs again)")
        for step in (s for s in steps if s.phase == "apply"):
            done = record["steps"].get(step.id, {})
            if done.get("status") == "done" and done.get("fingerprint") == current:
                state = f"done {done.get('finished', '')} — skipped"
            elif not runner.available(step):
                state = "NOT AVAILABLE in this installation"
            elif done.get("status") == "failed":
                state = "failed last time — runs again"
            else:
                state = "will run"
            say(f"  - {step.id}: {step.title}  [{step.shown(tenant)}]  ({state})")

        if not outcome.ok:
            say("")
            say("The plan did not complete; nothing was changed. Fix what failed above and run "
                f"`faellesdrift onboard {tenant}` again.")
            return outcome
        if not apply:
            say("")
            say(f"Nothing was changed. Run `faellesdrift onboard {tenant} --apply` to do this.")
            return outcome

        say("")
        for step in (s for s in steps if s.phase == "apply"):
            done = record["steps"].get(step.id, {})
            if done.get("status") == "done" and done.get("fingerprint") == current:
                outcome.runs.append(StepRun(step, "skipped", f"done {done.get('finished')}"))
                say(f"- {step.id}: done {done.get('finished')}, skipped")
                continue
            say(f"- {step.id}: {step.title}  [{step.shown(tenant)}]")
            run = runner.run_step(step)
            keep(run)
            announce(run)
            if run.status != "done":
                say("")
                say(f"Stopped at {step.id}. Fix it and run `faellesdrift onboard {tenant} "
                    "--apply` again: the steps already done are skipped.")
                return outcome
        outcome.report = runner.report
        record["completed_at"] = results.now()
        save_record(settings, tenant, record)
        say("")
        say(f"{tenant} is onboarded: every step done.")
        return outcome


def completed(record: dict | None) -> bool:
    return bool(record and record.get("completed_at"))
