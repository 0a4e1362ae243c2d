"""The lab's secrets and access files: operator key, device credentials, known_hosts, ssh_config.

All live in the lab's state dir with mode 0600; none is ever written anywhere else.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path

from faellesdrift.lab.paths import LabPaths
from faellesdrift.lab.sh import run
from faellesdrift.lab.state import write_atomic

DEVICE_USER = "labadmin"


@dataclass(frozen=True)
class LabLogin:
    username: str
    password: str


def ensure_keys(paths: LabPaths) -> None:
    """Operator key (ssh to servers) and the emulator's host key; made once per state dir."""
    paths.keys.mkdir(parents=True, exist_ok=True)
    paths.keys.chmod(0o700)
    if not paths.operator_key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "faellesdrift-lab-operator",
             "-f", str(paths.operator_key)])
    if not paths.device_host_key.exists():
        run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "",
             "-C", "faellesdrift-lab-devices", "-f", str(paths.device_host_key)])


def new_host_key(dest: Path, comment: str) -> str:
    """Generate an ed25519 host key at dest; return the public key line."""
    dest.unlink(missing_ok=True)
    Path(f"{dest}.pub").unlink(missing_ok=True)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(dest)])
    return public_key(dest)


def public_key(private: Path) -> str:
    text = Path(f"{private}.pub").read_text().split()
    return f"{text[0]} {text[1]}"


def credentials(paths: LabPaths) -> LabLogin:
    """Device login for every emulated device, generated once into credentials.json (0600)."""
    if paths.credentials.exists():
        data = json.loads(paths.credentials.read_text())["devices"]
        return LabLogin(data["username"], data["password"])
    creds = LabLogin(DEVICE_USER, secrets.token_urlsafe(18))
    body = {"devices": {"username": creds.username, "password": creds.password}}
    write_atomic(paths.credentials, json.dumps(body, indent=2) + "\n", mode=0o600)
    return creds


@dataclass(frozen=True)
class SshTarget:
    """One entry of the lab's ssh_config and known_hosts."""

    name: str
    aliases: tuple[str, ...]  # other names the operator may use (tenant address, loopback)
    hostname: str
    port: int
    user: str
    host_key: str  # "type base64"
    password_login: bool = False


def write_access_files(paths: LabPaths, targets: list[SshTarget]) -> None:
    """known_hosts keyed by the object's name (HostKeyAlias) and an ssh_config using it."""
    hosts = []
    blocks = ["# faellesdrift lab: ssh -F this-file <name>  (generated; do not edit)\n"]
    for t in sorted(targets, key=lambda t: t.name):
        hosts.append(f"{t.name} {t.host_key}\n")
        lines = [
            f"Host {' '.join((t.name, *t.aliases))}",
            f"  HostName {t.hostname}",
            f"  Port {t.port}",
            f"  User {t.user}",
            f"  HostKeyAlias {t.name}",
            f"  UserKnownHostsFile {paths.known_hosts}",
            "  StrictHostKeyChecking yes",
            "  CheckHostIP no",
            "  LogLevel ERROR",
        ]
        if t.password_login:
            lines += ["  PubkeyAuthentication no",
                      "  PreferredAuthentications password,keyboard-interactive"]
        else:
            lines += [f"  IdentityFile {paths.operator_key}", "  IdentitiesOnly yes",
                      "  PasswordAuthentication no"]
        blocks.append("\n".join(lines) + "\n")
    write_atomic(paths.known_hosts, "".join(hosts), mode=0o600)
    write_atomic(paths.ssh_config, "\n".join(blocks), mode=0o600)
