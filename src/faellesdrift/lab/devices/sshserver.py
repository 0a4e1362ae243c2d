"""fakenos's paramiko SSH server, with connection workers that end.

fakenos 1.2.1 waits for the client's session channel with `Transport.accept()`
and no timeout; paramiko never wakes that wait when the transport dies. So a
client that connects and then fails authentication or disconnects leaves a
(non-daemon) worker thread blocked for good: the emulator collects one per
failed login and an in-process fleet keeps pytest from exiting. Here the wait
polls, and ends the worker once the transport is no longer active (also when
the server stops: fakenos closes every active transport on stop).

    install()                                   # once, before FakeNOS.start()
    net.servers_plugins[PLUGIN] = LabSshServer  # per FakeNOS object
"""

from __future__ import annotations

import logging
import socket
import threading
import types
from typing import Any

import paramiko
from fakenos.plugins.servers import ssh_server_paramiko
from fakenos.plugins.servers.ssh_server_paramiko import ParamikoSshServer

log = logging.getLogger("faellesdrift.lab.sshserver")
PLUGIN = "ParamikoSshServer"
ACCEPT_POLL = 0.5  # seconds between checks of the transport while waiting for a channel


class ConnectionGone(Exception):
    """The client's transport ended before it opened a session channel."""


# Group-exchange key agreement needs a moduli file the server does not load; a client
# that allows little else (netmiko's fortinet driver) would pick it and fail.
_NO_GEX = {"kex": ["diffie-hellman-group-exchange-sha256", "diffie-hellman-group-exchange-sha1"]}


class _Transport(paramiko.Transport):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("disabled_algorithms", _NO_GEX)
        super().__init__(*args, **kwargs)

    def accept(self, timeout: float | None = None) -> paramiko.Channel | None:
        if timeout is not None:
            return super().accept(timeout)
        while True:
            chan = super().accept(ACCEPT_POLL)
            if chan is not None:
                return chan
            if not self.is_active():
                raise ConnectionGone


class _Paramiko(types.ModuleType):
    """paramiko as fakenos's server module sees it: the same, but for Transport."""

    Transport = _Transport

    def __getattr__(self, name: str) -> Any:
        return getattr(paramiko, name)


class LabSshServer(ParamikoSshServer):
    def _bind_sockets(self) -> None:
        # fakenos calls listen() in its accept thread, after start() has returned, so a
        # client connecting right after start() can be refused. Listen before returning;
        # the thread's own listen() on a listening socket is harmless.
        super()._bind_sockets()
        self._socket.listen()

    def _listen(self) -> None:
        # A device stopped right after it started closes the socket before fakenos's
        # listen thread reaches its own listen(): that is a stop, not an error.
        try:
            super()._listen()
        except OSError:
            if self._is_running.is_set():
                raise

    def connection_function(self, client: socket.socket, is_running: threading.Event) -> None:
        try:
            super().connection_function(client, is_running)
        except ConnectionGone:
            log.debug("ssh client on port %s left before opening a session", self.port)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            log.debug("ssh client on port %s: %s", self.port, exc)


def install() -> None:
    """Point fakenos's server module at the polling Transport (idempotent)."""
    if not isinstance(ssh_server_paramiko.paramiko, _Paramiko):
        ssh_server_paramiko.paramiko = _Paramiko("paramiko")  # type: ignore[attr-defined]
