"""Remediation: push exactly the lines that close the gap, read back, re-check.

Dry run (the default) reads each device and returns the config that would be
pushed. ``apply=True`` pushes it with netmiko, reads the running config back
and checks compliance again: only a re-check that passes counts as remediated.

Exceptions are kept by construction — an active exception's value is in the
intended config, so its lines are never "extra" — and by a guard: a plan that
would remove a line an active exception keeps is refused for that device.
An expired exception no longer applies, so its lines are drift like any other.
Additions go before removals (a new NTP or TACACS server is in place before
the old one goes). Every push is appended to the audit log, with its result.

The plan is our own, on objects, not hier_config's ``WorkflowRemediation``:
that negates by text, so a server kept in its VRF (``ntp server vrf MGMT X``
against an intended ``ntp server X``) would be removed and re-added outside
it, and its FortiOS driver neither deletes an extra table entry nor closes
``edit`` blocks. hier_config parses and compares (its drivers, ``difference``).
"""

from __future__ import annotations

import difflib

from netmiko.exceptions import ConfigInvalidException
from nornir.core.task import Task

from faellesdrift import audit
from faellesdrift.estate import Estate, Host
from faellesdrift.network import fortios
from faellesdrift.network.compliance import (
    check,
    check_host,
    expired_for,
    lines_by_control,
    parse,
)
from faellesdrift.network.filters import Filters
from faellesdrift.network.intended import render
from faellesdrift.network.platforms import PlatformSpec, negation, platform_spec, push_lines
from faellesdrift.network.redact import for_backup, redact, redact_lines
from faellesdrift.network.results import ControlResult, DeviceResult, FleetResult, Status
from faellesdrift.network.runner import classify, read_running, run, session, to_wire
from faellesdrift.network.settings import NetworkSettings

COMMAND = "network remediate"
ERROR_PATTERN = r"% ?(?:Invalid|Incomplete|Ambiguous)|syntax error|\berror:"


class KeptLineRefused(Exception):
    """A plan would remove a line that an active exception keeps."""


def kept_lines(estate: Estate, host: Host) -> dict[str, dict[str, str]]:
    """control → {config line: exception id} for every active exception on this host."""
    spec = platform_spec(host.spec.platform)
    out: dict[str, dict[str, str]] = {}
    for k in estate.exceptions_for(host.name):
        rendered = render(estate, host, overrides={k.record.control: k.record.value})
        for line in lines_by_control(spec, parse(spec, rendered.text))[k.record.control]:
            out.setdefault(k.record.control, {})[line] = k.record.id
    return out


def object_key(spec: PlatformSpec, line: str) -> str:
    """The configuration object a line sets: what one negation would remove.

    The control's prefix plus the object's name (``ntp server 10.0.0.1``, ``set
    system syslog host 10.0.0.9``, with ``vrf NAME`` kept in front of the name);
    a banner is its first line. Options after the name (``prefer``, ``any any``,
    ``structured-data``) are not part of the object.
    """
    first = line.split("\n", 1)[0]
    if first.startswith("banner "):
        return " ".join(first.split()[:2])
    for prefix in spec.scopes.get(spec.owner(first) or "", ()):
        if first.startswith(prefix):
            rest = first[len(prefix):].split()
            if rest[:1] == ["vrf"]:
                return prefix + " ".join(rest[:3])
            return prefix + (rest[0] if rest and not prefix.endswith("message ") else "").rstrip()
    return first


def plan(spec: PlatformSpec, controls: tuple[ControlResult, ...],
         kept: dict[str, dict[str, str]] | None = None,
         wanted: tuple[str, ...] = ()) -> list[str]:
    """The CLI lines that bring the controls in line, additions first.

    Removal works on objects, not strings: an extra line whose object is also
    wanted (a line of the intended config, including one an exception keeps) is
    never negated as a whole — on Junos only its option statement is deleted,
    on IOS-like platforms the object is left as it is (negating it would remove
    the server). Each object is removed once.
    """
    kept = kept or {}
    for c in controls:
        for line in c.extra:
            keeper = kept.get(c.control, {}).get(line)
            if keeper:
                raise KeptLineRefused(
                    f"plan would remove {redact(line)!r}, kept by exception {keeper}")
    if spec.paths:
        return fortios.cli(fortios.plan([line for c in controls for line in c.missing],
                                        [line for c in controls for line in c.extra],
                                        list(wanted)))
    keep_objects = {object_key(spec, line) for line in wanted}
    keep_objects |= {object_key(spec, line) for lines in kept.values() for line in lines}
    adds: list[str] = []
    removes: list[str] = []
    for c in controls:
        if c.compliant:
            continue
        for line in c.missing:
            adds += push_lines(spec, line)
            keep_objects.add(object_key(spec, line))
    for c in controls:
        for line in c.extra:
            if c.control == "net.banner.motd" and c.missing:
                continue  # a new banner replaces the old one
            if object_key(spec, line) in keep_objects:
                if spec.name == "juniper_junos":
                    removes.append("delete " + line.removeprefix("set "))  # the option only
                continue
            removal = negation(spec, line).split("\n")
            if removal[0] not in removes or len(removal) > 1:
                removes.extend(removal)
    return adds + removes


def _diff(before: str, after: str) -> list[str]:
    """What changed on the device, redacted, without volatile timestamp lines."""
    return [line for line in difflib.unified_diff(
        for_backup(before).splitlines(), for_backup(after).splitlines(), "before", "after",
        lineterm="", n=0) if not line.startswith("@@")]


def remediate(estate: Estate, settings: NetworkSettings, filters: Filters | None = None, *,
              apply: bool = False) -> FleetResult:
    command = COMMAND + (" --apply" if apply else "")

    def job(task: Task, host: Host) -> DeviceResult:
        return remediate_host(task, host, estate, settings, apply=apply)

    fleet = run(estate, settings, filters, command, job)
    return FleetResult(fleet.command, fleet.hosts, fleet.started, fleet.finished, fleet.target,
                       {**fleet.details, "apply": apply})


def remediate_host(task: Task, host: Host, estate: Estate, settings: NetworkSettings, *,
                   apply: bool) -> DeviceResult:
    spec = platform_spec(host.spec.platform)
    result, running, intended = check_host(task, host, estate)
    if result.status.bad:
        return result  # not checked (the config could not be read): nothing is planned
    try:
        wanted = tuple(line for lines in lines_by_control(spec, parse(spec, intended.text)).values()
                       for line in lines)
        lines = plan(spec, result.controls, kept_lines(estate, host), wanted)
    except KeptLineRefused as exc:
        reason = f"refused: {exc}"
        if apply:
            _audit(settings, host, [], "refused", reason, result.exceptions)
        return result.with_status(Status.FAILED, reason)
    if not lines:
        return result.with_status(Status.OK, "compliant: nothing to push")
    # redacted as one text: a FortiOS secret is known by the block it is in
    shown = tuple(redact("\n".join(lines), spec.name).split("\n")) if spec.paths \
        else tuple(redact_lines(lines))
    if not apply:
        return DeviceResult(host.name, host.tenant, spec.name, Status.OK,
                          f"dry run: {len(lines)} line(s) would be pushed", result.controls,
                          shown, result.exceptions, {"planned": True})
    conn = session(task)
    try:
        conn.send_config_set([to_wire(line) for line in lines], exit_config_mode=not spec.commit,
                             error_pattern=ERROR_PATTERN)
        if spec.commit:
            conn.commit()
            conn.exit_config_mode()
    except Exception as exc:  # noqa: BLE001 - recorded per host, audited, the run goes on
        status, why = classify(exc)
        if isinstance(exc, ConfigInvalidException):
            why = "the device rejected the config: " + " ".join(str(exc).split())[:200]
        reason = f"push failed: {why}"
        _audit(settings, host, shown, "push-failed", reason, result.exceptions)
        return DeviceResult(host.name, host.tenant, spec.name, status, reason, (), shown,
                          result.exceptions)
    after = read_running(conn, spec)
    controls = check(spec, after, intended, expired_for(estate, host.name))
    verified = all(c.compliant for c in controls)
    left = sum(len(c.missing) + len(c.extra) for c in controls)
    if verified and settings.save and spec.save and not spec.commit:
        conn.save_config()
    reason = (f"remediated: {len(lines)} line(s) pushed, re-check compliant" if verified else
              f"pushed {len(lines)} line(s) but the re-check still finds {left} line(s) differing")
    _audit(settings, host, shown, "verified" if verified else "verify-failed", reason,
           result.exceptions, _diff(running, after))
    return DeviceResult(host.name, host.tenant, spec.name,
                      Status.CHANGED if verified else Status.FAILED, reason, controls, shown,
                      result.exceptions, {"diff": _diff(running, after)})


def _audit(settings: NetworkSettings, host: Host, pushed, result: str, reason: str,
           exceptions, diff: list[str] | None = None) -> None:
    audit.record(settings.audit_log, command=COMMAND + " --apply", tenant=host.tenant,
                 target=host.name, change={"pushed": list(pushed), "diff": diff or []},
                 result=result, reason=reason, exceptions_kept=list(exceptions),
                 platform=host.spec.platform)
