"""Run one job per device with Nornir: failures become results, connections close per host.

A job receives the Nornir task and the estate host, opens the netmiko session
through Nornir's connection plugin (``session(task)``) and returns a
``DeviceResult``. Whatever it raises is classified here — unreachable, wrong
credentials, a timeout mid-session — and recorded for that host only; the run
goes on. The session is closed in the host's own task, so a fleet of hundreds
never keeps hundreds of sessions open on the devices.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import replace

import paramiko
from netmiko.exceptions import (
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadException,
    ReadTimeout,
)
from nornir.core import Nornir
from nornir.core.configuration import Config
from nornir.core.plugins.connections import ConnectionPluginRegister
from nornir.core.task import Result, Task
from nornir.plugins.runners import ThreadedRunner
from nornir_netmiko.connections import Netmiko

from faellesdrift import clock
from faellesdrift.errors import FaellesdriftError
from faellesdrift.estate import Estate
from faellesdrift.estate import Host as EstateHost
from faellesdrift.network.configtext import decode_config
from faellesdrift.network.connect import endpoints, load_credentials
from faellesdrift.network.filters import Filters
from faellesdrift.network.inventory import nornir_inventory
from faellesdrift.network.platforms import PlatformSpec, platform_spec
from faellesdrift.network.results import DeviceResult, FleetResult, Status
from faellesdrift.network.settings import NetworkSettings

Job = Callable[[Task, EstateHost], DeviceResult]

CONNECTION = "netmiko"
# netmiko decodes what it reads with this codec and drops what it cannot decode.
# Latin-1 maps every byte to one character, so nothing is dropped (not even a
# UTF-8 character split across two reads); read_running decodes the bytes again.
WIRE_ENCODING = "latin-1"
ConnectionPluginRegister.register(CONNECTION, Netmiko)


def session(task: Task):
    """The host's netmiko session (opened on first use, closed by the runner)."""
    conn = task.host.get_connection(CONNECTION, task.nornir.config)
    if task.host.platform != "juniper_junos" and not conn.check_enable_mode():
        conn.enable()
    return conn


def read_running(conn, spec: PlatformSpec) -> str:
    """The running config, as text in the form the templates render, no byte lost."""
    wire = conn.send_command(spec.read_command, strip_prompt=True, strip_command=True)
    return decode_config(wire.encode(WIRE_ENCODING))


def to_wire(line: str) -> str:
    """A config line as the session writes it: UTF-8 bytes, one character per byte."""
    return line.encode("utf-8", "surrogateescape").decode(WIRE_ENCODING)


def classify(exc: BaseException) -> tuple[Status, str]:
    """An exception from one host → (status, one-line reason)."""
    msg = " ".join(str(exc).split()).split(" Things you might try")[0]
    if isinstance(exc, NetmikoAuthenticationException):
        return Status.FAILED, "authentication failed: the device refused the credentials"
    if isinstance(exc, (ReadTimeout, ReadException)):
        return Status.FAILED, f"timed out mid-session waiting for the device: {msg[:160]}"
    if isinstance(exc, NetmikoTimeoutException):
        if "TCP connection to device failed" in msg or "DNS failure" in msg:
            return Status.UNREACHABLE, "no TCP connection (refused or timed out)"
        return Status.FAILED, f"timed out mid-session: {msg[:160]}"
    if isinstance(exc, (ConnectionRefusedError, socket.timeout, TimeoutError)):
        return Status.UNREACHABLE, f"no TCP connection: {msg[:120] or type(exc).__name__}"
    if isinstance(exc, (EOFError, ConnectionResetError, BrokenPipeError, OSError,
                        paramiko.SSHException)):
        return Status.FAILED, f"session lost: {type(exc).__name__} {msg[:120]}".rstrip()
    if isinstance(exc, FaellesdriftError):  # ours: the message is the reason
        return Status.FAILED, msg
    return Status.FAILED, f"{type(exc).__name__}: {msg[:200]}"


def netmiko_extras(settings: NetworkSettings) -> dict:
    return {"conn_timeout": settings.conn_timeout, "auth_timeout": settings.auth_timeout,
            "banner_timeout": settings.auth_timeout, "read_timeout_override": settings.read_timeout,
            "fast_cli": False, "allow_agent": False, "use_keys": False,
            "encoding": WIRE_ENCODING}


def run(estate: Estate, settings: NetworkSettings, filters: Filters | None, command: str,
        job: Job) -> FleetResult:
    """Select devices, run ``job`` on each in parallel, return one result per device."""
    started = clock.now()
    filters = filters or Filters()
    hosts = filters.select(estate)
    for h in hosts:
        platform_spec(h.spec.platform)  # an unsupported platform stops the run before it starts
    target, eps = endpoints(settings, hosts)
    creds = load_credentials(settings)
    inventory = nornir_inventory(estate, hosts, eps, creds, netmiko_extras(settings))
    by_name = {h.name: h for h in hosts}
    results: dict[str, DeviceResult] = {}
    if hosts:
        nr = Nornir(inventory=inventory, config=Config(logging={"enabled": False}),
                    runner=ThreadedRunner(num_workers=min(settings.workers, len(hosts))))
        agg = nr.run(task=_wrap(job, by_name), name=command, on_failed=True)
        for name, multi in agg.items():
            r = multi[0].result if multi else None
            if isinstance(r, DeviceResult):
                results[name] = r
            else:  # the wrapper itself failed: still one result for this host
                h = by_name[name]
                status, reason = classify(multi[0].exception) if multi and multi[0].exception \
                    else (Status.FAILED, "no result")
                results[name] = DeviceResult(name, h.tenant, h.spec.platform, status, reason)
    ordered = tuple(results[h.name] for h in hosts)
    return FleetResult(command, ordered, started, clock.now(), target,
                       {"filters": filters.describe(), "workers": settings.workers})


def _wrap(job: Job, by_name: dict[str, EstateHost]) -> Callable[[Task], Result]:
    def task(t: Task) -> Result:
        h = by_name[t.host.name]
        start = time.monotonic()
        try:
            if not t.host.hostname or not t.host.port:
                result = DeviceResult(h.name, h.tenant, h.spec.platform, Status.UNREACHABLE,
                                    "not served by the lab (is it up with this tenant?)")
            else:
                result = job(t, h)
        except Exception as exc:  # noqa: BLE001 - every failure becomes this host's result
            status, reason = classify(exc)
            result = DeviceResult(h.name, h.tenant, h.spec.platform, status, reason)
        finally:
            try:
                t.host.close_connections()
            except Exception:  # noqa: BLE001,S110 - a session that died cannot be closed twice
                pass
        result = replace(result, seconds=time.monotonic() - start)
        return Result(host=t.host, result=result)
    return task
