"""Where a device is and how to log in: credentials and endpoints, never from inventories.

DeviceLogin come from $FAELLESDRIFT_DEVICE_USER / $FAELLESDRIFT_DEVICE_PASSWORD
(optional $FAELLESDRIFT_DEVICE_SECRET for enable), else from a JSON secrets file:
$FAELLESDRIFT_DEVICE_CREDENTIALS, by default the lab's (named by its access artefact).
A secrets file inside the repository (outside its git-ignored state dir) is refused.

Endpoints: with target ``estate`` a device is its management address, port 22;
with target ``lab`` it is the loopback host/port the lab serves it on.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faellesdrift.estate import Host
from faellesdrift.lab_access import LabAccess, LabAccessError, read_lab_access
from faellesdrift.network.errors import NetworkError
from faellesdrift.network.settings import NetworkSettings


@dataclass(frozen=True)
class DeviceLogin:
    username: str
    password: str = field(repr=False)
    secret: str = field(default="", repr=False)  # enable secret; defaults to the password
    source: str = ""  # where they came from (for messages; never the values)
    per_host: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)

    def for_host(self, name: str) -> tuple[str, str, str]:
        user, password = self.per_host.get(name, (self.username, self.password))
        return user, password, self.secret or password


@dataclass(frozen=True)
class SshEndpoint:
    host: str
    port: int


def _inside(path: Path, parent: Path) -> bool:
    try:
        path.resolve().relative_to(parent.resolve())
        return True
    except ValueError:
        return False


def credentials_path(settings: NetworkSettings) -> Path | None:
    """The secrets file: the one named by the environment or settings, else the lab's."""
    env = os.environ.get("FAELLESDRIFT_DEVICE_CREDENTIALS")
    if env:
        return Path(env).expanduser()
    if settings.credentials_file:
        return settings.credentials_file
    lab = _lab_access(settings)
    return lab.device_credentials if lab is not None else None


def load_credentials(settings: NetworkSettings) -> DeviceLogin:
    user = os.environ.get("FAELLESDRIFT_DEVICE_USER")
    password = os.environ.get("FAELLESDRIFT_DEVICE_PASSWORD")
    if user and password:
        return DeviceLogin(user, password, os.environ.get("FAELLESDRIFT_DEVICE_SECRET", ""),
                           "FAELLESDRIFT_DEVICE_USER/PASSWORD")
    path = credentials_path(settings)
    if path is None:
        raise NetworkError(
            "no device credentials: set FAELLESDRIFT_DEVICE_USER and FAELLESDRIFT_DEVICE_PASSWORD,"
            " or FAELLESDRIFT_DEVICE_CREDENTIALS=<file>, or bring the lab up (`faellesdrift lab "
            "up` keeps its devices' login in its state dir)")
    if _inside(path, settings.root) and not _inside(path, settings.state_dir):
        raise NetworkError(
            f"{path}: a secrets file inside the repository is refused — move it outside "
            "(or under the git-ignored state dir) and point FAELLESDRIFT_DEVICE_CREDENTIALS at it")
    if not path.is_file():
        raise NetworkError(
            f"no device credentials: set FAELLESDRIFT_DEVICE_USER and FAELLESDRIFT_DEVICE_PASSWORD,"
            f" or FAELLESDRIFT_DEVICE_CREDENTIALS=<file>; {path} does not exist")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NetworkError(f"{path}: unreadable credentials file ({exc})") from None
    return _parse_credentials(data, str(path))


def _parse_credentials(data: Any, source: str) -> DeviceLogin:
    """Accepts {username, password[, secret]} at the top or under "devices"/"default",
    and optional per-device overrides under "hosts": {name: {username, password}}."""
    if not isinstance(data, dict):
        raise NetworkError(f"{source}: expected a JSON object with username and password")
    base = data
    for key in ("devices", "network", "default"):
        if isinstance(data.get(key), dict) and "password" in data[key]:
            base = data[key]
            break
    user = base.get("username") or base.get("user")
    password = base.get("password")
    if not user or not password:
        raise NetworkError(f"{source}: field 'username' and 'password' are required "
                           "(for network devices)")
    per_host = {}
    for name, entry in (data.get("hosts") or {}).items():
        if isinstance(entry, dict) and entry.get("password"):
            per_host[name] = (entry.get("username") or user, entry["password"])
    return DeviceLogin(str(user), str(password), str(base.get("secret") or ""), source,
                       per_host)


def resolve_target(settings: NetworkSettings) -> str:
    """auto → lab when the lab serves devices in this state dir, else estate."""
    if settings.target != "auto":
        return settings.target
    lab = _lab_access(settings)
    return "lab" if lab is not None and lab.devices else "estate"


def endpoints(settings: NetworkSettings, hosts: tuple[Host, ...]) -> tuple[str, dict[str, SshEndpoint]]:
    target = resolve_target(settings)
    if target == "estate":
        return target, {h.name: SshEndpoint(str(h.spec.address), 22) for h in hosts}
    served = lab_endpoints(settings)
    # a device the lab does not serve gets no endpoint: the runner records it as unreachable
    return target, {h.name: served.get(h.name, SshEndpoint("", 0)) for h in hosts}


def lab_endpoints(settings: NetworkSettings) -> dict[str, SshEndpoint]:
    """Device name → the loopback endpoint the lab serves it on (the lab's access artefact)."""
    lab = _lab_access(settings)
    if lab is None or not lab.devices:
        raise NetworkError(
            f"target lab: no emulated devices in {settings.lab_dir} — run `faellesdrift lab up`"
            " first, or use --target estate")
    return {name: SshEndpoint(e.host, e.port) for name, e in lab.devices.items()}


def _lab_access(settings: NetworkSettings) -> LabAccess | None:
    try:
        return read_lab_access(settings.state_dir)
    except LabAccessError as exc:
        raise NetworkError(str(exc)) from None
