"""Host vars for the server baseline, from the estate's effective control values.

Every value a role writes comes from here, and every value here comes from
``estate.effective(control, host)``: a host with an active exception gets the
exception's value (and the exception id as its source), so the playbooks keep
it in place. The same ``Baseline`` feeds the testinfra expectations.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from faellesdrift.errors import ConfigError
from faellesdrift.estate import Estate, Host, tenant_group
from faellesdrift.model import BASELINE_OS  # the roles use Debian paths and packages
from faellesdrift.servers.errors import BaselineValueError

#: The group the shared operator's admin accounts join; sudo and AllowGroups refer to it.
ADMIN_GROUP = "fd-operators"
_GROUP = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_ROOT_LOGIN = {"prohibit-password": "prohibit-password",
               "without-password": "prohibit-password",  # OpenSSH's old name, same meaning
               "forced-commands-only": "forced-commands-only",
               "no": "no"}


class _Bad(ValueError):
    """A value of the wrong shape; the message says what was expected."""


def _host_or_ip(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad(f"expected an IPv4 address or host name, got {value!r}")
    try:
        return str(ipaddress.IPv4Address(value))
    except ValueError:
        if _HOSTNAME.match(value):
            return value
    raise _Bad(f"expected an IPv4 address or host name, got {value!r}")


def _port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise _Bad(f"expected a port number 1-65535, got {value!r}")
    return value


def _mapping(value: Any, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    if not isinstance(value, dict):
        raise _Bad(f"expected a mapping with {', '.join(required)}, got {value!r}")
    missing = [k for k in required if k not in value]
    unknown = [k for k in value if k not in required + optional]
    if missing or unknown:
        raise _Bad(f"expected keys {', '.join(required + optional)}; "
                   f"missing {missing or 'none'}, unknown {unknown or 'none'}")
    return value


def _ntp(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise _Bad(f"expected a non-empty list of NTP servers, got {value!r}")
    return [_host_or_ip(v) for v in value]


def _syslog(value: Any) -> dict:
    v = _mapping(value, ("host", "port"), ("protocol",))
    protocol = v.get("protocol", "udp")
    if protocol not in ("udp", "tcp"):
        raise _Bad(f"protocol must be udp or tcp, got {protocol!r}")
    return {"host": _host_or_ip(v["host"]), "port": _port(v["port"]), "protocol": protocol}


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad(f"expected true or false, got {value!r}")
    return value


def _root_login(value: Any) -> str:
    if value not in _ROOT_LOGIN:
        raise _Bad(f"expected one of {', '.join(_ROOT_LOGIN)} (root logs in with keys only), "
                   f"got {value!r}")
    return _ROOT_LOGIN[value]


def _names(what: str, forbid_root: bool = False) -> Callable[[Any], list[str]]:
    def check(value: Any) -> list[str]:
        if not isinstance(value, list) or not value:
            raise _Bad(f"expected a non-empty list of {what}, got {value!r}")
        for v in value:
            if not isinstance(v, str) or not _GROUP.match(v):
                raise _Bad(f"{v!r} is not a valid {what[:-1]} (lowercase, digits, '-', '_')")
            if forbid_root and v == "root":
                raise _Bad("root is not an admin account; list the operator's personal accounts")
        return list(dict.fromkeys(value))
    return check


def _monitoring(value: Any) -> dict:
    v = _mapping(value, ("server", "port"))
    return {"server": _host_or_ip(v["server"]), "port": _port(v["port"])}


def _banner(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"expected one line of text, got {value!r}")
    return value


@dataclass(frozen=True)
class ControlSpec:
    control: str
    var: str  # the Ansible variable the roles read
    role: str  # the role that applies it
    normalise: Callable[[Any], Any]


#: The server controls the baseline applies, in role order. One row per control.
CONTROLS: tuple[ControlSpec, ...] = (
    ControlSpec("srv.admin.accounts", "fd_admin_accounts", "admin_accounts",
                _names("accounts", forbid_root=True)),
    ControlSpec("srv.ntp.servers", "fd_ntp_servers", "time", _ntp),
    ControlSpec("srv.syslog.siem", "fd_syslog_siem", "logging", _syslog),
    ControlSpec("srv.ssh.password_auth", "fd_ssh_password_auth", "ssh_hardening", _bool),
    ControlSpec("srv.ssh.permit_root_login", "fd_ssh_permit_root_login", "ssh_hardening",
                _root_login),
    ControlSpec("srv.ssh.allow_groups", "fd_ssh_allow_groups", "ssh_hardening",
                _names("groups")),
    ControlSpec("srv.monitoring.agent", "fd_monitoring_agent", "monitoring_agent", _monitoring),
    ControlSpec("srv.banner.motd", "fd_banner_motd", "banner", _banner),
)
CONTROL_IDS = tuple(c.control for c in CONTROLS)
ROLES = tuple(dict.fromkeys(c.role for c in CONTROLS))


def controls_of_role(role: str) -> tuple[str, ...]:
    return tuple(c.control for c in CONTROLS if c.role == role)


@dataclass(frozen=True)
class ControlVar:
    """One control's effective value on one host, and where it came from."""

    control: str
    var: str
    value: Any
    source: str  # "standard" or the id of the exception that keeps the value
    expires: date | None = None
    exception_status: str | None = None  # "active" or "expiring" when kept by an exception

    @property
    def kept_by_exception(self) -> bool:
        return self.source != "standard"

    def to_dict(self) -> dict[str, Any]:
        return {"control": self.control, "value": self.value, "source": self.source,
                "expires": self.expires.isoformat() if self.expires else None,
                "exception_status": self.exception_status}


@dataclass(frozen=True)
class Baseline:
    """The effective server baseline of one host."""

    host: str
    tenant: str
    address: str
    controls: tuple[ControlVar, ...]

    def get(self, control: str) -> ControlVar:
        for c in self.controls:
            if c.control == control:
                return c
        raise KeyError(control)

    def value(self, control: str) -> Any:
        return self.get(control).value

    @property
    def exceptions(self) -> tuple[ControlVar, ...]:
        return tuple(c for c in self.controls if c.kept_by_exception)

    def host_vars(self, operator_keys: Iterable[str]) -> dict[str, Any]:
        """The Ansible host vars: one ``fd_*`` variable per control plus provenance."""
        keys = [k.strip() for k in operator_keys if k.strip()]
        if not keys:
            raise ConfigError(f"{self.host}: no operator public key to install for "
                              f"{', '.join(self.value('srv.admin.accounts'))}; the hardening "
                              "would lock the operator out — bring the lab up or give a key")
        out: dict[str, Any] = {"fd_tenant": self.tenant, "fd_admin_group": ADMIN_GROUP,
                               "fd_admin_keys": keys}
        for c in self.controls:
            out[c.var] = c.value
        out["fd_sources"] = {c.control: c.source for c in self.controls}
        return out


def _where(estate: Estate, host: Host, source: str) -> str:
    if source == "standard":
        return "community.yaml controls"
    return f"tenants/{host.tenant}.yaml exception {source}"


def baseline(estate: Estate, host_name: str, *, connect_user: str = "root") -> Baseline:
    """The effective baseline of one server; BaselineValueError names the value to fix.

    ``connect_user`` is the account the runs log in with: the baseline refuses
    values that would stop it (or the admin accounts) from logging in again.
    """
    host = estate.host(host_name)
    if host.kind != "server":
        raise ConfigError(f"{host_name} is a {host.kind.replace('_', ' ')}, not a server")
    values: list[ControlVar] = []
    for spec in CONTROLS:
        eff = estate.effective(spec.control, host_name)
        try:
            value = spec.normalise(eff.value)
        except _Bad as exc:
            raise BaselineValueError(
                f"{_where(estate, host, eff.source)}: {spec.control} for {host_name}: {exc}"
            ) from None
        kept = eff.exception
        values.append(ControlVar(spec.control, spec.var, value, eff.source,
                                   kept.record.expires if kept else None,
                                   kept.status.value if kept else None))
    result = Baseline(host_name, host.tenant, str(host.spec.address), tuple(values))
    _never_lock_out(estate, host, result, connect_user)
    return result


def _never_lock_out(estate: Estate, host: Host, b: Baseline, connect_user: str) -> None:
    groups = b.get("srv.ssh.allow_groups")
    where = _where(estate, host, groups.source)
    if ADMIN_GROUP not in groups.value:
        raise BaselineValueError(
            f"{where}: srv.ssh.allow_groups for {b.host} = {groups.value} leaves out "
            f"{ADMIN_GROUP}: the operator's admin accounts could not log in — add it")
    if connect_user == "root":
        if "root" not in groups.value:
            raise BaselineValueError(
                f"{where}: srv.ssh.allow_groups for {b.host} = {groups.value} leaves out root, "
                "the account the runs log in with — add root or run as an admin account")
        root = b.get("srv.ssh.permit_root_login")
        if root.value in ("no", "forced-commands-only"):
            raise BaselineValueError(
                f"{_where(estate, host, root.source)}: srv.ssh.permit_root_login for {b.host} = "
                f"{root.value!r} would stop the runs (which log in as root) — use "
                "prohibit-password or run as an admin account")
    elif connect_user not in b.value("srv.admin.accounts"):
        raise BaselineValueError(
            f"{b.host}: the runs log in as {connect_user!r}, which is neither root nor one of "
            f"the admin accounts {b.value('srv.admin.accounts')} — it could be locked out")


@dataclass(frozen=True)
class Refused:
    """A selected server whose effective values cannot be applied safely: a failure."""

    host: str
    tenant: str
    reason: str


@dataclass(frozen=True)
class Selection:
    """Which servers a run targets, which it leaves out (and why), which it refuses."""

    targets: tuple[Baseline, ...]
    left_out: dict[str, str] = field(default_factory=dict)  # host -> reason (not a failure)
    refused: tuple[Refused, ...] = ()  # bad values for these hosts: failures, others go on

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(b.host for b in self.targets)

    @property
    def tenants(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*(b.tenant for b in self.targets),
                                    *(r.tenant for r in self.refused)]))


def not_covered(os_name: str) -> str:
    """Why a server is left out of every run: the reason people read in plans and reports."""
    return f"{os_name}: not covered by the Linux baseline (inventory only)"


def select(estate: Estate, *, tenants: Iterable[str] = (), hosts: Iterable[str] = (),
           reachable: Iterable[str] | None = None, connect_user: str = "root") -> Selection:
    """The servers to run on: filtered by tenant and host, limited to what can be reached.

    A host named with ``hosts`` that is not a server or not reachable is an
    error (the user asked for it); other servers outside ``reachable`` are
    left out with a reason. A server whose effective values would be unsafe
    (BaselineValueError) is refused — a per-host failure; the others still run.
    """
    tenants = [estate.tenant(t).slug for t in tenants]
    wanted = list(dict.fromkeys(hosts))
    reach = None if reachable is None else set(reachable)
    for name in wanted:
        h = estate.host(name)
        if h.kind != "server":
            raise ConfigError(f"--host {name}: is a {h.kind.replace('_', ' ')}, not a server")
        if tenants and h.tenant not in tenants:
            raise ConfigError(f"--host {name}: belongs to tenant {h.tenant}, not "
                              f"{', '.join(tenants)}")
        if h.spec.os not in BASELINE_OS:
            continue  # left out below with the reason, not an error: it is inventory only
        if reach is not None and name not in reach:
            raise ConfigError(f"--host {name}: not in the lab; run `faellesdrift lab status` "
                              "for the servers it has")
    candidates = [estate.host(n) for n in wanted] if wanted else [
        h for h in estate.hosts(kind="server") if not tenants or h.tenant in tenants]
    targets: list[Baseline] = []
    left_out: dict[str, str] = {}
    refused: list[Refused] = []
    for h in sorted(candidates, key=lambda h: (h.tenant, h.name)):
        if h.spec.os not in BASELINE_OS:  # Windows: kept as inventory, never a lab host
            left_out[h.name] = not_covered(h.spec.os)
        elif reach is not None and h.name not in reach:
            left_out[h.name] = "not in the lab"
        else:
            try:
                targets.append(baseline(estate, h.name, connect_user=connect_user))
            except BaselineValueError as exc:
                refused.append(Refused(h.name, h.tenant, str(exc)))
    return Selection(tuple(targets), left_out, tuple(refused))


def inventory(selection: Selection, operator_keys: Iterable[str],
              connection: dict[str, Any] | None = None) -> dict[str, Any]:
    """An Ansible YAML/JSON inventory: one group per tenant, host vars per server."""
    keys = tuple(operator_keys)
    groups: dict[str, Any] = {}
    for b in selection.targets:
        hv = b.host_vars(keys)
        hv.update(connection or {})
        groups.setdefault(tenant_group(b.tenant), {"hosts": {}})["hosts"][b.host] = hv
    return {"all": {"children": groups}}
