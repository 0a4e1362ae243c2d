"""Compliance: per device and per control, compliant or the missing and extra lines.

The running config (read in this run) and the intended config are parsed by
hier_config for the device's platform; ``difference`` gives the lines missing
from the device and the lines the device has that the intended config does
not. Only lines a control owns count (platforms.py): everything else on the
device is local configuration this tool does not manage, and is not parsed.

Config text is prepared first (``prepare``): bytes decoded without loss, CRLF,
Junos curly-brace form as set form, banners in one form, repeated top-level
statements as one. A config that still cannot be parsed is a finding for that
device (``ConfigParseError``, status failed, the reason), never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from hier_config import HConfig, get_hconfig, get_hconfig_driver
from hier_config import Platform as HPlatform
from hier_config.models import MatchRule, ParentAllowsDuplicateChildRule
from hier_config.platforms.driver_base import HConfigDriverBase
from nornir.core.task import Task

from faellesdrift.estate import Estate, ExceptionStatus, Host, KeptException
from faellesdrift.network import fortios
from faellesdrift.network.configtext import (
    decode_config,
    is_junos_brace,
    junos_active_set_lines,
    junos_set_form,
    lift_banners,
    unix_lines,
)
from faellesdrift.network.errors import NetworkError
from faellesdrift.network.filters import Filters
from faellesdrift.network.intended import Intended, render
from faellesdrift.network.platforms import CONTROLS, PlatformSpec, identity, platform_spec
from faellesdrift.network.results import ControlResult, DeviceResult, FleetResult, Status
from faellesdrift.network.runner import read_running, run, session
from faellesdrift.network.settings import NetworkSettings

COMMAND = "network compliance"


class ConfigParseError(NetworkError):
    """A config that cannot be read as a tree: a finding for that device, never a crash."""


@dataclass(frozen=True)
class Parsed:
    config: HConfig
    notes: tuple[str, ...] = ()  # what could not be compared, e.g. a cut-off banner


_MAX_DEPTH = 16


@cache
def _driver(platform: HPlatform) -> HConfigDriverBase:
    """hier_config's driver for a platform, allowing identical siblings at any depth.

    Real configs repeat lines under one parent (ACL remarks, certificate hex);
    they are kept, not treated as an error.
    """
    driver = get_hconfig_driver(platform)
    driver.rules.parent_allows_duplicate_child.extend(
        ParentAllowsDuplicateChildRule(match_rules=(MatchRule(),) * depth)
        for depth in range(1, _MAX_DEPTH + 1))
    return driver


def _merge_top_level(text: str, keep: Callable[[str], bool] | None = None) -> str:
    """Top-level statements that appear more than once, as one (children merged).

    A repeated top-level line (two identical ``set`` lines, the same section
    printed twice) means the same as one; hier_config's root refuses duplicates.
    With ``keep``, only the statements (and their sections) it accepts stay.
    """
    lines = text.split("\n")
    blocks: dict[str, list[str]] = {}
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        j = i + 1
        while j < n and lines[j][:1] in (" ", "\t"):
            j += 1
        if line.strip() and (keep is None or keep(line)):
            blocks.setdefault(line, []).extend(lines[i + 1:j])
        i = j
    return "\n".join(line for head, body in blocks.items() for line in (head, *body)) + "\n"


@dataclass(frozen=True)
class Prepared:
    text: str  # what hier_config reads
    banners: dict[str, str]  # placeholder line → the banner it stands for
    notes: tuple[str, ...]


def prepare(spec: PlatformSpec, text: str | bytes, *, managed_only: bool = False) -> Prepared:
    """Device text as hier_config should read it, and notes on what was left out.

    Bytes are decoded without loss, line ends made LF; Junos curly-brace form
    becomes set form (comments, blank lines and inactive statements dropped);
    FortiOS blocks become path lines (fortios.py); IOS-like banners are lifted
    out in one form (one-line and multi-line compare equal), a banner cut off by
    a truncated read is left out and noted; name servers on one line are one a
    line and IOS-XE's named TACACS+ servers one line each. With
    ``managed_only``, only the top-level statements a control owns are kept:
    compliance judges nothing else, and a big config parses in a fraction.
    """
    text = unix_lines(decode_config(text))
    banners: dict[str, str] = {}
    notes: list[str] = []
    if spec.paths:
        text = "\n".join(fortios.path_lines(text))
    elif spec.name == "juniper_junos":
        if is_junos_brace(text):
            text = junos_set_form(text)
        text = "\n".join(junos_active_set_lines(text))
    else:
        text, banners, notes = lift_banners(text, spec.banner)
        text = flatten_aaa_servers(_one_per_line(text))
    keep = None
    if managed_only:
        def keep(line: str) -> bool:
            return spec.owner(banners.get(line, line)) is not None
    return Prepared(_merge_top_level(spec.canonical(text), keep), banners, tuple(notes))


# IOS prints several name servers on one line; the intended config has one a line.
# The servers are addresses, so `vrf NAME` is never taken for two of them; NX-OS puts
# its VRF after them (`use-vrf management`).
_ADDRESS = r"[0-9A-Fa-f][0-9A-Fa-f:.]*"
_NAME_SERVERS = re.compile(
    rf"^(ip name-server(?: vrf \S+)?) ({_ADDRESS}(?: {_ADDRESS})+)( use-vrf \S+)?$",
    re.MULTILINE)


def _one_per_line(text: str) -> str:
    """``ip name-server a b`` as ``ip name-server a`` and ``ip name-server b``."""
    return _NAME_SERVERS.sub(
        lambda m: "\n".join(f"{m.group(1)} {a}{m.group(3) or ''}" for a in m.group(2).split()),
        text)


def flatten_aaa_servers(text: str) -> str:
    """IOS-XE's named TACACS+ servers as one line each, so they compare as servers.

    ``tacacs server NAME`` with child ``address ipv4 X`` becomes ``tacacs server
    NAME address ipv4 X``; each ``server-private X`` of ``aaa group server
    tacacs+ G`` becomes ``aaa group server tacacs+ G server-private X`` (with ``vrf
    V`` when the group forwards in a VRF). Keys are left out (secrets the device
    keeps); the group's other lines are not judged by any control and are left out.
    """
    if "tacacs" not in text:
        return text
    lines = text.split("\n")
    out: list[str] = []
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        j = i + 1
        while j < n and lines[j][:1] in (" ", "\t"):
            j += 1
        children = [c.strip() for c in lines[i + 1:j]]
        if line.startswith("tacacs server "):
            address = next((c.split()[2] for c in children
                            if c.startswith("address ipv") and len(c.split()) > 2), None)
            out.append(f"{line.rstrip()} address ipv4 {address}" if address else line)
        elif line.startswith("aaa group server tacacs+ "):
            vrf = next((c.split()[-1] for c in children
                        if c.startswith(("ip vrf forwarding ", "vrf forwarding "))), None)
            out += [f"{line.rstrip()} server-private {c.split()[1]}" + (f" vrf {vrf}" if vrf else "")
                    for c in children if c.startswith("server-private ") and len(c.split()) > 1]
        else:
            out.extend(lines[i:j])
        i = j
    return "\n".join(out)


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def _reason(exc: Exception) -> str:
    """A parser error as one line, without the config text it may quote (it may hold a secret)."""
    message = _QUOTED.sub("…", " ".join(str(exc).split()))[:200]
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def parse_config(spec: PlatformSpec, text: str | bytes, *, managed_only: bool = False
                 ) -> Parsed:
    """The config as a tree. Raises ConfigParseError with the reason."""
    prepared = prepare(spec, text, managed_only=managed_only)
    try:
        config = get_hconfig(_driver(spec.hier), prepared.text)
        lifted = [c for c in config.children if c.text in prepared.banners]
        for child in lifted:
            child.text = prepared.banners[child.text]
    except Exception as exc:  # noqa: BLE001 - any parser failure is one device's finding
        raise ConfigParseError(f"the config could not be parsed as {spec.name}: "
                               f"{_reason(exc)}") from None
    return Parsed(config, prepared.notes)


def parse(spec: PlatformSpec, text: str | bytes) -> HConfig:
    return parse_config(spec, text).config


def lines_by_control(spec: PlatformSpec, config: HConfig) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {c: [] for c in CONTROLS}
    for child in config.children:
        owner = spec.owner(child.text)
        if owner:
            out[owner].append(child.text)
    return out


def same_servers(spec: PlatformSpec, missing: list[str], extra: list[str], has: list[str],
                 wants: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Missing and extra lines without the servers that differ only in VRF or options.

    A wanted server the device has in another form (``ntp server vrf MGMT X``,
    ``X prefer``, ``tacacs server T`` / ``address ipv4 X``) is neither missing nor
    extra: remediation never moves a server out of its VRF nor strips its
    options. Returns (missing, extra, notes naming the local forms kept).
    """
    present = {i for i in (identity(spec, line) for line in has) if i}
    wanted = {i for i in (identity(spec, line) for line in wants) if i}
    still_missing = [m for m in missing if (identity(spec, m) or m) not in present]
    still_extra, kept = [], []
    for e in extra:
        if identity(spec, e) in wanted:
            kept.append(e.split("\n", 1)[0])
        else:
            still_extra.append(e)
    notes = [f"kept in the device's form: {', '.join(kept)}"] if kept else []
    return still_missing, still_extra, notes


def expired_for(estate: Estate, host: str) -> dict[str, KeptException]:
    """Expired exceptions naming this host, by control: their lines are drift now."""
    return {k.record.control: k for k in estate.exceptions()
            if k.status is ExceptionStatus.EXPIRED and host in k.record.hosts}


def check(spec: PlatformSpec, running_text: str, intended: Intended,
          expired: dict[str, KeptException] | None = None) -> tuple[ControlResult, ...]:
    """Compare one device's running config with its intended config, control by control."""
    parsed = parse_config(spec, running_text, managed_only=True)
    running = parsed.config
    wanted = parse_config(spec, intended.text, managed_only=True).config
    try:
        missing = lines_by_control(spec, wanted.difference(running))
        extra = lines_by_control(spec, running.difference(wanted))
        has = lines_by_control(spec, running)
        wants = lines_by_control(spec, wanted)
    except Exception as exc:  # noqa: BLE001 - a comparison failure is one device's finding
        raise ConfigParseError(f"the config could not be compared as {spec.name}: "
                               f"{_reason(exc)}") from None
    out = []
    for control in CONTROLS:
        value = intended.control(control)
        missing[control], extra[control], local = same_servers(
            spec, missing[control], extra[control], has[control], wants[control])
        notes = [*(parsed.notes if control == "net.banner.motd" else ()), *local]
        note = "; ".join(notes)
        k = (expired or {}).get(control)
        if k is not None:
            expired_note = (f"exception {k.record.id} expired on {k.record.expires}: "
                            "its local lines are drift now")
            note = f"{note}; {expired_note}" if note else expired_note
        out.append(ControlResult(control, value.source, tuple(missing[control]),
                                 tuple(extra[control]), value.status, note))
    return tuple(out)


def check_host(task: Task, host: Host, estate: Estate) -> tuple[DeviceResult, str, Intended]:
    """Read one device and check it. Returns the result, the running text and the intent."""
    spec = platform_spec(host.spec.platform)
    intended = render(estate, host)  # before connecting: a bad value costs no session
    running = read_running(session(task), spec)
    try:
        controls = check(spec, running, intended, expired_for(estate, host.name))
    except ConfigParseError as exc:
        failed = DeviceResult(host.name, host.tenant, spec.name, Status.FAILED,
                            f"not checked: {exc}", exceptions=intended.exceptions)
        return failed, running, intended
    drift = sum(len(c.missing) + len(c.extra) for c in controls)
    reason = "compliant" if not drift else (
        f"{drift} line(s) differ in " + ", ".join(c.control for c in controls if not c.compliant))
    result = DeviceResult(host.name, host.tenant, spec.name, Status.OK, reason, controls,
                        exceptions=intended.exceptions)
    return result, running, intended


def compliance(estate: Estate, settings: NetworkSettings, filters: Filters | None = None
               ) -> FleetResult:
    """Read every selected device and check it against its intended config."""
    return run(estate, settings, filters, COMMAND,
               lambda task, host: check_host(task, host, estate)[0])
