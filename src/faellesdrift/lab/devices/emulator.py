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
from fakenos.plugins.nos import nos_plugins
from fakenos.plugins.servers import ssh_server_paramiko

from faellesdrift.lab.devices import sshserver
from faellesdrift.lab.devices.shell import LabShell
from faellesdrift.lab.devices.store import REGISTRY, DeviceStore
from faellesdrift.lab.keys import credentials
from faellesdrift.lab.paths import LabPaths
from faellesdrift.lab.state import write_atomic

log = logging.getLogger("faellesdrift.lab.emulator")
INTRO = {"juniper_junos": "--- JUNOS 21.4R3.15 Kernel 64-bit  JNPR-12.1-20230120",
         "cisco_ios": "", "arista_eos": "Last login: lab session"}


def fast_tap(channel_stdio: Any, shell_stdin: Any, shell_replied_event: threading.Event,
             run_srv: threading.Event) -> None:
    """fakenos's channel->shell copier without its 10 ms sleep per received byte.

    Same protocol: echo each byte, hand complete lines to the shell, and wait for the
    shell's reply before reading on, so echo and output never interleave.
    """
    buffer = bytearray()
    while run_srv.is_set():
        byte = channel_stdio.read(1)
        shell_replied_event.wait(10)
        if not channel_stdio.channel.active or not byte:
            break
        try:
            if byte in (b"\r", b"\n"):
                channel_stdio.write(b"\r\n")
                shell_stdin.write(bytes(buffer + byte).decode("utf-8", errors="replace"))
                buffer.clear()
                shell_replied_event.clear()
            else:
                channel_stdio.write(byte)
                if byte != b"\x00":
                    buffer += byte
        except (OSError, EOFError):
            break


class Emulator:
    def __init__(self, paths: LabPaths) -> None:
        self.paths = paths
        self.nets: dict[str, tuple[FakeNOS, dict[str, Any]]] = {}
        self.nos: dict[str, Nos] = {}

    def _shared_nos(self, platform: str) -> Nos:
        """Parse each platform's command set once for all its devices."""
        if platform not in self.nos:
            self.nos[platform] = Nos(filename=nos_plugins[platform])
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
        REGISTRY[name] = DeviceStore.open(name, platform, Path(dev["config"]), username)
        inventory = {"hosts": {name: {
            "username": username, "password": password, "port": dev["port"],
            "platform": platform,
            "server": {"plugin": "ParamikoSshServer", "configuration": {
                "address": "127.0.0.1", "ssh_key_file": host_key, "timeout": 1,
                "ssh_banner": f"faellesdrift lab device {name}"}},
            "shell": {"plugin": "CMDShell", "configuration": {
                "device": name, "base_prompt": name, "intro": INTRO.get(platform, "")}},
            "nos": {"plugin": platform},
        }}}
        net = FakeNOS(inventory=inventory, plugins=[self._shared_nos(platform)])
        net.shell_plugins["CMDShell"] = LabShell
        net.servers_plugins[sshserver.PLUGIN] = sshserver.LabSshServer
        net.start()
        self.nets[name] = (net, dev)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="faellesdrift.lab.devices.emulator")
    parser.add_argument("--lab", required=True, type=Path)
    parser.add_argument("--prefix", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    ssh_server_paramiko.channel_to_shell_tap = fast_tap
    sshserver.install()  # workers of clients that leave before a session end (no leak)
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
