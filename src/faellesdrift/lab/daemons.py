"""The lab's two daemons: the device emulator and netd (ssh forwarder + shared services).

Each reads a spec file written here (devices.json, forwards.json,
services.json), reloads it on SIGHUP and answers with a ready file carrying the
spec's generation, so the caller knows when its change is live. A change is also
live when the daemon serves the spec file's newest generation: specs are written under
the lab lock from the whole record, so a newer one holds every earlier change (a caller
that waits outside the lock, while others write newer specs, still sees its change).

Start-up protocol: a daemon installs its signal handlers first, then reads its
spec, then writes its ready file (with its pid). The lab never sends SIGHUP to
a daemon whose ready file does not carry its pid yet (Python's default SIGHUP
action ends the process); a daemon that is still starting will read the newest
spec by itself, or is signalled by `wait` once it has announced readiness.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

from faellesdrift.lab import netns, procs, teardown
from faellesdrift.lab.checks import listening_ports
from faellesdrift.lab.errors import LabError
from faellesdrift.lab.paths import LabPaths
from faellesdrift.lab.segments import Names
from faellesdrift.lab.spec import SERVICES_SEGMENT
from faellesdrift.lab.state import LabState, write_atomic

MODULES = {"emulator": "faellesdrift.lab.devices.emulator", "netd": "faellesdrift.lab.netd"}
READY = {"emulator": "devices.ready", "netd": "netd.ready"}


class Daemons:
    def __init__(self, paths: LabPaths, names: Names) -> None:
        self.paths = paths
        self.names = names

    def alive(self, state: LabState, kind: str) -> bool:
        pid = state.processes.get(kind, {}).get("pid")
        return procs.alive(pid, teardown.daemon_marker(state.prefix))

    def stop(self, state: LabState, kind: str) -> None:
        pid = state.processes.pop(kind, {}).get("pid")
        marker = teardown.daemon_marker(state.prefix)
        if pid:
            procs.stop([pid], lambda p: procs.alive(p, marker))

    def _ready(self, kind: str) -> dict:
        return _read(self.paths.root / READY[kind])

    def serves(self, kind: str, generation: str) -> bool:
        """The daemon serves ``generation`` of its spec, or the spec file's newest one
        (written after ``generation``, so it holds that change too)."""
        served = self._ready(kind).get("generation")
        if not served:
            return False
        spec = self.paths.devices_spec if kind == "emulator" else self.paths.forwards_spec
        return served == generation or served == _read(spec).get("generation")

    def announced(self, state: LabState, kind: str) -> bool:
        """The running daemon has written its ready file: its signal handlers are in place."""
        pid = state.processes.get(kind, {}).get("pid")
        return bool(pid) and self._ready(kind).get("pid") == pid

    def _reload(self, state: LabState, kind: str) -> None:
        """SIGHUP the daemon, but only once it has announced readiness."""
        if self.announced(state, kind):
            os.kill(state.processes[kind]["pid"], signal.SIGHUP)  # re-read its spec
            state.processes[kind]["signalled"] = time.time()

    def ensure(self, state: LabState, kind: str) -> None:
        if self.alive(state, kind):
            self._reload(state, kind)  # not announced yet: `wait` signals it later if needed
            return
        (self.paths.root / READY[kind]).unlink(missing_ok=True)  # a dead daemon's
        argv = [sys.executable, "-m", MODULES[kind], f"--lab={self.paths.root}",
                teardown.daemon_marker(self.names.prefix)]
        pid = procs.spawn(argv, self.paths.logs / f"{kind}.log")
        state.processes[kind] = {"pid": pid, "started": time.time()}

    def sync_emulator(self, state: LabState) -> str:
        """Write devices.json from the record; start or signal the emulator; its generation."""
        generation = uuid.uuid4().hex
        devices = [{"name": n, "platform": r["platform"], "port": r["port"],
                    "config": r["config"]} for n, r in sorted(state.devices.items())]
        write_atomic(self.paths.devices_spec, json.dumps(
            {"generation": generation, "host_key": str(self.paths.device_host_key),
             "devices": devices}, indent=2) + "\n")
        if not devices:
            self.stop(state, "emulator")
            return ""
        self.ensure(state, "emulator")
        return generation

    def sync_netd(self, state: LabState) -> str:
        """Write services.json and forwards.json; start or signal netd; its generation."""
        generation = uuid.uuid4().hex
        services = state.settings.get("services")
        if services and SERVICES_SEGMENT in state.segments:
            hosts = {n: r["address"].split("/")[0] for n, r in state.servers.items()}
            write_atomic(self.paths.services_spec,
                         json.dumps({**services, "hosts": hosts}, indent=2) + "\n")
        else:
            self.paths.services_spec.unlink(missing_ok=True)
        forwards = [{"name": n, "listen": r["loopback"], "port": 22,
                     "target": r["address"].split("/")[0], "target_port": 22}
                    for n, r in sorted(state.servers.items())]
        write_atomic(self.paths.forwards_spec, json.dumps(
            {"generation": generation, "forwards": forwards}, indent=2) + "\n")
        if not netns.exists(self.names.router):
            return ""
        self.ensure(state, "netd")
        return generation

    def wait(self, state: LabState, kind: str, generation: str,
             timeout: float = 120.0, *, devices: Iterable[str] | None = None) -> None:
        """Until the daemon serves `generation` of its spec or a newer one (bounded; the log
        tail on failure). ``devices``: the emulator's devices to check for listening
        (default: every device of ``state``).

        Liveness is judged by pid (see procs.alive), never by a ready file or log.
        A daemon that announced readiness with an older generation (it read its spec
        before this one was written) is signalled again, at most once a second.
        """
        if not generation:
            return
        log = self.paths.logs / f"{kind}.log"

        def ready() -> bool:
            if self.serves(kind, generation):
                return True
            last = state.processes.get(kind, {}).get("signalled", 0.0)
            if self.announced(state, kind) and time.time() - last > 1.0:
                self._reload(state, kind)
            return False

        procs.wait_until(ready, lambda: self.alive(state, kind), timeout, f"lab {kind}", log)
        if kind == "emulator":
            listening = listening_ports()
            names = state.devices if devices is None else devices
            missing = [n for n in names if state.devices[n]["port"] not in listening]
            if missing:
                raise LabError(f"devices not listening: {', '.join(sorted(missing))} "
                               f"(log: {self.paths.logs / 'emulator.log'})")


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
