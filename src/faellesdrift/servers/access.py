"""How server runs reach their hosts: an ssh_config with strict host keys, and the operator key.

Built at the edge (the CLI or a test) and passed down. Today the only source
is the lab (`faellesdrift lab up`): its ssh_config pins every server's host
key in the lab's own known_hosts (StrictHostKeyChecking yes), logs in with the
lab's operator key, and its public key is what the admin accounts get.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from faellesdrift.servers.errors import ServersError
from faellesdrift.settings import Settings

_HOST = re.compile(r"^\s*Host\s+(.+)$", re.IGNORECASE)
_OPTION = re.compile(r"^\s*(\w+)\s+(.+?)\s*$")


@dataclass(frozen=True)
class Access:
    ssh_config: Path
    servers: frozenset[str]  # the host names ssh_config can reach (its Host entries)
    operator_keys: tuple[str, ...]  # public keys the admin accounts get
    user: str = "root"  # the account the runs log in with
    origin: str = ""  # where this came from, for messages

    @classmethod
    def from_lab(cls, settings: Settings) -> Access:
        """Access to the lab's servers, or ServersError saying how to bring the lab up."""
        lab = settings.state_dir / "lab"
        ssh_config = lab / "ssh_config"
        state_file = lab / "state.json"
        pub = lab / "keys" / "operator_ed25519.pub"
        missing = [p for p in (ssh_config, state_file, pub) if not p.is_file()]
        if missing:
            raise ServersError(
                f"no lab in {lab} ({missing[0].name} is missing): run `faellesdrift lab up` "
                "first (FAELLESDRIFT_STATE selects another state dir)")
        try:
            state = json.loads(state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ServersError(f"{state_file}: unreadable ({exc}); run `faellesdrift lab up`"
                               ) from None
        in_lab = set((state.get("servers") or {}).keys())
        entries = parse_ssh_config(ssh_config.read_text(encoding="utf-8"))
        servers = frozenset(n for n in in_lab if n in entries)
        if not servers:
            raise ServersError(f"the lab in {lab} has no servers: run `faellesdrift lab up`")
        users = {entries[n].get("user", "root") for n in servers}
        if len(users) != 1:
            raise ServersError(f"{ssh_config}: the servers log in as different users "
                               f"({', '.join(sorted(users))}); expected one operator account")
        key = " ".join(pub.read_text(encoding="utf-8").split()[:2])
        return cls(ssh_config=ssh_config, servers=servers, operator_keys=(key,),
                   user=users.pop(), origin=f"lab at {lab}")


def parse_ssh_config(text: str) -> dict[str, dict[str, str]]:
    """Host name -> its options (lowercase keys), for the simple files the lab writes."""
    entries: dict[str, dict[str, str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _HOST.match(line)
        if m:
            current = [h for h in m.group(1).split() if not any(c in h for c in "*?!")]
            for h in current:
                entries.setdefault(h, {})
            continue
        m = _OPTION.match(line)
        if m:
            for h in current:
                entries[h].setdefault(m.group(1).lower(), m.group(2))
    return entries
