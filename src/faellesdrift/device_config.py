"""Device configs rendered from the estate: the one renderer of network device configs.

Each device's config is rendered with Jinja2 (``templates/network/<platform>/device.j2``)
from the community standards, the tenant's data and ``estate.effective(control, host)``
for every network control — so an active exception's local value is *in* the config
and nothing downstream has to know about exceptions to keep them. The network adapter
renders intended configs with it; the lab seeds its emulated devices with it (the same
text, rendered with the lab's known deviations as ``overrides``). Control values are
checked here (addresses are addresses, names are single tokens) because they are typed
into device CLIs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import jinja2

from faellesdrift.errors import ConfigError
from faellesdrift.estate import Estate, Host

TEMPLATES = Path(__file__).resolve().parent / "templates" / "network"
TEMPLATE = "device.j2"

# The network controls of the catalog a device config carries.
CONTROLS: tuple[str, ...] = (
    "net.ntp.servers",
    "net.syslog.siem",
    "net.snmp.communities",
    "net.aaa.tacacs",
    "net.dns.servers",
    "net.banner.motd",
)

_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_BANNER_FORBIDDEN = ('^', '"', "\\")


class ControlValueError(ConfigError):
    """A control's effective value cannot be rendered safely for a device."""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _addresses(control: str, host: str, value: Any) -> list[str]:
    out = []
    for v in _as_list(value):
        try:
            out.append(str(IPv4Address(str(v))))
        except ValueError:
            raise ControlValueError(
                f"{control} for {host}: {v!r} is not an IPv4 address — fix the control's "
                "default in community.yaml or the exception's value in the tenant file"
            ) from None
    return out


def _tokens(control: str, host: str, value: Any) -> list[str]:
    out = []
    for v in _as_list(value):
        if not isinstance(v, str) or not _TOKEN.match(v):
            raise ControlValueError(
                f"{control} for {host}: {v!r} must be one word of letters, digits, '.', '_' "
                "or '-' (at most 32) — fix the exception's value in the tenant file")
        out.append(v)
    return out


def _banner(control: str, host: str, value: Any) -> str | None:
    if value is None:
        return None  # no banner (a device that lacks one)
    if not isinstance(value, str) or not value.strip() or len(value) > 200 \
            or any(ch in value for ch in _BANNER_FORBIDDEN) or value.strip() == "EOF":
        raise ControlValueError(
            f"{control} for {host}: {value!r} must be one line of text (at most 200 "
            "characters, no '^', '\"' or '\\') — fix the value in community.yaml or the exception")
    return value


_CHECKS = {
    "net.ntp.servers": _addresses,
    "net.syslog.siem": _addresses,
    "net.aaa.tacacs": _addresses,
    "net.dns.servers": _addresses,
    "net.snmp.communities": _tokens,
    "net.banner.motd": _banner,
}


@dataclass(frozen=True)
class ControlValue:
    """What a template sees for one control."""

    id: str
    value: Any
    source: str  # "standard" or the exception id
    status: str | None = None  # the exception's status when source is an exception
    expires: str | None = None


@dataclass(frozen=True)
class Intended:
    host: str
    tenant: str
    platform: str
    text: str
    controls: tuple[ControlValue, ...]

    @property
    def exceptions(self) -> tuple[str, ...]:
        return tuple(c.source for c in self.controls if c.source != "standard")

    def control(self, control_id: str) -> ControlValue:
        return next(c for c in self.controls if c.id == control_id)


@cache
def platforms(directory: Path = TEMPLATES) -> tuple[str, ...]:
    """The platforms (netmiko device types) that have a device template."""
    return tuple(sorted(p.name for p in directory.iterdir() if (p / TEMPLATE).is_file()))


@lru_cache(maxsize=4)
def environment(directory: Path = TEMPLATES) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory)),
        undefined=jinja2.StrictUndefined, autoescape=False,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )


def check_value(control: str, host: str, value: Any) -> Any:
    """A control value as the templates take it. Raises ControlValueError."""
    return _CHECKS[control](control, host, value)


def control_values(estate: Estate, host: str) -> tuple[ControlValue, ...]:
    out = []
    for control in CONTROLS:
        eff = estate.effective(control, host)
        value = check_value(control, host, eff.value)
        k = eff.exception
        out.append(ControlValue(
            control, value, eff.source,
            k.status.value if k else None,
            k.record.expires.isoformat() if k and k.record.expires else None))
    return tuple(out)


def render(estate: Estate, host: Host, *, overrides: dict[str, Any] | None = None,
           env: jinja2.Environment | None = None) -> Intended:
    """The config of one network device. Raises ControlValueError.

    ``overrides`` renders as if a control had another value: remediation uses it
    to learn which lines an exception keeps, the lab to seed a device that
    deviates from the standard in known ways.
    """
    platform = host.spec.platform
    if platform not in platforms():
        raise ControlValueError(
            f"{host.name}: platform {platform!r} has no device template; supported: "
            f"{', '.join(platforms())}")
    env = env or environment()
    tenant = estate.tenant(host.tenant)
    controls = control_values(estate, host.name)
    for control, value in (overrides or {}).items():
        controls = tuple(ControlValue(c.id, check_value(control, host.name, value), c.source,
                                      c.status, c.expires) if c.id == control else c
                         for c in controls)
    d = host.spec
    text = env.get_template(f"{platform}/{TEMPLATE}").render(
        device={"name": d.name, "platform": d.platform, "role": d.role, "site": d.site,
                "address": str(d.address), "ports": d.ports},
        tenant={"slug": tenant.slug, "name": tenant.name, "code": tenant.code},
        community={"name": estate.standards.community, "operator": estate.standards.operator},
        c={cv.id: cv for cv in controls},
    )
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return Intended(host.name, host.tenant, platform, "\n".join(lines) + "\n", controls)
