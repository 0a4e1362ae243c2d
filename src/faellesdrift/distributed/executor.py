"""The ``celery`` executor: a network or server run split into shards and run on Celery workers.

The coordinator (the command a person or CI runs) selects the devices as a
local run would, splits them into shards (shards.py), sends each to the queue
when the caps allow, shows progress per shard, and merges the shards' results
into one ``FleetResult`` (servers: one ``RunResult`` or ``VerifyResult``): the
CLI then prints, saves to the results store and exits exactly as after a local
run. What a local run writes once is written once here too, by the
coordinator: a backup's commit (the shards only read the configs) and a
verification's result.json and results records.

A shard that fails twice (tasks.RETRIES) is reported with its reason: each of
its devices becomes a failed row, the other shards finish. A shard whose
worker was killed is handed to another worker by the broker (app.py) and its
devices are checked again from the start. For backups, a deadline
(``FAELLESDRIFT_BACKUP_DEADLINE`` seconds, or ``deadline=``) bounds the
snapshot: shards not finished by then are reported failed and the ones not
started are dropped from the queue.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

from celery.result import AsyncResult
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from faellesdrift import clock
from faellesdrift.distributed.app import (
    QUEUE,
    SHARD_TASK,
    broker_url,
    check_reachable,
    make_app,
    shown,
)
from faellesdrift.distributed.codec import fleet_from_json, verify_from_json
from faellesdrift.distributed.shards import Caps, Gate, Shard, plan
from faellesdrift.distributed.tasks import (
    OPERATIONS,
    SERVER_OPERATIONS,
    fingerprint,
    network_settings,
)
from faellesdrift.errors import ConfigError, FaellesdriftError
from faellesdrift.estate import Estate, load_estate
from faellesdrift.executors import Request
from faellesdrift.network import DeviceResult, Filters, FleetResult, NetworkSettings, Status
from faellesdrift.network.backup import commit as backup_commit
from faellesdrift.settings import Settings
from faellesdrift.ui import err_console

DEADLINE_ENV = "FAELLESDRIFT_BACKUP_DEADLINE"
LIVENESS_EVERY = 15.0  # seconds between checks that some worker still answers


class DistributedError(FaellesdriftError):
    """The run could not be distributed (no broker, no worker)."""


@dataclass
class ShardOutcome:
    """What became of one shard."""

    shard: Shard
    status: str = "queued"  # queued, running, retrying, done, failed
    reason: str = ""
    worker: str = ""
    attempts: int = 0
    redelivered: bool = False
    started: float | None = None  # wall-clock seconds on the worker
    finished: float | None = None
    value: dict[str, Any] | None = None  # what the worker returned

    @property
    def fleet(self) -> FleetResult | None:
        return fleet_from_json(self.value["fleet"]) if self.value else None

    def to_dict(self) -> dict[str, Any]:
        return {"shard": self.shard.name, "devices": len(self.shard.hosts),
                "status": self.status, "reason": self.reason, "worker": self.worker,
                "attempts": self.attempts, "redelivered": self.redelivered,
                "seconds": round(self.finished - self.started, 2)
                if self.started and self.finished else None}


@dataclass
class Report:
    outcomes: list[ShardOutcome] = field(default_factory=list)

    def by_name(self) -> dict[str, ShardOutcome]:
        return {o.shard.name: o for o in self.outcomes}


def _deadline_from_env() -> float | None:
    raw = os.environ.get(DEADLINE_ENV, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigError(f"{DEADLINE_ENV}={raw!r}: use seconds, e.g. 3600")
    return value


class CeleryExecutor:
    """Runs a ``Request`` on the workers listening on ``FAELLESDRIFT_BROKER_URL``."""

    def __init__(self, url: str | None = None, *, caps: Caps | None = None,
                 deadline: float | None = None, poll: float = 0.1,
                 on_event: Callable[[ShardOutcome], None] | None = None) -> None:
        self.url = broker_url(url)
        self.caps = caps if caps is not None else Caps.from_env()
        self.deadline = deadline if deadline is not None else _deadline_from_env()
        self.poll = poll
        self.on_event = on_event
        self.app = make_app(self.url)
        self.report = Report()

    # ------------------------------------------------------------------ the run

    def run(self, request: Request) -> Any:
        """A ``FleetResult`` for network operations, a servers ``RunResult`` for servers."""
        if request.operation in SERVER_OPERATIONS:
            return self._run_servers(request)
        if request.operation not in OPERATIONS:
            raise ConfigError(f"--executor celery runs {', '.join([*OPERATIONS, *SERVER_OPERATIONS])}"
                              f"; run {request.operation} with --executor local")
        started = clock.now()
        estate = load_estate(request.root, request.today)
        filters = Filters(**{k: tuple(v) for k, v in request.filters.items()})
        hosts = filters.select(estate)
        network = dict(request.options.get("network", {}))
        shards = plan(hosts, int(network.get("workers", 20)), self.caps)
        self.workers()
        prints = {s.tenant: fingerprint(request.root, s.tenant) for s in shards}
        payloads = {s.name: {"operation": request.operation, "root": str(request.root),
                             "state_dir": str(request.state_dir),
                             "today": request.today.isoformat(), "tenant": s.tenant,
                             "hosts": list(s.hosts), "fingerprint": prints[s.tenant],
                             "network": {**network, "workers": s.workers},
                             "apply": bool(request.options.get("apply"))}
                    for s in shards}
        self.report = Report([ShardOutcome(s) for s in shards])
        self._dispatch(request, payloads)
        return self._merge(request, estate, filters, started)

    def _run_servers(self, request: Request) -> Any:
        """``servers plan|apply|verify``: one shard per tenant (Ansible or testinfra)."""
        from faellesdrift.servers.access import Access
        from faellesdrift.servers.hostvars import select
        from faellesdrift.servers.verify import new_verify_id

        started = time.monotonic()
        estate = load_estate(request.root, request.today)
        settings = Settings(request.root, request.state_dir, Settings.from_env(request.root)
                            .cache_dir)
        access = Access.from_lab(settings)
        selection = select(estate, tenants=request.filters.get("tenants", ()),
                           hosts=request.filters.get("hosts", ()), reachable=access.servers,
                           connect_user=access.user)
        groups: dict[str, list[str]] = {}
        for tenant, host in [*((b.tenant, b.host) for b in selection.targets),
                             *((r.tenant, r.host) for r in selection.refused)]:
            groups.setdefault(tenant, []).append(host)
        forks = request.options.get("forks")
        shards = [Shard(t, t, tuple(hosts), {}, forks or len(hosts))
                  for t, hosts in groups.items()]
        self.workers()
        run_id = new_verify_id() if request.operation == "servers.verify" else ""
        directory = settings.state_dir / "servers" / "verify" / run_id
        payloads = {s.name: {"operation": request.operation, "root": str(request.root),
                             "state_dir": str(request.state_dir),
                             "today": request.today.isoformat(), "tenant": s.tenant,
                             "hosts": list(s.hosts), "forks": forks,
                             "workers": request.options.get("workers", 4),
                             "run_id": run_id, "directory": str(directory),
                             "fingerprint": fingerprint(request.root, s.tenant)}
                    for s in shards}
        self.report = Report([ShardOutcome(s) for s in shards])
        self._dispatch(request, payloads)
        if request.operation == "servers.verify":
            return _merge_verify(self.report, selection, settings, run_id, directory,
                                 time.monotonic() - started)
        return _merge_runs(request, self.report, selection, time.monotonic() - started)

    def workers(self) -> list[str]:
        """The workers that answer now; none is an error that says how to start one."""
        check_reachable(self.url)
        try:
            replies = self.app.control.ping(timeout=1.0)
        except (OperationalError, RedisError, OSError) as exc:
            raise DistributedError(f"the broker at {shown(self.url)} cannot be reached "
                                   f"({type(exc).__name__}): start Redis "
                                   "(scripts/redis-up.sh) or fix FAELLESDRIFT_BROKER_URL"
                                   ) from None
        names = sorted(name for reply in replies for name in reply)
        if not names:
            raise DistributedError(f"no worker answers on {shown(self.url)}: start one or more "
                                   "with `faellesdrift worker` (same FAELLESDRIFT_BROKER_URL)")
        return names

    def _dispatch(self, request: Request, payloads: dict[str, dict]) -> None:
        gate = Gate(self.caps)
        waiting = list(self.report.outcomes)
        running: dict[str, tuple[ShardOutcome, AsyncResult]] = {}
        limit = self.deadline if request.operation == "network.backup" else None
        ends = time.monotonic() + limit if limit else None
        expires = datetime.now(UTC) + timedelta(seconds=limit) if limit else None
        checked = time.monotonic()
        try:
            self._loop(request, payloads, gate, waiting, running, limit, ends, expires, checked)
        except BaseException:  # Ctrl-C or an error here: no shard of this run starts later
            for _, result in running.values():
                result.revoke()
            raise

    def _loop(self, request: Request, payloads: dict[str, dict], gate: Gate,
              waiting: list[ShardOutcome], running: dict[str, tuple[ShardOutcome, AsyncResult]],
              limit: float | None, ends: float | None, expires: datetime | None,
              checked: float) -> None:
        with _Display(self.report) as display:
            while waiting or running:
                for o in list(waiting):
                    if gate.fits(o.shard):
                        result = self.app.send_task(SHARD_TASK, args=[payloads[o.shard.name]],
                                                    queue=QUEUE, expires=expires)
                        gate.start(o.shard)
                        running[result.id] = (o, result)
                        waiting.remove(o)
                for task_id, (o, result) in list(running.items()):
                    if self._observe(o, result):
                        gate.finish(o.shard)
                        del running[task_id]
                        result.forget()
                    display.update(o)
                    if self.on_event:
                        self.on_event(o)
                if ends is not None and time.monotonic() > ends:
                    for o in waiting + [o for o, _ in running.values()]:
                        o.status = "failed"
                        o.reason = (f"the backup deadline ({limit:g} s) passed before this "
                                    "shard finished; its previous backups are kept")
                        display.update(o)
                    for _, result in running.values():
                        result.revoke()
                    return
                if (waiting or running) and time.monotonic() - checked > LIVENESS_EVERY:
                    checked = time.monotonic()
                    self.workers()  # every worker gone: an error, not a run that never ends
                time.sleep(self.poll)

    def _observe(self, o: ShardOutcome, result: AsyncResult) -> bool:
        """Update the shard's outcome from its task; True when it is finished."""
        state = result.state
        if state == "SUCCESS":
            value = o.value = result.result
            o.status, o.worker = "done", value["worker"]
            o.attempts, o.redelivered = value["attempts"], value["redelivered"]
            o.started, o.finished = value["started"], value["finished"]
            return True
        if state in ("FAILURE", "REVOKED"):
            exc = result.result
            o.status, o.attempts = "failed", RETRIES_TOTAL
            why = f"{type(exc).__name__}: {exc}" if isinstance(exc, BaseException) else str(exc)
            o.reason = (f"shard {o.shard.name} failed {RETRIES_TOTAL} times: {why}"
                        if state == "FAILURE" else f"shard {o.shard.name} was revoked")
            return True
        if state == "STARTED":
            o.status = "running"
            info = result.info if isinstance(result.info, dict) else {}
            o.worker = str(info.get("hostname", o.worker))
        elif state == "RETRY":
            o.status = "retrying"
            o.reason = str(result.info)
        return False

    # ------------------------------------------------------------------ merging

    def _merge(self, request: Request, estate: Estate, filters: Filters, started: datetime
               ) -> FleetResult:
        rows: list[DeviceResult] = []
        details: dict[str, Any] = {}
        network = request.options.get("network", {})
        target, command = str(network.get("target", "")), ""
        configs: dict[str, str] = {}
        for o in self.report.outcomes:
            if o.fleet is not None:
                rows += o.fleet.hosts
                details.update(o.fleet.details)
                target, command = o.fleet.target, o.fleet.command
                configs.update(o.value.get("configs") or {})
                continue
            for name in o.shard.hosts:
                h = estate.host(name)
                rows.append(DeviceResult(name, h.tenant, h.spec.platform, Status.FAILED, o.reason))
        details.update({"filters": filters.describe(), "workers": network.get("workers", 20),
                        "executor": "celery", "caps": self.caps.describe(),
                        "shards": [o.to_dict() for o in self.report.outcomes]})
        rows.sort(key=lambda h: (h.tenant, h.host))
        fleet = FleetResult(command or _command(request), tuple(rows), started, clock.now(),
                            target, details)
        if request.operation == "network.backup":  # the shards read; the run commits once
            fleet = backup_commit(self._network_settings(request), fleet, configs)
        return fleet

    @staticmethod
    def _network_settings(request: Request) -> NetworkSettings:
        base = Settings.from_env(request.root)
        settings = Settings(root=request.root, state_dir=request.state_dir,
                            cache_dir=base.cache_dir)
        return network_settings(settings, request.options.get("network", {}))


RETRIES_TOTAL = 2  # the first try and tasks.RETRIES more


def _merge_runs(request: Request, report: Report, selection: Any, elapsed: float) -> Any:
    """The shards' server runs as one ``RunResult``, hosts in the selection's order."""
    from faellesdrift.servers.results import RunResult, TaskFailure
    from faellesdrift.servers.results import ServerResult as ServerHost

    mode = request.operation.split(".", 1)[1]
    hosts: dict[str, Any] = {}
    runs = []
    errors = []
    for o in report.outcomes:
        if o.value is None:
            for name in o.shard.hosts:
                hosts[name] = ServerHost(name, o.shard.tenant, failed=1, seen=True,
                                         failures=[TaskFailure("shard", "", o.reason)])
            continue
        run = RunResult.from_dict(o.value["run"])
        runs.append(run)
        hosts.update(run.hosts)
        if run.error:
            errors.append(f"{o.shard.name}: {run.error}")
    order = [*selection.names, *(r.host for r in selection.refused)]
    ordered = {n: hosts[n] for n in order if n in hosts}
    ordered.update({n: h for n, h in hosts.items() if n not in ordered})
    task_seconds: dict[str, float] = {}
    for run in runs:
        for k, v in run.task_seconds.items():
            task_seconds[k] = task_seconds.get(k, 0.0) + v
    run_id = runs[0].run_id + (f" (+{len(runs) - 1} shard(s))" if len(runs) > 1 else "") \
        if runs else "none"
    statuses = {r.status for r in runs} - {""}
    return RunResult(mode, run_id, ordered, dict(selection.left_out),
                     max((r.rc for r in runs if r.rc is not None), default=None),
                     "successful" if statuses == {"successful"} else ",".join(sorted(statuses)),
                     "; ".join(errors), elapsed,
                     str(Path(runs[0].artifacts).parent) if runs else "", task_seconds)


def _merge_verify(report: Report, selection: Any, settings: Settings, run_id: str,
                  directory: Path, elapsed: float) -> Any:
    """The shards' checks as one ``VerifyResult``, recorded once as a local run records it."""
    from faellesdrift.servers.verify import CheckResult, HostVerify, VerifyResult, record

    hosts: dict[str, Any] = {}
    errors: list[str] = []
    for o in report.outcomes:
        if o.value is None:
            for name in o.shard.hosts:
                hosts[name] = HostVerify(name, o.shard.tenant, [CheckResult(
                    name, "", "shard", "failed", "standard", o.reason)])
            continue
        shard = verify_from_json(o.value["verify"])
        hosts.update(shard.hosts)
        errors += [f"{o.shard.name}: {e}" for e in shard.errors]
    order = [*selection.names, *(r.host for r in selection.refused)]
    ordered = {n: hosts[n] for n in order if n in hosts}
    result = VerifyResult(run_id, ordered, dict(selection.left_out), elapsed, errors,
                          str(directory))
    if selection.targets:
        record(result, selection, settings)
    return result


def _command(request: Request) -> str:
    name = "network " + request.operation.split(".", 1)[1]
    if request.operation == "network.remediate" and request.options.get("apply"):
        name += " --apply"
    return name


class _Display:
    """One progress row per shard on stderr (a line per finished shard off a terminal)."""

    def __init__(self, report: Report) -> None:
        self.live = err_console.is_terminal
        self.said: set[str] = set()
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                            TextColumn("{task.fields[state]}"), TimeElapsedColumn(),
                            console=err_console, transient=False)
        self.rows = {o.shard.name: self.bar.add_task(
            f"{o.shard.name} ({len(o.shard.hosts)} device(s))", total=1, state="queued")
            for o in report.outcomes}

    def update(self, o: ShardOutcome) -> None:
        state = o.status + (f" on {o.worker}" if o.worker and o.status == "running" else "")
        if o.status == "failed":
            state = f"failed: {o.reason[:60]}"
        self.bar.update(self.rows[o.shard.name], state=state,
                        completed=1 if o.status in ("done", "failed") else 0)
        if not self.live and o.status in ("done", "failed") and o.shard.name not in self.said:
            self.said.add(o.shard.name)
            err_console.print(f"  shard {o.shard.name}: {len(o.shard.hosts)} device(s) "
                              f"{o.status}" + (f" on {o.worker}" if o.worker else "")
                              + (f": {o.reason}" if o.status == "failed" else ""),
                              highlight=False, markup=False)

    def __enter__(self) -> Self:
        if self.live:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()
