"""Compliance: per device and per control, compliant or the missing and extra lines.

The running config (read in this run) and the intended config are parsed by
hier_config for the device's platform; ``difference`` gives the lines missing
from the device and the lines the device has that the intended config does
not. Only lines a control owns count (platforms.py): everything else on the
device is local configuration this tool does not manage.
"""

from __future__ import annotations

from hier_config import HConfig, get_hconfig
from nornir.core.task import Task

from faellesdrift.estate import Estate, ExceptionStatus, Host, KeptException
from faellesdrift.network.filters import Filters
from faellesdrift.network.intended import Intended, render
from faellesdrift.network.platforms import CONTROLS, PlatformSpec, platform_spec
from faellesdrift.network.results import ControlResult, FleetResult, HostResult, Status
from faellesdrift.network.runner import read_running, run, session
from faellesdrift.network.settings import NetworkSettings

COMMAND = "network compliance"


def parse(spec: PlatformSpec, text: str) -> HConfig:
    text = spec.canonical(text.replace("\r\n", "\n"))
    if spec.name == "juniper_junos":  # `display set` output: comments and blank lines only
        text = "\n".join(line for line in text.splitlines()
                         if line.startswith(("set ", "delete ")))
    return get_hconfig(spec.hier, text)


def lines_by_control(spec: PlatformSpec, config: HConfig) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {c: [] for c in CONTROLS}
    for child in config.children:
        owner = spec.owner(child.text)
        if owner:
            out[owner].append(child.text)
    return out


def expired_for(estate: Estate, host: str) -> dict[str, KeptException]:
    """Expired exceptions naming this host, by control: their lines are drift now."""
    return {k.record.control: k for k in estate.exceptions()
            if k.status is ExceptionStatus.EXPIRED and host in k.record.hosts}


def check(spec: PlatformSpec, running_text: str, intended: Intended,
          expired: dict[str, KeptException] | None = None) -> tuple[ControlResult, ...]:
    """Compare one device's running config with its intended config, control by control."""
    running = parse(spec, running_text)
    wanted = parse(spec, intended.text)
    missing = lines_by_control(spec, wanted.difference(running))
    extra = lines_by_control(spec, running.difference(wanted))
    out = []
    for control in CONTROLS:
        value = intended.control(control)
        note = ""
        k = (expired or {}).get(control)
        if k is not None:
            note = (f"exception {k.record.id} expired on {k.record.expires}: "
                    "its local lines are drift now")
        out.append(ControlResult(control, value.source, tuple(missing[control]),
                                 tuple(extra[control]), value.status, note))
    return tuple(out)


def check_host(task: Task, host: Host, estate: Estate) -> tuple[HostResult, str, Intended]:
    """Read one device and check it. Returns the result, the running text and the intent."""
    spec = platform_spec(host.spec.platform)
    intended = render(estate, host)  # before connecting: a bad value costs no session
    running = read_running(session(task), spec)
    controls = check(spec, running, intended, expired_for(estate, host.name))
    drift = sum(len(c.missing) + len(c.extra) for c in controls)
    reason = "compliant" if not drift else (
        f"{drift} line(s) differ in " + ", ".join(c.control for c in controls if not c.compliant))
    result = HostResult(host.name, host.tenant, spec.name, Status.OK, reason, controls,
                        exceptions=intended.exceptions)
    return result, running, intended


def compliance(estate: Estate, settings: NetworkSettings, filters: Filters | None = None
               ) -> FleetResult:
    """Read every selected device and check it against its intended config."""
    return run(estate, settings, filters, COMMAND,
               lambda task, host: check_host(task, host, estate)[0])
