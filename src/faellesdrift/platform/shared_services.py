"""SharedServicesComponent: the community's shared-services segment, as one Pulumi component.

Every tenant may reach it (NTP, DNS, SIEM, monitoring, backup); in stack `lab`
it is the lab's shared segment with its emulated services, so lab servers find
their DNS and SIEM. Its resources are tagged with tenant ``shared``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pulumi

from faellesdrift.platform.args import SHARED_TENANT, SharedServicesArgs
from faellesdrift.platform.providers import Providers
from faellesdrift.platform.providers.resources import SharedSegment

TYPE = "faellesdrift:tenancy:SharedServices"


class SharedServicesComponent(pulumi.ComponentResource):
    outputs: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, args: SharedServicesArgs, providers: Providers,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        self.segment = SharedSegment(
            f"{SHARED_TENANT}/segment", providers.shared,
            {"tenant": SHARED_TENANT, "name": "segment", "kind": "shared",
             "tags": args.tags().as_dict(), "exceptions": [], "prefix": args.prefix,
             "ntp": list(args.ntp), "dns": list(args.dns), "syslog": asdict(args.syslog),
             "tcp": [asdict(e) for e in args.tcp]},
            pulumi.ResourceOptions(parent=self))
        self.outputs = self.segment.status.apply(lambda st: {
            "prefix": args.prefix, "ntp": list(args.ntp), "dns": list(args.dns),
            "syslog": asdict(args.syslog), "tcp": [asdict(e) for e in args.tcp],
            **(st if isinstance(st, dict) else {})})
        self.register_outputs({"outputs": self.outputs})
