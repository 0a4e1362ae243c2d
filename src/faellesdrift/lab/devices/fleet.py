"""Serving emulated devices: one FakeNOS host per device, our stateful shell in front.

``serve()`` starts one device; the lab's emulator process (emulator.py) serves
every lab device with it, and ``Fleet`` serves a few devices inside the calling
process — for tests and benchmarks that need real SSH sessions to the lab's own
emulator without root or a running lab:

    with Fleet({"r1": ("cisco_ios", config_text)}, port=47000, directory=tmp) as fleet:
        fleet.endpoint("r1")      # ("127.0.0.1", 47000)
        fleet.running("r1")       # the running config's lines now
        fleet.slow("r1", 30)      # each `show` of the config takes 30 s (a device that hangs)
        fleet.stop("r1")          # taken down mid-run
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Self

from fakenos import FakeNOS
from fakenos.core.nos import Nos
from fakenos.plugins.nos import nos_plugins
from fakenos.plugins.servers import ssh_server_paramiko

from faellesdrift.lab.devices import sshserver
from faellesdrift.lab.devices.shell import LabShell
from faellesdrift.lab.devices.store import REGISTRY, DeviceStore, seed_lines

INTRO = {"juniper_junos": "--- JUNOS 21.4R3.15 Kernel 64-bit  JNPR-12.1-20230120",
         "cisco_ios": "", "arista_eos": "Last login: lab session"}
# fakenos has no built-in for some platforms: their canned commands come from a relative
# (our dialect answers everything the toolkit and netmiko send).
NOS_BASE: dict[str, str] = {"aruba_aoscx": "hp_procurve"}


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


def install() -> None:
    """Process-wide fakenos adjustments (idempotent): fast byte copier, workers that end."""
    ssh_server_paramiko.channel_to_shell_tap = fast_tap
    sshserver.install()


def nos_for(platform: str) -> Nos:
    """fakenos's command set of a platform (parse once per process and share it)."""
    return Nos(filename=nos_plugins[NOS_BASE.get(platform, platform)])


def serve(store: DeviceStore, port: int, username: str, password: str, nos: Nos,
          host_key: str | None = None) -> FakeNOS:
    """Start one device on 127.0.0.1:port, its config in ``store``."""
    REGISTRY[store.name] = store
    server: dict[str, Any] = {"address": "127.0.0.1", "timeout": 1,
                              "ssh_banner": f"faellesdrift lab device {store.name}"}
    if host_key:
        server["ssh_key_file"] = host_key
    inventory = {"hosts": {store.name: {
        "username": username, "password": password, "port": port,
        "platform": nos.name,
        "server": {"plugin": sshserver.PLUGIN, "configuration": server},
        "shell": {"plugin": "CMDShell", "configuration": {
            "device": store.name, "base_prompt": store.name,
            "intro": INTRO.get(store.platform, "")}},
        "nos": {"plugin": nos.name},
    }}}
    net = FakeNOS(inventory=inventory, plugins=[nos])
    net.shell_plugins["CMDShell"] = LabShell
    net.servers_plugins[sshserver.PLUGIN] = sshserver.LabSshServer
    net.start()
    return net


class Fleet:
    """Devices ``{name: (platform, config text)}`` on ports from ``port`` upwards, in-process."""

    def __init__(self, devices: dict[str, tuple[str, str]], port: int, directory: Path,
                 username: str, password: str) -> None:
        self.ports = {name: port + i for i, name in enumerate(sorted(devices))}
        self.username, self.password = username, password
        self.stores: dict[str, DeviceStore] = {}
        for name, (platform, text) in devices.items():
            store = DeviceStore(name, platform, directory / f"{name}.cfg", username)
            store.replace(list(seed_lines(platform, text)))
            self.stores[name] = store
        self.nets: dict[str, FakeNOS] = {}

    @property
    def devices(self) -> dict[str, DeviceStore]:
        return self.stores

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        install()
        shared: dict[str, Nos] = {}
        for s in self.stores.values():
            if s.platform not in shared:
                shared[s.platform] = nos_for(s.platform)
        errors: list[BaseException] = []

        def one(store: DeviceStore) -> None:
            try:
                self.nets[store.name] = serve(store, self.ports[store.name], self.username,
                                              self.password, shared[store.platform])
            except BaseException as exc:  # noqa: BLE001 - re-raised below, after the others
                errors.append(exc)

        threads = [threading.Thread(target=one, args=(s,)) for s in self.stores.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            self.close()
            raise errors[0]

    def close(self) -> None:
        threads = [threading.Thread(target=net.stop, daemon=True) for net in self.nets.values()
                   if any(h.running for h in net.hosts.values())]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        for name in self.stores:
            REGISTRY.pop(name, None)

    def endpoint(self, name: str) -> tuple[str, int]:
        return "127.0.0.1", self.ports[name]

    def running(self, name: str) -> list[str]:
        store = self.stores[name]
        with store.lock:
            return list(store.lines)

    def slow(self, name: str, seconds: float) -> None:
        self.stores[name].delay = seconds

    def stop(self, name: str) -> None:
        self.nets[name].stop()

    def open_sessions(self, name: str) -> int:
        return sum(len(h.server._active_sessions) for h in self.nets[name].hosts.values())
