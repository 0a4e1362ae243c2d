"""Which source column is which field, and how source values become model values.

Default column names cover common Danish and English headers; ``--map mapping.yaml``
overrides them (``columns: {name: "Maskine", address: "IP"}``) and may add value
mappings (``platforms: {"Catalyst 9300": cisco_ios}``, ``os: {"W2K19": windows2019}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

from faellesdrift.errors import ConfigError
from faellesdrift.importing.records import FIELDS
from faellesdrift.model import OperatingSystem, Platform

_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})


def header_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).casefold().translate(_FOLD))


DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("hostname", "host", "name", "navn", "værtsnavn", "servernavn", "enhedsnavn",
             "devicename", "device", "enhed", "maskinnavn"),
    "address": ("ip", "ipadresse", "ipaddress", "address", "adresse", "mgmtip",
                "managementip", "primaryip", "primaryipv4", "ipv4"),
    "kind": ("type", "kind", "assettype", "aktivtype", "kategori", "category", "enhedstype"),
    "os": ("os", "operatingsystem", "styresystem", "operativsystem"),
    "platform": ("platform", "devicetype", "netmikotype"),
    "model": ("model", "modelnavn", "hardwaremodel", "hardware"),
    "role": ("role", "rolle", "funktion", "function", "anvendelse"),
    "site": ("site", "location", "lokation", "placering", "sted", "lokalitet"),
    "owner": ("owner", "ejer", "ansvarlig", "systemejer"),
    "contract_end": ("contractend", "kontraktudloeb", "kontraktslut", "supportend",
                     "kontraktudloebsdato"),
    "vcpu": ("vcpu", "vcpus", "cpu", "cpus", "cores", "kerner"),
    "memory_gb": ("memorygb", "memory", "ram", "ramgb", "hukommelse", "hukommelsegb"),
    "disk_gb": ("diskgb", "disk", "storage", "storagegb", "lager", "lagergb"),
    "ports": ("ports", "porte", "antalporte", "portcount"),
    "criticality": ("criticality", "kritikalitet", "kritisk"),
    "backup": ("backup", "backupklasse", "backupclass"),
    "serial": ("serial", "serialnumber", "serienummer", "serienr", "sn"),
    "os_version": ("osversion", "softwareversion", "firmware", "firmwareversion",
                   "softwareversion"),
}

SUPPORTED_PLATFORMS: tuple[str, ...] = get_args(Platform)
SUPPORTED_OS: tuple[str, ...] = get_args(OperatingSystem)

# Network kit the shared network baseline does not cover (no adapter speaks to it yet).
UNMANAGED_NETWORK = (
    (re.compile(r"forti", re.IGNORECASE), "fortinet"),
    (re.compile(r"aruba|procurve|\bhpe?\b", re.IGNORECASE), "aruba/hp"),
    (re.compile(r"palo ?alto|pan-?os", re.IGNORECASE), "paloalto"),
    (re.compile(r"meraki", re.IGNORECASE), "meraki"),
    (re.compile(r"ubiquiti|unifi", re.IGNORECASE), "ubiquiti"),
)
_PLATFORMS = (
    (re.compile(r"nx-?os|nexus", re.IGNORECASE), "cisco_nxos"),
    (re.compile(r"arista|\beos\b|dcs-", re.IGNORECASE), "arista_eos"),
    (re.compile(r"juniper|junos|\bsrx|\bex\d|\bmx\d|\bqfx", re.IGNORECASE), "juniper_junos"),
    (re.compile(r"cisco|ios|catalyst|\bc9\d{3}|\bisr|\bws-c", re.IGNORECASE), "cisco_ios"),
)
_OS = (
    (re.compile(r"windows.*?(2016|2019|2022|2025)|w2k(16|19|22|25)|win(?:dows)? ?(?:server)? ?"
                r"(2016|2019|2022|2025)", re.IGNORECASE), "windows"),
    (re.compile(r"debian\D*(11|12)", re.IGNORECASE), "debian"),
    (re.compile(r"ubuntu\D*(22|24)\.?04", re.IGNORECASE), "ubuntu"),
    (re.compile(r"(?:rhel|red ?hat)\D*(9)", re.IGNORECASE), "rhel"),
)
_NET_KIND = re.compile(r"switch|router|firewall|fw\b|wlc|controller|netværk|network|"
                       r"access ?point|core|wan", re.IGNORECASE)
_SERVER_KIND = re.compile(r"server|vm|virtual|virtuel|host", re.IGNORECASE)
_ENDPOINT_KIND = re.compile(r"\bpc\b|laptop|bærbar|baerbar|klient|client|desktop|arbejdsstation|"
                            r"tablet|workstation", re.IGNORECASE)
_ROLES = (
    (re.compile(r"wlc|wireless|wlan", re.IGNORECASE), "wlan-controller"),
    (re.compile(r"firewall|\bfw\b", re.IGNORECASE), "firewall"),
    (re.compile(r"core|kerne", re.IGNORECASE), "core"),
    (re.compile(r"distribution|distr", re.IGNORECASE), "distribution"),
    (re.compile(r"\bwan\b|router|edge", re.IGNORECASE), "wan"),
    (re.compile(r"access|adgang|switch", re.IGNORECASE), "access"),
)


@dataclass
class Mapping:
    columns: dict[str, str] = field(default_factory=dict)  # field -> source header
    platforms: dict[str, str] = field(default_factory=dict)  # source value -> platform
    os: dict[str, str] = field(default_factory=dict)  # source value -> os

    def field_of(self, header: str) -> str | None:
        key = header_key(header)
        for name, source in self.columns.items():
            if header_key(source) == key:
                return name
        for name, names in DEFAULT_COLUMNS.items():
            if key in {header_key(n) for n in names} and name not in self.columns:
                return name
        return None

    def platform(self, *texts: str) -> tuple[str | None, str | None]:
        """(platform, None) for a supported platform, (None, family) for known kit the network
        baseline does not cover, (None, None) when nothing matches."""
        for text in texts:
            if text in self.platforms:
                return self.platforms[text], None
            if text in SUPPORTED_PLATFORMS:
                return text, None
        joined = " ".join(t for t in texts if t)
        for pattern, family in UNMANAGED_NETWORK:
            if pattern.search(joined):
                return None, family
        for pattern, name in _PLATFORMS:
            if pattern.search(joined):
                return name, None
        return None, None

    def operating_system(self, text: str) -> str | None:
        if text in self.os:
            return self.os[text]
        if text in SUPPORTED_OS:
            return text
        for pattern, family in _OS:
            match = pattern.search(text)
            if match:
                version = next(g for g in match.groups() if g)
                if family == "windows" and len(version) == 2:
                    version = f"20{version}"
                return f"{family}{version}04" if family == "ubuntu" else f"{family}{version}"
        return None


def kind_of(text: str) -> str | None:
    if not text:
        return None
    if _ENDPOINT_KIND.search(text):
        return "endpoint"
    if _NET_KIND.search(text):
        return "network_device"
    if _SERVER_KIND.search(text):
        return "server"
    return "other"


def role_of(*texts: str) -> str | None:
    joined = " ".join(t for t in texts if t)
    for pattern, role in _ROLES:
        if pattern.search(joined):
            return role
    return None


def load_mapping(path: Path | None) -> Mapping:
    """The mapping file, or the defaults. Errors name the file, the key and the fix."""
    if path is None:
        return Mapping()
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}; check the --map path") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]}); fix the "
                          "syntax") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping with `columns:`, `platforms:` or `os:`")
    unknown = sorted(set(data) - {"columns", "platforms", "os"})
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}; use columns, "
                          "platforms or os")
    columns = _str_map(path, "columns", data.get("columns"))
    bad = sorted(set(columns) - set(FIELDS))
    if bad:
        raise ConfigError(f"{path}: columns.{bad[0]} is not a field; fields are "
                          f"{', '.join(FIELDS)}")
    platforms = _str_map(path, "platforms", data.get("platforms"))
    for source, target in platforms.items():
        if target not in SUPPORTED_PLATFORMS:
            raise ConfigError(f"{path}: platforms.{source!r} maps to {target!r}; supported "
                              f"platforms are {', '.join(SUPPORTED_PLATFORMS)}")
    oses = _str_map(path, "os", data.get("os"))
    for source, target in oses.items():
        if target not in SUPPORTED_OS:
            raise ConfigError(f"{path}: os.{source!r} maps to {target!r}; supported operating "
                              f"systems are {', '.join(SUPPORTED_OS)}")
    return Mapping(columns, platforms, oses)


def _str_map(path: Path, key: str, value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ConfigError(f"{path}: `{key}:` must map text to text, e.g. "
                          f"`{key}: {{\"Source value\": target}}`")
    return dict(value)
