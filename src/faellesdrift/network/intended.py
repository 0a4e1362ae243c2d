"""Intended device configs: Jinja2 templates per platform, fed the estate's answer.

Each device's config is rendered from the community standards, the tenant's
data and ``estate.effective(control, host)`` for every network control — so an
active exception's local value is *in* the intended config and nothing
downstream has to know about exceptions to keep them. Control values are
checked here (addresses are addresses, names are single tokens) because they
are typed into device CLIs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import jinja2

from faellesdrift import clock
from faellesdrift.estate import Estate, Host
from faellesdrift.network.errors import ControlValueError
from faellesdrift.network.filters import Filters
from faellesdrift.network.platforms import CONTROLS, PlatformSpec, platform_spec
from faellesdrift.network.redact import for_backup
from faellesdrift.network.results import FleetResult, HostResult, Status
from faellesdrift.network.settings import NetworkSettings

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "network"
TEMPLATE = "device.j2"

_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_BANNER_FORBIDDEN = ('^', '"', "\\")


def _as_list(value: Any) -> list[Any]:
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


def _banner(control: str, host: str, value: Any) -> str:
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


@lru_cache(maxsize=4)
def environment(directory: Path = TEMPLATES) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory)),
        undefined=jinja2.StrictUndefined, autoescape=False,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )


def control_values(estate: Estate, host: str) -> tuple[ControlValue, ...]:
    out = []
    for control in CONTROLS:
        eff = estate.effective(control, host)
        value = _CHECKS[control](control, host, eff.value)
        k = eff.exception
        out.append(ControlValue(
            control, value, eff.source,
            k.status.value if k else None,
            k.record.expires.isoformat() if k and k.record.expires else None))
    return tuple(out)


def render(estate: Estate, host: Host, *, overrides: dict[str, Any] | None = None,
           env: jinja2.Environment | None = None) -> Intended:
    """The intended config of one network device. Raises ControlValueError.

    ``overrides`` renders as if a control had another value: remediation uses it
    to learn which lines an exception keeps.
    """
    spec: PlatformSpec = platform_spec(host.spec.platform)
    env = env or environment()
    tenant = estate.tenant(host.tenant)
    controls = control_values(estate, host.name)
    for control, value in (overrides or {}).items():
        controls = tuple(ControlValue(c.id, _CHECKS[control](control, host.name, value), c.source,
                                      c.status, c.expires) if c.id == control else c
                         for c in controls)
    d = host.spec
    text = env.get_template(f"{spec.name}/{TEMPLATE}").render(
        device={"name": d.name, "platform": d.platform, "role": d.role, "site": d.site,
                "address": str(d.address), "ports": d.ports},
        tenant={"slug": tenant.slug, "name": tenant.name, "code": tenant.code},
        community={"name": estate.standards.community, "operator": estate.standards.operator},
        c={cv.id: cv for cv in controls},
    )
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return Intended(host.name, host.tenant, spec.name, "\n".join(lines) + "\n", controls)


def intended(estate: Estate, settings: NetworkSettings, filters: Filters | None = None, *,
             write: bool = True) -> FleetResult:
    """Render every selected device; write redacted copies under ``<state>/intended``.

    No device is contacted. A control value that cannot be rendered fails that
    device only.
    """
    started = clock.now()
    results = []
    env = environment()
    for host in (filters or Filters()).select(estate):
        try:
            it = render(estate, host, env=env)
        except ControlValueError as exc:
            results.append(HostResult(host.name, host.tenant, host.spec.platform,
                                      Status.FAILED, str(exc)))
            continue
        rel = f"{host.tenant}/{host.name}.cfg"
        shown = for_backup(it.text)
        details = {"file": rel, "lines": it.text.count("\n"), "text": shown}
        if write:
            path = settings.intended_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(shown, encoding="utf-8")
        results.append(HostResult(host.name, host.tenant, it.platform, Status.OK, "rendered",
                                  exceptions=it.exceptions, details=details))
    return FleetResult("network intended", tuple(results), started,
                       clock.now(), "none (no device contacted)",
                       {"directory": str(settings.intended_dir) if write else None})
