"""The device emulator process: every lab device on its own 127.0.0.1 port, one process.

    python -m faellesdrift.lab.devices.emulator --lab <state>/lab --prefix fd

Reads devices.json (no secrets) and credentials.json; SIGHUP re-reads devices.json
and starts/stops devices to match; SIGTERM ends the process at once (configs
are saved on every change, so there is nothing to flush).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from fakenos import FakeNOS
from fakenos.core.nos import Nos

from faellesdrift.lab.devices.fleet import install, nos_for, serve
from faellesdrift.lab.devices.store import REGISTRY, DeviceStore
from faellesdrift.lab.keys import credentials
from faellesdrift.lab.paths import LabPaths
from faellesdrift.lab.state import write_atomic

log = logging.getLogger("faellesdrift.lab.emulator")


class Emulator:
    def __init__(self, paths: LabPaths) -> None:
        self.paths = paths
        self.nets: dict[str, tuple[FakeNOS, dict[str, Any]]] = {}
        self.nos: dict[str, Nos] = {}

    def _shared_nos(self, platform: str) -> Nos:
        """Parse each platform's command set once for all its devices."""
        if platform not in self.nos:
            self.nos[platform] = nos_for(platform)
        return self.nos[platform]

    def sync(self) -> str:
        spec = json.loads(self.paths.devices_spec.read_text())
        wanted = {d["name"]: d for d in spec["devices"]}
        for name in [n for n, (_, d) in self.nets.items() if wanted.get(n) != d]:
            net, _ = self.nets.pop(name)
            threading.Thread(target=net.stop, daemon=True).start()
            REGISTRY.pop(name, None)
        creds = credentials(self.paths)
        for name, dev in wanted.items():
            if name in self.nets:
                continue
            try:
                self._start(dev, creds.username, creds.password, spec["host_key"])
            except Exception as exc:  # noqa: BLE001 - one broken device must not stop the rest
                log.error("device %s (port %s) did not start: %s", name, dev["port"], exc)
        return str(spec.get("generation", ""))

    def _start(self, dev: dict[str, Any], username: str, password: str, host_key: str) -> None:
        name, platform = dev["name"], dev["platform"]
        store = DeviceStore.open(name, platform, Path(dev["config"]), username)
        net = serve(store, dev["port"], username, password, self._shared_nos(platform), host_key)
        self.nets[name] = (net, dev)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="faellesdrift.lab.devices.emulator")
    parser.add_argument("--lab", required=True, type=Path)
    parser.add_argument("--prefix", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    install()  # fast byte copier; workers of clients that leave before a session end
    paths = LabPaths(root=args.lab, cache=args.lab)
    emulator = Emulator(paths)
    # Handlers before the first ready file: the lab signals only a daemon whose ready
    # file carries its pid (Python's default SIGHUP action would end the process).
    reload_wanted = threading.Event()
    signal.signal(signal.SIGHUP, lambda *_: reload_wanted.set())
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    reload_wanted.set()
    while True:
        if reload_wanted.wait(1.0):
            reload_wanted.clear()
            generation = emulator.sync()
            write_atomic(paths.root / "devices.ready",
                         json.dumps({"pid": os.getpid(), "generation": generation,
                                     "time": time.time()}) + "\n")


if __name__ == "__main__":
    main()
