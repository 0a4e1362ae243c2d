"""Per-platform CLI behaviour on top of a DeviceStore: modes, prompts, config commands.

handle() returns the text to print, STOP to end the session, or None to let
fakenos answer from its canned show commands.
"""

from __future__ import annotations

import re
import time

from faellesdrift.lab.devices import fortios, ios, junos
from faellesdrift.lab.devices.store import DeviceStore

STOP = object()
Reply = str | object | None

RUN_ALIASES = {"show run": "show running-config", "sh run": "show running-config",
               "show running": "show running-config", "sh running-config": "show running-config",
               "show start": "show startup-config", "show startup": "show startup-config"}
SUBMODES = {"interface": "config-if", "router": "config-router", "line": "config-line",
            "vlan": "config-vlan", "ip": "config-acl", "route-map": "config-route-map",
            "management": "config-mgmt"}


def pipe(text: str, modifier: str) -> str:
    """`| include|exclude|begin|section X` on show output."""
    m = re.match(r"(?:i|in|inc|include|e|ex|exclude|b|be|begin|s|sec|section)\s+(.+)$",
                 modifier.strip())
    if not m:
        return text
    verb, pattern = modifier.split()[0], m.group(1)
    lines = text.splitlines()
    hit = [bool(re.search(pattern, ln)) for ln in lines]
    if verb.startswith("i"):
        return "\n".join(ln for ln, h in zip(lines, hit) if h)
    if verb.startswith("e"):
        return "\n".join(ln for ln, h in zip(lines, hit) if not h)
    if verb.startswith("b"):
        return "\n".join(lines[hit.index(True):]) if any(hit) else ""
    out, keep = [], False
    for ln, h in zip(lines, hit):
        if not ln[:1].isspace():
            keep = h
        if keep:
            out.append(ln)
    return "\n".join(out)


# Platforms whose admin session starts in privileged mode (no `enable`).
PRIVILEGED_LOGIN = ("cisco_nxos", "aruba_aoscx")


class IosDialect:
    """cisco_ios, arista_eos, cisco_nxos, aruba_aoscx: user > enable # configure terminal."""

    def __init__(self, store: DeviceStore) -> None:
        self.store = store
        self.platform = store.platform
        self.eos = store.platform == "arista_eos"
        self.style = ios.STYLES[store.platform]
        self.mode = "enable" if store.platform in PRIVILEGED_LOGIN else "user"
        self.context: str | None = None
        self.banner: tuple[str, str, list[str]] | None = None  # kind, end marker, lines so far

    def prompt(self) -> str:
        name = self.store.name
        if self.banner is not None:
            return ""  # typing banner text: no prompt, as on the device
        if self.mode == "user":
            return f"{name}>"
        if self.mode == "enable":
            return f"{name}#"
        if self.context is None:
            return f"{name}(config)#"
        sub = SUBMODES.get(self.context.split()[0], "config-" + self.context.split()[0])
        return f"{name}({sub})#"

    def allows(self, level: str) -> bool:
        if self.mode == "config":
            return level == "config" or (self.eos and level == "enable")
        return level in ("user", self.mode)

    def invalid(self) -> str:
        return "% Invalid input" if self.eos else "% Invalid input detected at '^' marker."

    def handle(self, line: str, raw: str) -> Reply:
        if self.mode == "config":
            return self._config(line, raw)
        return self._exec(line)

    def _exec(self, line: str) -> Reply:
        if line in ("exit", "quit", "logout"):
            return STOP
        if line in ("enable", "en"):
            self.mode = "enable"
            return ""
        if line == "disable":
            self.mode = "user"
            return ""
        command, _, modifier = line.partition("|")
        command = RUN_ALIASES.get(command.strip(), command.strip())
        if self.mode == "user":
            return self.invalid() if command.startswith(("show run", "show start", "conf",
                                                          "write", "copy")) else None
        if command in ("configure terminal", "configure term", "conf t", "configure",
                       "config t"):
            self.mode, self.context = "config", None
            return "" if self.eos else ("Enter configuration commands, one per line.  "
                                        "End with CNTL/Z.")
        if command in ("show running-config", "show startup-config"):
            time.sleep(self.store.delay)
            text = self.running_config()
            return pipe(text, modifier) if modifier else text
        if command in ("write memory", "write mem", "wr", "write",
                       "copy running-config startup-config"):
            return {"arista_eos": "Copy completed successfully.",
                    "cisco_nxos": "[########################################] 100%\nCopy complete.",
                    "aruba_aoscx": "Copying configuration: [Success]",
                    }.get(self.platform, "Building configuration...\n[OK]")
        return None

    def _banner_start(self, line: str) -> Reply:
        words = line.split(maxsplit=2)
        kind = words[1] if len(words) > 1 else "motd"
        rest = words[2] if len(words) > 2 else ""
        if self.eos:
            self.banner = (kind, "EOF", [])
            return "Enter TEXT message. Type 'EOF' on its own line to end."
        if not rest:
            return self.invalid()
        delim = "^C" if rest.startswith("^C") else rest[0]
        body = rest[len(delim):]
        self.banner = (kind, delim, [])
        if body:
            return self._banner_line(body) or ""
        return f"Enter TEXT message.  End with the character '{delim[0]}'."

    def _banner_line(self, line: str) -> Reply:
        assert self.banner is not None
        kind, delim, text = self.banner
        done = (line.strip() == delim) if self.eos else (delim in line)
        if not done:
            text.append(line)
            return ""
        if not self.eos and line[:line.index(delim)]:
            text.append(line[:line.index(delim)])
        self.banner = None
        with self.store.lock:
            cfg = ios.IosConfig(self.store.lines, self.style)
            cfg.set_banner(kind, text)
            self.store.replace(cfg.lines())
        return ""

    def _config(self, line: str, raw: str) -> Reply:
        if self.banner is not None:
            return self._banner_line(raw.rstrip("\r\n") if raw else line)
        if line.startswith("banner ") and not line.startswith("banner motd file"):
            return self._banner_start(line)
        if line == "end":
            self.mode, self.context = "enable", None
            return ""
        if line in ("exit", "quit"):
            if self.context is None:
                self.mode = "enable"
            self.context = None
            return ""
        if line.startswith("do ") or (self.eos and line.startswith("show ")):
            mode, self.mode = self.mode, "enable"
            try:
                return self._exec(line.removeprefix("do "))
            finally:
                self.mode = mode
        if line in ("", "!") or line.startswith("!"):
            return ""
        with self.store.lock:
            cfg = ios.IosConfig(self.store.lines, self.style)
            negated = line.startswith("no ")
            if ios.is_parent(line):
                cfg.apply(None, line)
                self.context = line
            elif negated and ios.is_parent(line[3:]):
                cfg.apply(None, line)
                self.context = None
            elif self.context and (raw[:1].isspace() or not ios.is_global(line)):
                cfg.apply(self.context, line)
            else:
                self.context = None
                cfg.apply(None, line)
            self.store.replace(cfg.lines())
        return ""

    def running_config(self) -> str:
        with self.store.lock:
            blocks = ios.parse(self.store.lines, self.style)
        body: list[str] = []
        for b in blocks:
            body.extend(ios.dump([b], self.style))
            if b.children:
                body.append("!")
        if self.eos:
            device = f"! device: {self.store.name} (vEOS-lab, EOS-4.30.1F)"
            head = ["! Command: show running-config", device, "!",
                    "! boot system flash:/vEOS-lab.swi", "!"]
            return "\n".join(head + body + ["!", "end"])
        if self.platform == "cisco_nxos":
            when = time.strftime("%a %b %d %H:%M:%S %Y")
            head = ["", "!Command: show running-config",
                    f"!Running configuration last done at: {when}", f"!Time: {when}", "",
                    "version 9.3(8) Bios:version 05.45"]
            return "\n".join(head + body)
        if self.platform == "aruba_aoscx":
            head = ["Current configuration:", "!", "!Version ArubaOS-CX FL.10.10.1040",
                    "!export-password: default"]
            return "\n".join(head + body)
        text = "\n".join(body)
        head = ["Building configuration...", "", f"Current configuration : {len(text)} bytes",
                "!", time.strftime("! Last configuration change at %H:%M:%S UTC %a %b %d %Y"),
                "!"]
        return "\n".join(head + body + ["!", "end"])


class JunosDialect:
    """juniper_junos: operational `>`, `configure` into a candidate, `commit` to activate."""

    def __init__(self, store: DeviceStore) -> None:
        self.store = store
        self.mode = "op"
        self.candidate: list[str] = []
        self.path: list[str] = []
        self.confirm_exit = False

    def prompt(self) -> str:
        who = f"{self.store.username}@{self.store.name}"
        if self.confirm_exit:
            return "Exit with uncommitted changes? [yes,no] (yes) "
        if self.mode == "op":
            return f"{who}> "
        edit = "edit" + (" " + " ".join(self.path) if self.path else "")
        return f"\n[{edit}]\n{who}# "

    def allows(self, level: str) -> bool:
        return self.mode == "op" and level in ("user", "enable")

    def handle(self, line: str, raw: str) -> Reply:
        if self.confirm_exit:
            self.confirm_exit = False
            if line in ("", "yes"):
                self.mode, self.path = "op", []
                return "Exiting configuration mode"
            return ""
        return self._config(line) if self.mode == "config" else self._op(line)

    def active(self) -> list[str]:
        with self.store.lock:
            return list(self.store.lines)

    def _op(self, line: str) -> Reply:
        if line in ("exit", "quit"):
            return STOP
        if line.startswith("configure"):
            self.mode, self.path, self.candidate = "config", [], self.active()
            return "Entering configuration mode"
        canned = {"set cli screen-width 511": "Screen width set to 511",
                  "set cli screen-length 0": "Screen length set to 0",
                  "set cli complete-on-space off": "Disabling complete-on-space"}
        if line in canned:
            return canned[line]
        if line.startswith("show configuration"):
            time.sleep(self.store.delay)
            return self._show(self.active(), line[len("show configuration"):])
        return None

    def _show(self, lines: list[str], rest: str) -> str:
        scope, _, modifier = rest.partition("|")
        prefix = " ".join([*self.path, *scope.split()]).strip() if self.mode == "config" \
            else scope.strip()
        chosen = [ln for ln in lines if not prefix or ln == prefix or ln.startswith(prefix + " ")]
        modifier = modifier.strip()
        if modifier == "display set":
            return junos.display_set(chosen)
        if modifier == "compare":
            return junos.compare(self.active(), self.candidate)
        head = [] if prefix else [time.strftime("## Last commit: %Y-%m-%d %H:%M:%S UTC by ")
                                  + self.store.username, "version 21.4R3.15;"]
        return "\n".join(head + [junos.render(chosen)])

    def _config(self, line: str) -> Reply:
        verb, _, rest = line.partition(" ")
        here = " ".join(self.path)
        full = f"{here} {rest}".strip() if here else rest.strip()
        if verb == "set" and rest:
            self.candidate = junos.set_statement(self.candidate, full)
            return ""
        if verb == "delete":
            self.candidate = junos.delete_statement(self.candidate, full)
            return ""
        if verb == "edit" and rest:
            self.path = full.split()
            return ""
        if line in ("top",):
            self.path = []
            return ""
        if line == "up":
            self.path = self.path[:-1]
            return ""
        if verb == "show":
            return self._show(self.candidate, rest)
        if verb == "commit":
            return self._commit(rest)
        if verb == "rollback":
            self.candidate = self.active()
            return "load complete"
        if verb == "run":
            mode, self.mode = self.mode, "op"
            try:
                reply = self._op(rest)
            finally:
                self.mode = mode
            return "" if reply is STOP else reply
        if line in ("exit", "quit", "exit configuration-mode") and (
                not self.path or line == "exit configuration-mode"):
            if self.candidate != self.active():
                self.confirm_exit = True
                return "The configuration has been changed but not committed"
            self.mode, self.path = "op", []
            return "Exiting configuration mode"
        if line in ("exit", "quit"):
            self.path = self.path[:-1]
            return ""
        return "syntax error."

    def _commit(self, options: str) -> str:
        if options.startswith("check"):
            return "configuration check succeeds"
        with self.store.lock:
            self.store.replace(self.candidate)
        out = ["commit complete"]
        if options.startswith("confirmed"):
            minutes = options.split()[1] if len(options.split()) > 1 else "10"
            out.insert(0, f"commit confirmed will be automatically rolled back in {minutes} "
                          "minutes unless confirmed")
        if "and-quit" in options:
            self.mode, self.path = "op", []
            out.append("Exiting configuration mode")
        return "\n".join(out)


class FortiDialect:
    """fortinet: one prompt level (`name # `), `config`/`edit` blocks applied as typed."""

    STATUS = ("Version: FortiGate-VM64 v7.2.5,build1517,230606 (GA.F)",
              "Virtual domain configuration: disable", "Current HA mode: standalone",
              "Operation Mode: NAT")

    def __init__(self, store: DeviceStore) -> None:
        self.store = store
        self.path: list[tuple[str, str]] = []

    def prompt(self) -> str:
        if not self.path:
            return f"{self.store.name} # "
        kind, name = self.path[-1]
        label = name.split()[-1] if kind == "config" else name.strip('"')
        return f"{self.store.name} ({label}) # "

    def allows(self, level: str) -> bool:
        return not self.path

    def handle(self, line: str, raw: str) -> Reply:
        command, _, modifier = line.partition("|")
        command = command.strip()
        if command in ("exit", "quit", "logout") and not self.path:
            return STOP
        if command.startswith("get system status"):
            text = "\n".join(self.STATUS)
        elif command == "get system console":
            text = "output              : standard"
        elif command in ("show", "show full-configuration") or command.startswith("show "):
            time.sleep(self.store.delay)
            text = self._show(command.removeprefix("show").strip())
        else:
            return self._config(command)
        return _grep(text, modifier) if modifier else text

    def _show(self, what: str) -> str:
        with self.store.lock:
            root = fortios.parse(self.store.lines)
        if what in ("", "full-configuration"):
            head = ["#config-version=FGVM64-7.2.5-FW-build1517-230606:opmode=0:vdom=0:user="
                    + self.store.username, "#conf_file_ver=1", "#buildno=1517",
                    "#global_vdom=1"]
            return "\n".join(head + fortios.dump(root))
        return "\n".join(fortios.section(root, what))

    def _config(self, line: str) -> Reply:
        verb, _, rest = line.partition(" ")
        if verb == "config" and rest:
            self.path.append(("config", rest))
            self._edit(lambda node: None)
            return ""
        if verb == "edit" and rest and self.path:
            self.path.append(("edit", rest))
            self._edit(lambda node: None)
            return ""
        if verb == "next" and self.path and self.path[-1][0] == "edit":
            self.path.pop()
            return ""
        if verb in ("end", "abort") and self.path:
            while self.path and self.path.pop()[0] != "config":
                pass
            return ""
        if verb == "set" and rest and self.path:
            self._edit(lambda node: node.settings.__setitem__(fortios.key(line), line))
            return ""
        if verb == "unset" and rest and self.path:
            self._edit(lambda node: node.settings.pop(rest.split()[0], None))
            return ""
        if verb == "delete" and rest and self.path:
            self._edit(lambda node: node.entries.pop(rest, None))
            return ""
        return "Unknown action 0\nCommand fail. Return code -61"

    def _edit(self, change) -> None:
        with self.store.lock:
            root = fortios.parse(self.store.lines)
            change(fortios.walk(root, self.path))
            self.store.replace(fortios.dump(root))


def _grep(text: str, modifier: str) -> str:
    """FortiOS `| grep PATTERN`."""
    words = modifier.split(maxsplit=1)
    if len(words) < 2 or words[0] != "grep":
        return text
    return "\n".join(ln for ln in text.splitlines() if re.search(words[1], ln))


def for_store(store: DeviceStore) -> IosDialect | JunosDialect | FortiDialect:
    if store.platform == "juniper_junos":
        return JunosDialect(store)
    if store.platform == "fortinet":
        return FortiDialect(store)
    if store.platform in ios.STYLES:
        return IosDialect(store)
    raise ValueError(f"no lab dialect for platform {store.platform!r}")
