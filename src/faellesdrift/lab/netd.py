"""netd: the lab's network daemon — the ssh forwarder plus the emulated shared services.

    python -m faellesdrift.lab.netd --lab <state>/lab --prefix fd

One thread, three network namespaces: it stays in the router namespace (so
outgoing connections reach the tenant segments) and steps into the host
namespace to open the forwarder's loopback listeners and into the services
namespace to open the shared-service listeners. SIGHUP re-reads forwards.json
(servers added or removed); SIGTERM ends it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from faellesdrift.lab import netns
from faellesdrift.lab.forwarder import Forward, Forwarder
from faellesdrift.lab.paths import LabPaths
from faellesdrift.lab.services import EventLog, Services
from faellesdrift.lab.state import write_atomic

log = logging.getLogger("faellesdrift.lab.netd")


class Namespaces:
    """Open handles on the three namespaces; `inside(name)` switches this thread briefly."""

    def __init__(self, prefix: str) -> None:
        self.fds = {
            "host": os.open("/proc/self/ns/net", os.O_RDONLY),
            "router": os.open(netns.path(f"{prefix}-router"), os.O_RDONLY),
        }
        if netns.exists(f"{prefix}-svc"):
            self.fds["services"] = os.open(netns.path(f"{prefix}-svc"), os.O_RDONLY)
        netns.setns(self.fds["router"])

    @contextmanager
    def inside(self, name: str) -> Iterator[None]:
        netns.setns(self.fds[name])
        try:
            yield
        finally:
            netns.setns(self.fds["router"])

    def bound(self, name: str, kind: int, address: str, port: int) -> socket.socket:
        with self.inside(name):
            sock = socket.socket(socket.AF_INET, kind)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        if kind == socket.SOCK_STREAM:
            sock.listen(128)
        sock.setblocking(False)
        return sock


def load_forwards(paths: LabPaths) -> tuple[str, list[Forward]]:
    if not paths.forwards_spec.exists():
        return "", []
    data = json.loads(paths.forwards_spec.read_text())
    return str(data.get("generation", "")), [Forward(**f) for f in data["forwards"]]


def mark_ready(paths: LabPaths, generation: str) -> None:
    write_atomic(paths.root / "netd.ready",
                 json.dumps({"pid": os.getpid(), "generation": generation}) + "\n")


def load_hosts(paths: LabPaths) -> dict[str, str]:
    try:
        return dict(json.loads(paths.services_spec.read_text()).get("hosts", {}))
    except (OSError, ValueError):
        return {}


async def start_services(ns: Namespaces, paths: LabPaths) -> Services | None:
    if not paths.services_spec.exists() or "services" not in ns.fds:
        return None
    spec = json.loads(paths.services_spec.read_text())
    svc = Services(EventLog(paths.services_log), spec.get("hosts", {}))
    loop = asyncio.get_running_loop()
    handles: list[object] = []

    async def udp(addr: str, port: int, handler) -> None:  # type: ignore[no-untyped-def]
        sock = ns.bound("services", socket.SOCK_DGRAM, addr, port)
        transport, _ = await loop.create_datagram_endpoint(lambda: svc.datagram(handler),
                                                           sock=sock)
        handles.append(transport)

    async def tcp(addr: str, port: int, handler) -> None:  # type: ignore[no-untyped-def]
        sock = ns.bound("services", socket.SOCK_STREAM, addr, port)
        handles.append(await asyncio.start_server(handler, sock=sock))

    for addr in spec["ntp"]:
        await udp(addr, 123, svc.ntp)
    for addr in spec["dns"]:
        await udp(addr, 53, svc.dns)
        await tcp(addr, 53, svc.dns_tcp)
    host, port = spec["syslog"]
    await udp(host, port, svc.syslog)
    await tcp(host, port, svc.syslog_tcp)
    for addr, port in spec.get("tcp", []):
        await tcp(addr, port, svc.accept_only(f"tcp/{port}"))
    svc.handles = handles
    return svc


async def serve(paths: LabPaths, prefix: str) -> None:
    # Handlers first, readiness last: a SIGHUP that arrives while starting only asks for
    # one more reload (the default action would end the process).
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    reload_wanted = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reload_wanted.set)
    ns = Namespaces(prefix)
    forwarder = Forwarder(lambda addr, port: ns.bound("host", socket.SOCK_STREAM, addr, port))
    svc = await start_services(ns, paths)
    generation, forwards = load_forwards(paths)
    await forwarder.sync(forwards)
    mark_ready(paths, generation)
    log.info("netd ready")
    while not stop.is_set():
        waiter = asyncio.ensure_future(reload_wanted.wait())
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        stopper.cancel()
        if reload_wanted.is_set():
            reload_wanted.clear()
            generation, forwards = load_forwards(paths)
            await forwarder.sync(forwards)
            if svc is not None:
                svc.hosts = load_hosts(paths)
            mark_ready(paths, generation)
            log.info("netd reloaded forwards")
    await forwarder.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="faellesdrift.lab.netd")
    parser.add_argument("--lab", required=True, type=Path)
    parser.add_argument("--prefix", required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    paths = LabPaths(root=args.lab, cache=args.lab)
    asyncio.run(serve(paths, args.prefix))


if __name__ == "__main__":
    main()
