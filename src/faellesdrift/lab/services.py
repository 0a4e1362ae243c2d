"""Emulated shared services: NTP (udp/123), DNS (udp+tcp/53), syslog (udp+tcp/514) and
plain TCP endpoints (monitoring, backup), each on the standards' address inside the
lab's services namespace. Everything received is appended to <state>/lab/logs/services.jsonl
so tests can see that a server's syslog reached the SIEM.
"""

from __future__ import annotations

import asyncio
import json
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

NTP_EPOCH = 2208988800


class EventLog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as netd

    def __call__(self, service: str, peer: Any, **fields: Any) -> None:
        event = {"time": time.time(), "service": service, "peer": peer[0] if peer else None,
                 **fields}
        self._fh.write(json.dumps(event) + "\n")
        self._fh.flush()


def ntp_reply(request: bytes, now: float | None = None) -> bytes | None:
    """A stratum-2 server reply to an NTP client (mode 3) request, else None."""
    if len(request) < 48 or request[0] & 0x07 != 3:
        return None
    now = time.time() if now is None else now
    version = (request[0] >> 3) & 0x07
    secs = int(now) + NTP_EPOCH
    frac = int((now % 1) * 2**32)
    stamp = struct.pack("!II", secs, frac)
    header = struct.pack("!BBbb", (version << 3) | 4, 2, request[2], -20)
    root = struct.pack("!II", 0, 0x00000100) + bytes([127, 127, 1, 0])
    return header + root + stamp + request[40:48] + stamp + stamp


def dns_reply(query: bytes, hosts: dict[str, str]) -> bytes | None:
    """Answer A queries for lab host names; NXDOMAIN for anything else."""
    if len(query) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", query[:6])
    if flags & 0x8000 or qdcount != 1:
        return None
    labels, pos = [], 12
    while pos < len(query) and query[pos] != 0:
        n = query[pos]
        labels.append(query[pos + 1:pos + 1 + n].decode(errors="replace"))
        pos += 1 + n
    qtype = struct.unpack("!H", query[pos + 1:pos + 3])[0] if pos + 5 <= len(query) else 0
    question = query[12:pos + 5]
    name = ".".join(labels).lower()
    address = hosts.get(name) or hosts.get(name.split(".")[0])
    rcode = 0 if address else 3
    answers = b""
    if address and qtype == 1:
        answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes(
            int(o) for o in address.split("."))
    header = struct.pack("!HHHHHH", qid, 0x8400 | (flags & 0x0100) | rcode, 1,
                         1 if answers else 0, 0, 0)
    return header + question + answers


class _Datagram(asyncio.DatagramProtocol):
    def __init__(self, handle: Callable[[bytes, Any], bytes | None]) -> None:
        self._handle = handle
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        reply = self._handle(data, addr)
        if reply and self.transport:
            self.transport.sendto(reply, addr)


class Services:
    """Handlers for each service; netd binds them to sockets in the services namespace."""

    def __init__(self, log: EventLog, hosts: dict[str, str]) -> None:
        self.log = log
        self.hosts = hosts
        self.handles: list[object] = []  # transports and servers, kept open by netd

    def ntp(self, data: bytes, peer: Any) -> bytes | None:
        self.log("ntp", peer)
        return ntp_reply(data)

    def dns(self, data: bytes, peer: Any) -> bytes | None:
        reply = dns_reply(data, self.hosts)
        self.log("dns", peer, answered=bool(reply and reply[3] & 0x0F == 0))
        return reply

    def syslog(self, data: bytes, peer: Any) -> None:
        for line in data.decode(errors="replace").splitlines():
            if line.strip():
                self.log("syslog", peer, proto="udp", message=line.strip())

    def datagram(self, handler: Callable[[bytes, Any], bytes | None]) -> _Datagram:
        return _Datagram(handler)

    async def syslog_tcp(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            while line := await reader.readline():
                text = line.decode(errors="replace").strip()
                if text:
                    self.log("syslog", peer, proto="tcp", message=text)
        except (ConnectionError, OSError):
            pass
        writer.close()

    async def dns_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while size := await reader.readexactly(2):
                query = await reader.readexactly(struct.unpack("!H", size)[0])
                reply = self.dns(query, writer.get_extra_info("peername"))
                if reply:
                    writer.write(struct.pack("!H", len(reply)) + reply)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        writer.close()

    def accept_only(self, service: str) -> Callable[..., Any]:
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.log(service, writer.get_extra_info("peername"))
            writer.close()
        return handler
