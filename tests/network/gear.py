"""A small in-process emulated fleet for the network tests and the benchmark.

fakenos serves SSH on private 127.0.0.1 ports; a stateful shell of ours
(fakenos 1.2.1 has no configure mode) keeps each device's running config and
answers as cisco_ios, arista_eos or juniper_junos for exactly the commands
netmiko, the network adapter and Ansible's network_cli send. The lab (issue 3)
has the full emulator; this one exists so that the adapter's tests do not
depend on root, namespaces or a running lab.

    with Gear({"r1": ("cisco_ios", config_text)}, port=47000) as gear:
        gear.endpoint("r1")        # ("127.0.0.1", 47000)
        gear.running("r1")         # the config lines now
        gear.hang("r1", 30)        # next `show` sleeps 30 s (a device that times out)
        gear.stop("r1")            # taken down mid-run
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from fakenos import FakeNOS
from fakenos.core.nos import Nos
from fakenos.plugins.servers import ssh_server_paramiko
from fakenos.plugins.shell.cmd_shell import CMDShell

from faellesdrift.lab.devices import sshserver
from faellesdrift.lab.devices.emulator import fast_tap

USER = "gearadmin"
PASSWORD = "gear-Secret-1"  # test-only credentials of a loopback emulator


@dataclass
class Device:
    name: str
    platform: str
    lines: list[str]  # top-level statements; a banner is one multi-line statement
    hang: float = 0.0
    commands: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)


def parse_config(platform: str, text: str) -> list[str]:
    """Config text (as rendered or shown) → top-level statements."""
    out: list[str] = []
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        i += 1
        if not line or line.startswith(("!", "#")) or line == "end":
            continue
        if platform == "juniper_junos":
            out.append(line.removeprefix("set "))
        elif line.startswith("banner "):
            end = "EOF" if platform == "arista_eos" else "^C"
            body = []
            while i < len(lines) and lines[i].strip() != end:
                body.append(lines[i].rstrip())
                i += 1
            i += 1
            out.append(_banner(platform, body))
        elif line[0].isspace() and out:
            out[-1] += "\n" + line
        else:
            out.append(line)
    return out


def _banner(platform: str, body: list[str]) -> str:
    if platform == "arista_eos":
        return "\n".join(["banner motd", *body, "EOF"])
    return "\n".join(["banner motd ^C", *body, "^C"])


SINGLE = ("hostname ", "system host-name ", "system login message ")


def _add(lines: list[str], stmt: str) -> None:
    key = next((k for k in SINGLE if stmt.startswith(k)), None)
    if key:
        lines[:] = [ln for ln in lines if not ln.startswith(key)]
    if stmt.startswith("banner motd"):
        lines[:] = [ln for ln in lines if not ln.startswith("banner motd")]
    if stmt not in lines:
        lines.append(stmt)


def _remove(lines: list[str], stmt: str) -> None:
    if stmt.startswith("banner motd"):
        lines[:] = [ln for ln in lines if not ln.startswith("banner motd")]
        return
    lines[:] = [ln for ln in lines if ln != stmt and not ln.startswith(stmt + " ")]


class GearShell(CMDShell):
    """One SSH session on one device."""

    registry: ClassVar[dict[str, Device]] = {}

    def __init__(self, *args: Any, device: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dev = self.registry[device]
        self.junos = self.dev.platform == "juniper_junos"
        self.mode = "user"  # user, enable, config, banner (EOS)
        self.candidate: list[str] = []
        self.banner: list[str] = []
        self.prompt = self._prompt()

    def _prompt(self) -> str:
        name = self.dev.name
        if self.junos:
            return f"\n[edit]\n{USER}@{name}# " if self.mode == "config" else f"{USER}@{name}> "
        if self.mode == "banner":
            return ""
        return {"user": f"{name}>", "enable": f"{name}#"}.get(self.mode, f"{name}(config)#")

    def emptyline(self) -> bool:
        self.prompt = self._prompt()
        return False

    def default(self, line: str) -> bool:
        if not self.is_running.is_set():
            return True
        line = line.strip()
        self.dev.commands.append(line)
        reply = self._junos(line) if self.junos else self._ios(line)
        if reply is True:
            return True
        if reply:
            self.writeline(reply)
        self.prompt = self._prompt()
        return False

    def _show(self) -> str:
        if self.dev.hang:
            time.sleep(self.dev.hang)
        with self.dev.lock:
            lines = list(self.dev.lines)
        if self.junos:
            return "\n".join(f"set {ln}" for ln in lines)
        head = ["Building configuration...", "", "Current configuration : 1234 bytes", "!",
                "! Last configuration change at " + time.strftime("%H:%M:%S UTC"), "!"]
        return "\n".join(head + lines + ["end"])

    def _ios(self, line: str) -> str | bool | None:
        eos = self.dev.platform == "arista_eos"
        if self.mode == "banner":
            if line == "EOF":
                with self.dev.lock:
                    _add(self.dev.lines, _banner("arista_eos", self.banner))
                self.mode = "config"
            else:
                self.banner.append(line)
            return ""
        if self.mode == "config":
            if line in ("end", "exit"):
                self.mode = "enable"
                return ""
            if eos and line == "banner motd":
                self.mode, self.banner = "banner", []
                return "Enter TEXT message.  Type 'EOF' on its own line to end."
            with self.dev.lock:
                if line.startswith("no "):
                    _remove(self.dev.lines, line[3:])
                elif line.startswith("banner motd ^") and line.endswith("^") and not eos:
                    _add(self.dev.lines, _banner("cisco_ios", [line[len("banner motd ^"):-1]]))
                else:
                    _add(self.dev.lines, line)
            return ""
        if line in ("exit", "quit", "logout"):
            return True
        if line.startswith("terminal width"):
            return "Width set to 511 columns." if eos else ""
        if line.startswith("terminal length"):
            return "Pagination disabled." if eos else ""
        if line.startswith("terminal "):
            return ""
        if line == "enable":
            self.mode = "enable"
            return ""
        if self.mode == "user":
            return "% Invalid input detected at '^' marker."
        if line == "show running-config":
            return self._show()
        if line in ("configure terminal", "configure"):
            self.mode = "config"
            return "" if eos else "Enter configuration commands, one per line.  End with CNTL/Z."
        if line in ("write mem", "write memory", "copy running-config startup-config"):
            return "Copy completed successfully." if eos else "Building configuration...\n[OK]"
        if line.startswith("show "):
            return ""
        return "% Invalid input detected at '^' marker."

    def _junos(self, line: str) -> str | bool | None:
        if self.mode == "config":
            verb, _, rest = line.partition(" ")
            if verb == "set":
                _add(self.candidate, rest)
                return ""
            if verb == "delete":
                _remove(self.candidate, rest)
                return ""
            if line.startswith("commit"):
                with self.dev.lock:
                    self.dev.lines = list(self.candidate)
                return "commit complete"
            if line in ("exit configuration-mode", "exit", "quit"):
                self.mode = "user"
                return "Exiting configuration mode"
            return "syntax error."
        if line in ("exit", "quit"):
            return True
        canned = {"set cli screen-width 511": "Screen width set to 511",
                  "set cli screen-length 0": "Screen length set to 0",
                  "set cli complete-on-space off": "Disabling complete-on-space"}
        if line in canned:
            return canned[line]
        if line.startswith("set cli"):
            return ""
        if line == "show configuration | display set":
            return self._show()
        if line.startswith("configure"):
            with self.dev.lock:
                self.candidate = list(self.dev.lines)
            self.mode = "config"
            return "Entering configuration mode"
        if line.startswith("show "):
            return ""
        return "syntax error, expecting <command>."


class Gear:
    """Start ``devices`` ({name: (platform, config text)}) on ports from ``port`` upwards."""

    def __init__(self, devices: dict[str, tuple[str, str]], port: int,
                 username: str = USER, password: str = PASSWORD) -> None:
        ssh_server_paramiko.channel_to_shell_tap = fast_tap
        sshserver.install()  # connection workers end when a client leaves (else pytest hangs)
        self.ports = {name: port + i for i, name in enumerate(sorted(devices))}
        self.devices = {name: Device(name, platform, parse_config(platform, text))
                        for name, (platform, text) in devices.items()}
        GearShell.registry.update(self.devices)
        nos = {p: Nos(name=p, commands={}, initial_prompt="{base_prompt}>")
               for p in {p for p, _ in devices.values()}}
        inventory = {"hosts": {name: {
            "username": username, "password": password, "port": self.ports[name],
            "platform": dev.platform,
            "server": {"plugin": "ParamikoSshServer",
                       "configuration": {"address": "127.0.0.1", "timeout": 1}},
            "shell": {"plugin": "CMDShell", "configuration": {"device": name,
                                                               "base_prompt": name}},
            "nos": {"plugin": dev.platform},
        } for name, dev in self.devices.items()}}
        self.net = FakeNOS(inventory=inventory)
        self.net.shell_plugins["CMDShell"] = GearShell
        self.net.servers_plugins[sshserver.PLUGIN] = sshserver.LabSshServer
        self.net.nos_plugins.update(nos)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        threads = [threading.Thread(target=h.start) for h in self.net.hosts.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def close(self) -> None:
        threads = [threading.Thread(target=h.stop, daemon=True)
                   for h in self.net.hosts.values() if h.running]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        for name in self.devices:
            GearShell.registry.pop(name, None)

    def endpoint(self, name: str) -> tuple[str, int]:
        return "127.0.0.1", self.ports[name]

    def running(self, name: str) -> list[str]:
        with self.devices[name].lock:
            return list(self.devices[name].lines)

    def hang(self, name: str, seconds: float) -> None:
        self.devices[name].hang = seconds

    def stop(self, name: str) -> None:
        self.net.hosts[name].stop()
