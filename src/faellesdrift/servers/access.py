"""How server runs reach their hosts: an ssh_config with strict host keys, and the operator key.

Built at the edge (the CLI or a test) and passed down. Today the only source
is the lab (`faellesdrift lab up`), through the access artefact it publishes: its
ssh_config pins every server's host key in the lab's own known_hosts
(StrictHostKeyChecking yes), logs in with the lab's operator key, and its public key
is what the admin accounts get.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from faellesdrift.lab_access import LabAccessError, require_lab_access
from faellesdrift.servers.errors import ServersError
from faellesdrift.settings import Settings


@dataclass(frozen=True)
class Access:
    ssh_config: Path
    servers: frozenset[str]  # the host names ssh_config can reach (its Host entries)
    operator_keys: tuple[str, ...]  # public keys the admin accounts get
    user: str = "root"  # the account the runs log in with
    origin: str = ""  # where this came from, for messages

    @classmethod
    def from_lab(cls, settings: Settings) -> Access:
        """Access to the lab's servers (its access artefact), or ServersError saying how to
        bring the lab up."""
        try:
            lab = require_lab_access(settings.state_dir, "server runs")
        except LabAccessError as exc:
            raise ServersError(str(exc)) from None
        if not lab.servers or lab.ssh_config is None or not lab.operator_key:
            raise ServersError(f"the lab in {settings.state_dir / 'lab'} has no servers: run "
                               "`faellesdrift lab up`")
        return cls(ssh_config=lab.ssh_config, servers=lab.servers,
                   operator_keys=(lab.operator_key,), user=lab.user,
                   origin=f"lab at {settings.state_dir / 'lab'}")
