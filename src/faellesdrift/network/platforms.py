"""What differs per platform, as data: one entry per netmiko device type.

Adding a platform means one entry here, one template folder under
``templates/network/<platform>/`` (the core renderer, faellesdrift.device_config),
its name in the model's ``Platform`` (so ``validate`` accepts it), its secret
rules (secret_rules.py) and a lab dialect; every other module of the adapter
asks this table. ``tests/network/test_platforms.py`` checks the lists agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hier_config import Platform as HPlatform

from faellesdrift.device_config import CONTROLS
from faellesdrift.network.errors import NetworkError

__all__ = ("CONTROLS", "PLATFORMS", "PlatformSpec", "negation", "platform_spec", "push_lines")


@dataclass(frozen=True)
class PlatformSpec:
    name: str
    hier: HPlatform
    read_command: str  # prints the running config in the form the templates render
    scopes: dict[str, tuple[str, ...]]  # control id -> line prefixes it owns (top level)
    commit: bool = False  # candidate config: commit after pushing
    save: bool = True  # the running config is saved to startup after a verified push
    paths: bool = False  # FortiOS: nested blocks compared as path lines (fortios.py)
    banner: str = "eof"  # how the device prints a banner (configtext.BANNER_STYLES)
    banner_oneline: bool = False  # pushed as `banner motd <d>text<d>` (IOS ^, NX-OS #)
    # Options a control does not judge, dropped from running lines before comparing:
    # a TACACS+ server's inline key is a secret the device keeps, not drift.
    normalise: tuple[tuple[str, str], ...] = ()
    _compiled: tuple = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", tuple(
            (re.compile(p, re.MULTILINE), r) for p, r in self.normalise))

    def canonical(self, text: str) -> str:
        for pattern, replacement in self._compiled:
            text = pattern.sub(replacement, text)
        return text

    def owner(self, line: str) -> str | None:
        """The control that owns a top-level config line, or None (not managed)."""
        for control, prefixes in self.scopes.items():
            if line.startswith(prefixes):
                return control
        return None


_IOS_LIKE = {
    "net.ntp.servers": ("ntp server ",),
    "net.syslog.siem": ("logging host ",),
    "net.snmp.communities": ("snmp-server community ",),
    "net.aaa.tacacs": ("tacacs-server host ",),
    "net.dns.servers": ("ip name-server ",),
    "net.banner.motd": ("banner motd",),
}

# A TACACS+ server's inline key is a secret the device keeps, not drift; its VRF stays.
_IOS_NORMALISE = ((r"^(tacacs-server host \S+(?: vrf \S+)?) .*$", r"\1"),)

PLATFORMS: dict[str, PlatformSpec] = {
    "cisco_ios": PlatformSpec(
        name="cisco_ios", hier=HPlatform.CISCO_IOS, read_command="show running-config",
        # IOS-XE also names servers: `tacacs server NAME` blocks and `server-private`
        # lines of `aaa group server tacacs+` (compliance.flatten_aaa_servers)
        scopes={**_IOS_LIKE, "net.aaa.tacacs": ("tacacs-server host ", "tacacs server ",
                                                "aaa group server tacacs+ ")},
        banner="caret", banner_oneline=True, normalise=_IOS_NORMALISE,
    ),
    "cisco_nxos": PlatformSpec(
        name="cisco_nxos", hier=HPlatform.CISCO_NXOS, read_command="show running-config",
        scopes={**_IOS_LIKE, "net.syslog.siem": ("logging server ",)},
        banner="hash", banner_oneline=True, normalise=_IOS_NORMALISE,
    ),
    "aruba_aoscx": PlatformSpec(
        name="aruba_aoscx", hier=HPlatform.ARUBA_AOSCX, read_command="show running-config",
        scopes={**_IOS_LIKE,
                # `logging <address>`: every other `logging …` line is local configuration
                "net.syslog.siem": tuple(f"logging {d}" for d in "0123456789"),
                "net.dns.servers": ("ip dns server-address ",)},
        banner="bang", normalise=_IOS_NORMALISE,
    ),
    "arista_eos": PlatformSpec(
        name="arista_eos", hier=HPlatform.ARISTA_EOS, read_command="show running-config",
        scopes=_IOS_LIKE, normalise=_IOS_NORMALISE,
    ),
    "fortinet": PlatformSpec(
        name="fortinet", hier=HPlatform.GENERIC, read_command="show",
        scopes={  # path lines (fortios.py) under these top-level sections
            "net.ntp.servers": ("config system ntp / ",),
            "net.syslog.siem": ("config log syslogd setting / ",),
            "net.snmp.communities": ("config system snmp community / ",),
            "net.aaa.tacacs": ("config user tacacs+ / ",),
            "net.dns.servers": ("config system dns / ",),
            "net.banner.motd": ('config system replacemsg admin "pre_admin-disclaimer-text" / ',),
        },
        save=False,  # FortiOS saves every change itself
        paths=True,
        normalise=((r"^config user tacacs\+ / edit [^/]+ / set key .*$", ""),),
    ),
    "juniper_junos": PlatformSpec(
        name="juniper_junos", hier=HPlatform.JUNIPER_JUNOS,
        read_command="show configuration | display set",
        scopes={
            "net.ntp.servers": ("set system ntp server ",),
            "net.syslog.siem": ("set system syslog host ",),
            "net.snmp.communities": ("set snmp community ",),
            "net.aaa.tacacs": ("set system tacplus-server ",),
            "net.dns.servers": ("set system name-server ",),
            "net.banner.motd": ("set system login message ",),
        },
        commit=True,
        normalise=((r"^(set system tacplus-server \S+) .*$", r"\1"),),
    ),
}


def platform_spec(name: str) -> PlatformSpec:
    """The entry for a platform, or an error that names the supported ones."""
    try:
        return PLATFORMS[name]
    except KeyError:
        raise NetworkError(
            f"platform {name!r} is not supported by the network adapter; "
            f"supported: {', '.join(sorted(PLATFORMS))}"
        ) from None


def push_lines(spec: PlatformSpec, line: str) -> list[str]:
    """How one (possibly multi-line) config statement is typed at the device CLI.

    hier_config keeps a banner as one child with embedded newlines; IOS and
    NX-OS take it as one line with a delimiter, EOS and AOS-CX as its lines
    ending in the end marker.
    """
    if "\n" not in line:
        return [line]
    parts = line.split("\n")
    if spec.banner_oneline and parts[0].startswith("banner "):
        head = parts[0].split()[:2]  # "banner motd"
        delim = "#" if spec.banner == "hash" else "^"
        return [f"{' '.join(head)} {delim}{chr(10).join(parts[1:-1])}{delim}"]
    return parts


_ADDRESS = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]+)$")
_SKIP_WITH_VALUE = ("vrf", "use-vrf", "routing-instance")


def identity(spec: PlatformSpec, line: str) -> str | None:
    """The server address a control line configures, or None (not an address object).

    ``ntp server vrf MGMT 10.0.0.1 prefer``, ``ntp server 10.0.0.1 use-vrf
    management`` and ``tacacs server T address ipv4 10.0.0.1`` all configure
    10.0.0.1: the VRF and options are how the device reaches it, which the
    control does not judge. Objects named otherwise (SNMP communities, banners)
    have no identity and compare line by line.
    """
    first = line.split("\n", 1)[0]
    control = spec.owner(first)
    if control is None:
        return None
    prefix = next(p for p in spec.scopes[control] if first.startswith(p))
    words = first[len(prefix):].replace('"', " ").split()
    i = 0
    while i < len(words):
        if words[i] in _SKIP_WITH_VALUE:
            i += 2
            continue
        if _ADDRESS.match(words[i]):
            return f"{control} {words[i]}"
        i += 1
    return None


def negation(spec: PlatformSpec, line: str) -> str:
    """The command(s) that remove one config statement (one per line).

    Junos deletes the named node (``delete system syslog host 192.0.2.9``), not the
    statement's options; a banner is removed by its first line's keywords; an
    IOS-XE named TACACS+ server by its name, a group's private server inside
    its group.
    """
    first = line.split("\n", 1)[0]
    if first.startswith("tacacs server "):
        return "no " + " ".join(first.split()[:3])
    if first.startswith("aaa group server tacacs+ ") and " server-private " in first:
        group, _, rest = first.partition(" server-private ")
        return f"{group}\n no server-private {rest.split()[0]}\n exit"
    if spec.name == "juniper_junos":
        for prefix in (p for p in spec.scopes.get(spec.owner(first) or "", ())
                       if first.startswith(p)):
            rest = first[len(prefix):].split()
            if prefix.endswith("message ") or not rest:
                return "delete " + prefix.removeprefix("set ").rstrip()
            return "delete " + prefix.removeprefix("set ") + rest[0]
        return "delete " + first.removeprefix("set ")
    if first.startswith("banner "):
        return "no " + " ".join(first.split()[:2])
    return "no " + first
