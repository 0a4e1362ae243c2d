"""Distributed network compliance: local vs Celery with 1 and 2 workers, on the lab's fleet.

    .venv/bin/python benchmarks/distributed.py [--devices 252] [--workers 20] [--no-kill]

The lab's emulated devices (``faellesdrift.lab``) for a synthetic community —
the sample's nine tenants, each grown to the same number of devices — on the
lab resources named by FAELLESDRIFT_LAB_PREFIX / _PORTS / _LOOPBACK (defaults
below), a Redis started by scripts/redis-up.sh on FAELLESDRIFT_REDIS_PORT
(default 16392), and ``faellesdrift worker`` processes. Legs, one compliance
run each over every device:

  local         network compliance in this process (Nornir, --workers sessions)
  celery-1      the same through Celery, one worker (shards by tenant)
  celery-2      two workers
  celery-2-kill two workers, one killed (SIGKILL) when its first shard has started
  backup-local, backup-celery-2   network backup (a snapshot into the git repository;
                the Celery leg reports the commits it made: one, as a local run)

Prints each leg's seconds, devices/s, the CPU our side spent per device
(coordinator + workers) and the emulator's CPU, whether each compliance leg's
per-device results equal the local run's, and the ratio celery-2 / local
(target <= 1.3). Run under the lab lock: ``flock /tmp/fd-lab.lock …``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import date
from ipaddress import IPv4Network
from pathlib import Path

from network_fleet import start_lab, synthetic_community  # the same fleet set-up

from faellesdrift.distributed.executor import CeleryExecutor, ShardOutcome
from faellesdrift.distributed.shards import Caps
from faellesdrift.estate import load_estate
from faellesdrift.executors import Request
from faellesdrift.lab import Lab, LabPaths, LabSettings, cache_dir
from faellesdrift.network import Filters, FleetResult, NetworkSettings, backup, compliance
from faellesdrift.settings import Settings

REPO = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 27)
FAELLESDRIFT = Path(sys.executable).parent / "faellesdrift"


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def lab_for(state: Path) -> Lab:
    env = os.environ
    low, _, high = env.get("FAELLESDRIFT_LAB_PORTS", "48100-48499").partition("-")
    return Lab(LabPaths(root=state / "lab", cache=cache_dir() / "lab"),
               LabSettings(prefix=env.get("FAELLESDRIFT_LAB_PREFIX", "fdh2"),
                           device_ports=(int(low), int(high)),
                           loopback=IPv4Network(env.get("FAELLESDRIFT_LAB_LOOPBACK",
                                                        "127.62.0.0/16"))))


def redis_up() -> str:
    env = {**os.environ, "FAELLESDRIFT_REDIS_DIR": "/tmp/fd-bench-redis",
           "FAELLESDRIFT_REDIS_PORT": os.environ.get("FAELLESDRIFT_REDIS_PORT", "16392")}
    out = subprocess.run([str(REPO / "scripts" / "redis-up.sh")], env=env, check=True,
                         capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def redis_down() -> None:
    env = {**os.environ, "FAELLESDRIFT_REDIS_DIR": "/tmp/fd-bench-redis"}
    subprocess.run([str(REPO / "scripts" / "redis-up.sh"), "stop"], env=env, check=False)


class Workers:
    def __init__(self, url: str, logs: Path) -> None:
        self.url, self.logs, self.procs = url, logs, {}

    def start(self, n: int) -> None:
        env = {**os.environ, "FAELLESDRIFT_BROKER_URL": self.url,
               "FAELLESDRIFT_BROKER_VISIBILITY": "20"}
        for i in range(1, n + 1):
            name = f"b{i}"
            log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - lives with the process
            self.procs[name] = subprocess.Popen(
                [str(FAELLESDRIFT), "worker", "--name", name], env=env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        executor = CeleryExecutor(self.url)
        for _ in range(120):
            try:
                if len(executor.workers()) >= n:
                    return
            except Exception:  # noqa: BLE001,S110 - not up yet
                pass
            time.sleep(0.5)
        raise SystemExit("workers did not come up")

    def kill(self, name: str) -> None:
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait(10)

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        self.procs = {}


def rows(fleet: FleetResult) -> list[dict]:
    return [{**h.to_dict(), "seconds": None} for h in fleet.hosts]


def commits(repo: Path) -> int:
    return int(subprocess.run(["git", "-C", str(repo), "rev-list", "--count", "HEAD"],
                              capture_output=True, text=True, check=True).stdout)


def cpu() -> float:
    """CPU seconds of this process and its finished children (the workers, once stopped)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def emulator_cpu(state: Path) -> float:
    """CPU seconds the lab's emulator process has used (it serves every device)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if "lab.devices.emulator" in cmd and str(state) in cmd:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=252)
    ap.add_argument("--workers", type=int, default=20, help="sessions per run / per shard")
    ap.add_argument("--no-kill", action="store_true")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="fd-distbench-"))
    state = work / "state"
    root = synthetic_community(work, args.devices)
    os.environ["FAELLESDRIFT_TODAY"] = TODAY.isoformat()
    estate = load_estate(root, TODAY)
    settings = NetworkSettings.from_settings(
        Settings(root=root, state_dir=state, cache_dir=cache_dir()), target="lab",
        workers=args.workers, read_timeout=60.0, auth_timeout=30.0, conn_timeout=15.0)
    network = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(settings).items()}
    request = Request("network.compliance", root, state, TODAY, asdict(Filters()),
                      {"network": network})
    lab = lab_for(state)
    legs: list[dict] = []
    url = redis_up()
    workers = Workers(url, work)
    try:
        start_lab(lab, estate)
        n = len(estate.hosts(kind="network_device"))

        def leg(name: str, fn) -> FleetResult:
            say(f"{name} on {n} devices")
            c0, e0, t = cpu(), emulator_cpu(state), time.monotonic()
            fleet = fn()
            seconds = time.monotonic() - t
            e1 = emulator_cpu(state)
            workers.stop()  # their CPU time is counted once they have ended
            ours = cpu() - c0
            legs.append({"leg": name, "devices": n, "seconds": round(seconds, 1),
                         "devices_per_s": round(n / seconds, 2),
                         "failed": len(fleet.failed), "noncompliant": len(fleet.noncompliant),
                         "our_cpu_s": round(ours, 1),
                         "our_cpu_ms_per_device": round(1000 * ours / n, 1),
                         "emulator_cpu_s": round(e1 - e0, 1)})
            say(f"{name}: {seconds:.1f}s, {n / seconds:.2f} devices/s, "
                f"{len(fleet.failed)} failed, our CPU {1000 * ours / n:.0f} ms/device")
            return fleet

        local = leg("local", lambda: compliance(estate, settings))
        legs[-1]["identical"] = True
        plans = [(1, False), (2, False)] + ([] if args.no_kill else [(2, True)])
        for count, kill in plans:
            workers.start(count)
            killed: list[str] = []

            def on_event(o: ShardOutcome, kill: bool = kill, killed: list[str] = killed) -> None:
                if kill and not killed and o.status == "running" and "@" in o.worker:
                    killed.append(o.worker.split("@")[0])
                    workers.kill(killed[0])

            executor = CeleryExecutor(url, caps=Caps(), on_event=on_event)
            name = f"celery-{count}" + ("-kill" if kill else "")
            fleet = leg(name, lambda executor=executor: executor.run(request))
            legs[-1]["identical"] = rows(fleet) == rows(local)
            legs[-1]["shards"] = [o.to_dict() for o in executor.report.outcomes]
        leg("backup-local", lambda: backup(estate, settings))
        before = commits(settings.backups)
        workers.start(2)
        backups = CeleryExecutor(url, caps=Caps())
        leg("backup-celery-2", lambda: backups.run(
            Request("network.backup", root, state, TODAY, asdict(Filters()),
                    {"network": network})))
        legs[-1]["commits"] = commits(settings.backups) - before  # one per run, as local
    finally:
        workers.stop()
        lab.down()
        redis_down()
    by = {leg["leg"]: leg for leg in legs}
    out = {"devices": args.devices, "sessions_per_shard": args.workers, "legs": legs}
    if "celery-2" in by:
        out["ratio_celery2_vs_local"] = round(by["celery-2"]["seconds"] / by["local"]["seconds"],
                                              2)
        out["target"] = "ratio <= 1.3 and identical"
    if "celery-2-kill" in by:
        out["kill_cost_s"] = round(by["celery-2-kill"]["seconds"] - by["celery-2"]["seconds"], 1)
    print(json.dumps(out, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
