"""What differs per platform, as data: one entry per netmiko device type.

Adding a platform means one entry here and one template folder under
``templates/network/<platform>/``; every other module asks this table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hier_config import Platform as HPlatform

from faellesdrift.network.errors import NetworkError

# The network controls of the catalog this adapter renders and checks.
CONTROLS: tuple[str, ...] = (
    "net.ntp.servers",
    "net.syslog.siem",
    "net.snmp.communities",
    "net.aaa.tacacs",
    "net.dns.servers",
    "net.banner.motd",
)


@dataclass(frozen=True)
class PlatformSpec:
    name: str
    hier: HPlatform
    read_command: str  # prints the running config in the form the templates render
    scopes: dict[str, tuple[str, ...]]  # control id -> line prefixes it owns (top level)
    commit: bool = False  # candidate config: commit after pushing
    banner_push: str = "multiline"  # "caret": IOS one-line `banner motd ^text^`
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

_IOS_NORMALISE = ((r"^(tacacs-server host \S+) .*$", r"\1"),)

PLATFORMS: dict[str, PlatformSpec] = {
    "cisco_ios": PlatformSpec(
        name="cisco_ios", hier=HPlatform.CISCO_IOS, read_command="show running-config",
        scopes=_IOS_LIKE, banner_push="caret", normalise=_IOS_NORMALISE,
    ),
    "arista_eos": PlatformSpec(
        name="arista_eos", hier=HPlatform.ARISTA_EOS, read_command="show running-config",
        scopes=_IOS_LIKE, normalise=_IOS_NORMALISE,
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

    hier_config keeps a banner as one child with embedded newlines; IOS takes
    it as one line with a delimiter, EOS as its lines ending in EOF.
    """
    if "\n" not in line:
        return [line]
    parts = line.split("\n")
    if spec.banner_push == "caret" and parts[0].startswith("banner "):
        head = parts[0].split()[:2]  # "banner motd"
        return [f"{' '.join(head)} ^{chr(10).join(parts[1:-1])}^"]
    return parts


def negation(spec: PlatformSpec, line: str) -> str:
    """The command that removes one config statement.

    Junos deletes the named node (``delete system syslog host 192.0.2.9``), not the
    statement's options; a banner is removed by its first line's keywords.
    """
    first = line.split("\n", 1)[0]
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
