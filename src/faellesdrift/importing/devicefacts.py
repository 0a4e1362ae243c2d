"""What a network device prints about itself → facts: platform, hostname, model, serial, OS
version, interfaces.

Parsing is ntc-templates' (TextFSM, through netmiko's ``use_textfsm``); where a template does
not match what a device printed, a few patterns for the same fields take over and the facts
say so (``parser``). The platform of an unknown address is told from ``show version`` with
netmiko's own autodetect patterns (``SSH_MAPPER_DICT``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: The commands read per platform, in order: version, inventory, interfaces.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "cisco_ios": ("show version", "show inventory", "show interfaces"),
    "cisco_nxos": ("show version", "show inventory", "show interface"),
    "arista_eos": ("show version", "show inventory", "show interfaces"),
    "juniper_junos": ("show version", "show chassis hardware", "show interfaces"),
}
DETECT_COMMAND = "show version"
#: Logical interfaces: not ports of the device.
_LOGICAL = re.compile(r"^(vlan|loopback|lo\d|null|tunnel|port-channel|po\d|nve|bvi|irb|vme|"
                      r"em\d|fxp|me\d|mgmt|management|dsc|gre|ipip|lsi|mtun|pim|tap|pp\d|"
                      r"vtep|jsrv|pfe|pfh|demux|cbp|esi|fti|lc-|\.local\.)", re.IGNORECASE)


@dataclass
class DeviceFacts:
    platform: str
    hostname: str = ""
    model: str = ""
    serial: str = ""
    os_version: str = ""
    interfaces: int | None = None  # physical interfaces the device lists
    parser: dict[str, str] = field(default_factory=dict)  # command -> ntc-templates | patterns

    def to_dict(self) -> dict[str, Any]:
        return {"platform": self.platform, "hostname": self.hostname, "model": self.model,
                "serial": self.serial, "os_version": self.os_version,
                "interfaces": self.interfaces, "parser": dict(self.parser)}


def detect(show_version: str) -> str | None:
    """The netmiko device type whose autodetect patterns match ``show version``, or None.

    Only the platforms this project supports are candidates, most specific first (IOS XE
    and NX-OS before IOS), as netmiko's SSHDetect ranks them."""
    from netmiko.ssh_autodetect import SSH_MAPPER_DICT

    candidates = ("cisco_nxos", "arista_eos", "juniper_junos", "cisco_ios")
    for platform in candidates:
        entry = SSH_MAPPER_DICT.get(platform) or {}
        if entry.get("cmd") != DETECT_COMMAND:
            continue
        if any(re.search(p, show_version, re.IGNORECASE)
               for p in entry.get("search_patterns", ())):
            return platform
    for platform, pattern in _MORE_PATTERNS:
        if re.search(pattern, show_version, re.MULTILINE):
            return platform
    return None


# What netmiko's table misses: IOS XE (it calls that cisco_xe, which we run as cisco_ios)
# and containerised EOS, whose `show version` names neither Arista nor vEOS.
_MORE_PATTERNS = (("cisco_ios", r"Cisco IOS XE Software"),
                  ("arista_eos", r"^cEOS|^Software image version:"))


def _first(rows: Any) -> dict[str, Any]:
    return rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], dict) else {}


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = next((v for v in value if v), "")
    return str(value or "").strip()


def _search(pattern: str, text: str) -> str:
    m = re.search(pattern, text, re.MULTILINE)
    return m.group(1).strip() if m else ""


def parse(platform: str, command: str, raw: str) -> list[dict[str, Any]] | None:
    """ntc-templates' rows for one command's output, or None when no template fits it."""
    from ntc_templates.parse import parse_output

    try:
        rows = parse_output(platform=platform, command=command, data=raw)
    except Exception:  # noqa: BLE001 - TextFSM raises plain Exceptions for unmatched input
        return None
    return rows if isinstance(rows, list) and rows else None


def facts(platform: str, outputs: dict[str, str], prompt: str = "") -> DeviceFacts:
    """Facts from each command's raw output: ntc-templates' fields first, the patterns for
    what a template left empty (or could not read). ``prompt`` is the device's base prompt:
    its hostname as configured, which wins over what ``show version`` says."""
    version_cmd, inventory_cmd, interfaces_cmd = COMMANDS[platform]
    f = DeviceFacts(platform)
    for cmd in (version_cmd, inventory_cmd, interfaces_cmd):
        raw = outputs.get(cmd)
        if raw is None:
            continue
        rows = parse(platform, cmd, raw)
        before = (f.hostname, f.model, f.serial, f.os_version, f.interfaces)
        if cmd == version_cmd:
            _version(f, rows)
            _version_patterns(f, platform, raw)
        elif cmd == inventory_cmd:
            _inventory(f, rows)
            _inventory_patterns(f, platform, raw)
        else:
            f.interfaces = _interfaces(rows if rows is not None else raw)
        after = (f.hostname, f.model, f.serial, f.os_version, f.interfaces)
        f.parser[cmd] = "ntc-templates" if rows else ("patterns" if after != before else "none")
    name = prompt.rsplit("@", 1)[-1].strip(" >#%") if prompt else ""
    if name:
        f.hostname = name
    return f


_NOTHING = {"", "na", "n/a", "none", "unknown", "not specified", "-"}


def _set(f: DeviceFacts, name: str, value: Any) -> None:
    """Fill a fact that is still empty (the first source that knows it wins)."""
    text = _text(value)
    if text.casefold() not in _NOTHING and not getattr(f, name):
        setattr(f, name, text)


def _version(f: DeviceFacts, rows: list[dict[str, Any]] | None) -> None:
    row = _first(rows)
    _set(f, "hostname", row.get("hostname"))
    _set(f, "os_version", row.get("version") or row.get("os") or row.get("image")
         or row.get("junos_version"))
    _set(f, "serial", row.get("serial") or row.get("serial_number"))
    _set(f, "model", row.get("hardware") or row.get("model") or row.get("platform"))


def _version_patterns(f: DeviceFacts, platform: str, text: str) -> None:
    if platform == "juniper_junos":
        _set(f, "hostname", _search(r"^\s*Hostname:\s*(\S+)", text))
        _set(f, "model", _search(r"^\s*Model:\s*(\S+)", text))
        _set(f, "os_version", _search(r"^\s*Junos:\s*(\S+)", text)
             or _search(r"JUNOS [^\[\n]*Software[^\[\n]*\[([^\]]+)\]", text))
    elif platform == "arista_eos":
        _set(f, "model", _search(r"^(?:Arista\s+)?(\S+)\s*$", text.lstrip()))
        _set(f, "serial", _search(r"^Serial number:\s*(\S+)", text))
        _set(f, "os_version", _search(r"^Software image version:\s*(\S+)", text))
    elif platform == "cisco_nxos":
        _set(f, "hostname", _search(r"^\s*Device name:\s*(\S+)", text))
        _set(f, "os_version", _search(r"^\s*(?:system|NXOS):\s+version\s+(\S+)", text))
        _set(f, "serial", _search(r"Processor Board ID\s+(\S+)", text))
        _set(f, "model", _search(r"cisco (Nexus\s*\S+)", text))
    else:
        _set(f, "hostname", _search(r"^(\S+) uptime is", text))
        _set(f, "os_version", _search(r"Version ([^,\s]+)", text))
        _set(f, "serial", _search(r"Processor board ID (\S+)", text))
        _set(f, "model", _search(r"^[Cc]isco (\S+) .*(?:processor|bytes of memory)", text))


def _inventory(f: DeviceFacts, rows: list[dict[str, Any]] | None) -> None:
    """The chassis row's model and serial: the first row, as the devices list the chassis
    first (Junos: the ``Chassis`` item). The chassis names the model better than
    ``show version`` does, so it wins."""
    row = _first(rows)
    model = _text(row.get("pid") or row.get("chassis_description"))
    serial = _text(row.get("sn") or row.get("chassis_serial_number"))
    if model.casefold() not in _NOTHING:
        f.model = model
    if serial.casefold() not in _NOTHING:
        f.serial = serial


def _inventory_patterns(f: DeviceFacts, platform: str, text: str) -> None:
    if platform == "juniper_junos":
        m = re.search(r"^Chassis\s+(\S+)\s+(.+?)\s*$", text, re.MULTILINE)
        if m:
            _set(f, "serial", m.group(1))
            _set(f, "model", m.group(2))
    else:
        _set(f, "serial", _search(r"SN:\s*(\S+)", text))
        _set(f, "model", _search(r"PID:\s*([^,\s]+)", text))


def _interfaces(out: Any) -> int | None:
    if isinstance(out, list):
        names = [_text(r.get("interface") or r.get("name")) for r in out if isinstance(r, dict)]
    elif isinstance(out, str) and out.strip():
        names = re.findall(r"^(?:Physical interface:\s*)?(\S+?),? (?:is|Enabled|Administr)",
                           out, re.MULTILINE)
    else:
        return None
    physical = {n.split(".")[0] for n in names if n and not _LOGICAL.match(n)}
    return len(physical) or None
