"""The network adapter: Nornir + netmiko against the community's network devices.

One public entry per job, each taking the Estate, one NetworkSettings and
optional Filters, and returning a FleetResult (one DeviceResult per device):

    backup(estate, settings, filters)       running configs → redacted git commit
    intended(estate, settings, filters)     rendered intended configs (no device contact)
    compliance(estate, settings, filters)   per device and control: compliant or the diff
    remediate(estate, settings, filters, apply=False)

Inventories: ``build(estate, root, check=)`` writes inventory/; ``EstateInventory``
is the Nornir inventory plugin that reads the estate directly.
"""

from faellesdrift.network.backup import backup
from faellesdrift.network.compliance import compliance
from faellesdrift.network.filters import Filters
from faellesdrift.network.intended import intended
from faellesdrift.network.inventory import EstateInventory, build
from faellesdrift.network.remediate import remediate
from faellesdrift.network.results import ControlResult, DeviceResult, FleetResult, Status
from faellesdrift.network.settings import NetworkSettings

__all__ = (
    "ControlResult",
    "DeviceResult",
    "EstateInventory",
    "Filters",
    "FleetResult",
    "NetworkSettings",
    "Status",
    "backup",
    "build",
    "compliance",
    "intended",
    "remediate",
)
