"""SSH forwarder: 127.x.y.z:22 on the host's loopback -> a server's sshd inside the lab.

Listening sockets are made in the host's network namespace, outgoing ones in the
lab's router namespace (which has a route to every tenant segment). A socket
stays in the namespace it was made in, so one thread switches namespace only
around socket creation (see netd.Namespaces).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("faellesdrift.lab.forwarder")


@dataclass(frozen=True)
class Forward:
    name: str
    listen: str
    port: int
    target: str
    target_port: int


class Forwarder:
    def __init__(self, listen_socket: Callable[[str, int], socket.socket]) -> None:
        self._listen_socket = listen_socket  # makes a bound socket in the host namespace
        self._servers: dict[Forward, asyncio.base_events.Server] = {}

    async def sync(self, wanted: list[Forward]) -> None:
        """Listen for exactly `wanted`: start new forwards, close dropped ones."""
        for fwd in [f for f in self._servers if f not in wanted]:
            self._servers.pop(fwd).close()
        for fwd in wanted:
            if fwd in self._servers:
                continue
            try:
                sock = self._listen_socket(fwd.listen, fwd.port)
            except OSError as exc:
                log.error("forward %s: cannot listen on %s:%s: %s", fwd.name, fwd.listen,
                          fwd.port, exc)
                continue
            self._servers[fwd] = await asyncio.start_server(
                lambda r, w, f=fwd: self._relay(r, w, f), sock=sock)

    async def close(self) -> None:
        for server in self._servers.values():
            server.close()
        self._servers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     fwd: Forward) -> None:
        out = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # made in the router netns
        out.setblocking(False)
        try:
            await asyncio.wait_for(
                asyncio.get_running_loop().sock_connect(out, (fwd.target, fwd.target_port)), 10)
            t_reader, t_writer = await asyncio.open_connection(sock=out)
        except (TimeoutError, OSError) as exc:
            log.warning("forward %s: %s:%s unreachable: %s", fwd.name, fwd.target,
                        fwd.target_port, exc)
            out.close()
            writer.close()
            return
        await asyncio.gather(_pipe(reader, t_writer), _pipe(t_reader, writer))
        for w in (writer, t_writer):
            with contextlib.suppress(Exception):
                w.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until EOF, then pass the EOF on (half-close), so either side may finish first."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        with contextlib.suppress(Exception):
            writer.close()
