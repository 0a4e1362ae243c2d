"""Where a device is and how to log in: credentials and endpoints, never from inventories.

Credentials come from $FAELLESDRIFT_DEVICE_USER / $FAELLESDRIFT_DEVICE_PASSWORD
(optional $FAELLESDRIFT_DEVICE_SECRET for enable), else from a JSON secrets file:
$FAELLESDRIFT_DEVICE_CREDENTIALS, by default the lab's ``<state>/lab/credentials.json``.
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
from faellesdrift.network.errors import NetworkError
from faellesdrift.network.settings import NetworkSettings


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)
    secret: str = field(default="", repr=False)  # enable secret; defaults to the password
    source: str = ""  # where they came from (for messages; never the values)
    per_host: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)

    def for_host(self, name: str) -> tuple[str, str, str]:
        user, password = self.per_host.get(name, (self.username, self.password))
        return user, password, self.secret or password


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int


def _inside(path: Path, parent: Path) -> bool:
    try:
        path.resolve().relative_to(parent.resolve())
        return True
    except ValueError:
        return False


def credentials_path(settings: NetworkSettings) -> Path:
    env = os.environ.get("FAELLESDRIFT_DEVICE_CREDENTIALS")
    if env:
        return Path(env).expanduser()
    return settings.credentials_file or settings.lab_dir / "credentials.json"


def load_credentials(settings: NetworkSettings) -> Credentials:
    user = os.environ.get("FAELLESDRIFT_DEVICE_USER")
    password = os.environ.get("FAELLESDRIFT_DEVICE_PASSWORD")
    if user and password:
        return Credentials(user, password, os.environ.get("FAELLESDRIFT_DEVICE_SECRET", ""),
                           "FAELLESDRIFT_DEVICE_USER/PASSWORD")
    path = credentials_path(settings)
    if _inside(path, settings.root) and not _inside(path, settings.state_dir):
        raise NetworkError(
            f"{path}: a secrets file inside the repository is refused — move it outside "
            "(or under the git-ignored state dir) and point FAELLESDRIFT_DEVICE_CREDENTIALS at it")
    if not path.is_file():
        raise NetworkError(
            f"no device credentials: set FAELLESDRIFT_DEVICE_USER and FAELLESDRIFT_DEVICE_PASSWORD,"
            f" or FAELLESDRIFT_DEVICE_CREDENTIALS=<file>; the default {path} is written by "
            "`faellesdrift lab up`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NetworkError(f"{path}: unreadable credentials file ({exc})") from None
    return _parse_credentials(data, str(path))


def _parse_credentials(data: Any, source: str) -> Credentials:
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
    return Credentials(str(user), str(password), str(base.get("secret") or ""), source,
                       per_host)


def resolve_target(settings: NetworkSettings) -> str:
    """auto → lab when a lab with devices is up in this state dir, else estate."""
    if settings.target != "auto":
        return settings.target
    return "lab" if _from_lab_api(settings) else "estate"


def endpoints(settings: NetworkSettings, hosts: tuple[Host, ...]) -> tuple[str, dict[str, Endpoint]]:
    target = resolve_target(settings)
    if target == "estate":
        return target, {h.name: Endpoint(str(h.spec.address), 22) for h in hosts}
    lab = lab_endpoints(settings, required=True)
    missing = [h.name for h in hosts if h.name not in lab]
    out = {h.name: lab[h.name] for h in hosts if h.name in lab}
    for name in missing:  # not served by the lab: recorded as unreachable by the runner
        out[name] = Endpoint("", 0)
    return target, out


def lab_endpoints(settings: NetworkSettings, *, required: bool) -> dict[str, Endpoint]:
    """Device name → loopback endpoint, from the lab's API (or its state file)."""
    found = _from_lab_api(settings)
    if not found:  # the emulator's own device list (a lab whose status API is unavailable)
        found = _from_lab_devices(settings.lab_dir / "devices.json")
    if not found:
        found = _from_lab_state(settings.lab_dir / "state.json")
    if not found and required:
        raise NetworkError(
            f"target lab: no emulated devices in {settings.lab_dir} — run `faellesdrift lab up`"
            " first, or use --target estate")
    return found or {}


def _from_lab_api(settings: NetworkSettings) -> dict[str, Endpoint] | None:
    try:
        from faellesdrift import lab
    except ImportError:
        return None
    reader = getattr(lab, "device_endpoints", None)
    if reader is None:
        return None
    try:
        raw = reader(settings.state_dir)
    except Exception:  # noqa: BLE001 - a broken lab reads as "no lab"; the state file decides
        return None
    return {name: Endpoint(str(ep[0]), int(ep[1])) if isinstance(ep, (tuple, list))
            else Endpoint(str(ep.host), int(ep.port)) for name, ep in raw.items()}


def _from_lab_devices(path: Path) -> dict[str, Endpoint]:
    """The emulator's device list (no secrets): {"devices": [{name, port, ...}]}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for entry in data.get("devices") or []:
        if isinstance(entry, dict) and entry.get("name") and entry.get("port"):
            out[entry["name"]] = Endpoint(str(entry.get("host") or "127.0.0.1"), int(entry["port"]))
    return out


def _from_lab_state(path: Path) -> dict[str, Endpoint]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for name, entry in (data.get("devices") or {}).items():
        if isinstance(entry, dict) and entry.get("port"):
            out[name] = Endpoint(str(entry.get("host") or "127.0.0.1"), int(entry["port"]))
    return out
