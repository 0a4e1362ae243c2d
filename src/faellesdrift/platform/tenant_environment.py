"""TenantEnvironment: one municipality's platform resources, as one Pulumi component.

    TenantEnvironment("aarhus", tenant_args(estate, "aarhus"), providers)

Children (all named ``<slug>/<kind>/<object>``, so a run can target one tenant):
  segment/<network>      NetworkSegment per tenant network
  server/<host>          ServerPlacement per server, within the tenant's compute quota
  device/<host>          DeviceRegistration per network device
  access                 AccessPolicy: shared services allowed, other tenants denied unless an
                         active exception allows a host to reach a peer
  backup                 BackupEnrolment: the servers the backup control enrols (schedule, GB)
  monitoring             MonitoringEnrolment: the hosts the monitoring control enrols

Every child carries the tenant, tenant code, cost center and meter tags. A
child kept by a local exception (a host with an active exception, an access
policy that opens a peer) carries the exception ids and is protected: the
engine refuses to replace or delete it (and, with ``retain_kept``, a deletion
leaves the real object alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import pulumi

from faellesdrift.platform.args import Kept, TenantEnvironmentArgs
from faellesdrift.platform.providers import Providers
from faellesdrift.platform.providers.resources import (
    AccessPolicy,
    BackupEnrolment,
    DeviceRegistration,
    MonitoringEnrolment,
    NetworkSegment,
    ServerPlacement,
)

TYPE = "faellesdrift:tenancy:TenantEnvironment"


class TenantEnvironment(pulumi.ComponentResource):
    outputs: pulumi.Output[dict[str, Any]]

    def __init__(self, name: str, args: TenantEnvironmentArgs, providers: Providers, *,
                 after: Sequence[pulumi.Resource] = (),
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        self.args = args
        usage = args.quota.usage(args.servers)  # within quota: the guardrails refuse more
        slug = args.slug
        self.children: list[pulumi.CustomResource] = []

        def options(kept: tuple[Kept, ...] = (),
                    depends: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(
                parent=self, depends_on=list(depends), protect=bool(kept),
                retain_on_delete=bool(kept) and args.retain_kept)

        def base(kind: str, obj: str, kept: tuple[Kept, ...] = ()) -> dict[str, Any]:
            return {"tenant": slug, "name": obj, "kind": kind,
                    "tags": args.tags(kind, kept).as_dict(),
                    "exceptions": [k.id for k in kept]}

        def add(resource: pulumi.CustomResource) -> pulumi.CustomResource:
            self.children.append(resource)
            return resource

        segments = {}
        for seg in args.segments:
            segments[seg.name] = add(NetworkSegment(
                f"{slug}/segment/{seg.name}", providers.segment,
                {**base("segment", seg.name), "vlan": seg.vlan, "prefix": seg.prefix,
                 "purpose": seg.purpose, "reserved": list(args.reserved)},
                options()))

        servers = {}
        for s in args.servers:
            servers[s.name] = add(ServerPlacement(
                f"{slug}/server/{s.name}", providers.server,
                {**base("server", s.name, s.kept), "network": s.network, "address": s.address,
                 "os": s.os, "role": s.role, "vcpu": s.vcpu, "memory_gb": s.memory_gb,
                 "disk_gb": s.disk_gb, "criticality": s.criticality, "lab": s.lab},
                options(s.kept, [segments[s.network], *after])))

        devices = {}
        for d in args.devices:
            devices[d.name] = add(DeviceRegistration(
                f"{slug}/device/{d.name}", providers.device,
                {**base("device", d.name, d.kept), "network": d.network,
                 "platform": d.platform, "address": d.address, "role": d.role, "site": d.site,
                 "ports": d.ports, "lab": d.lab, "seed": list(d.seed),
                 "seed_deviations": list(d.seed_deviations)},
                options(d.kept, [segments[d.network]])))

        peer_kept = tuple(sorted({Kept(p.exception, "platform.tenant.isolation", p.status,
                                       p.expires) for p in args.peers}, key=lambda k: k.id))
        self.access = add(AccessPolicy(
            f"{slug}/access", providers.access,
            {**base("access", "access", peer_kept), "default": "deny",
             "shared_services": [asdict(e) for e in args.shared_services],
             "peers": [asdict(p) for p in args.peers]},
            options(peer_kept, list(segments.values()))))

        opted_out: list[dict[str, str]] = []
        backed = []
        for s in args.servers:
            if s.backup.enrolled:
                backed.append({"host": s.name, "schedule": s.backup_class, "gb": s.disk_gb})
            else:
                opted_out.append({"host": s.name, "control": "platform.backup.enrolment",
                                  "exception": s.backup.source})
        hosts = [(s.name, "server", s.monitoring) for s in args.servers]
        hosts += [(d.name, "network_device", d.monitoring) for d in args.devices]
        watched = []
        for host, kind, enrol in hosts:
            if enrol.enrolled:
                watched.append({"host": host, "kind": kind})
            else:
                opted_out.append({"host": host, "control": "platform.monitoring.enrolment",
                                  "exception": enrol.source})
        endpoint = {e.service: asdict(e) for e in args.shared_services}
        if backed:
            add(BackupEnrolment(
                f"{slug}/backup", providers.backup,
                {**base("backup", "backup"), "service": endpoint.get("backup"),
                 "mode": args.scope.get("backup", "shared"), "hosts": backed},
                options(depends=[servers[b["host"]] for b in backed])))
        if watched:
            add(MonitoringEnrolment(
                f"{slug}/monitoring", providers.monitoring,
                {**base("monitoring", "monitoring"), "service": endpoint.get("monitoring"),
                 "mode": args.scope.get("monitoring", "shared"), "hosts": watched},
                options(depends=[{**servers, **devices}[w["host"]] for w in watched])))

        kept = sorted({k.id for s in args.servers for k in s.kept}
                      | {k.id for d in args.devices for k in d.kept} | {k.id for k in peer_kept})
        self.resource_count = len(self.children)
        self.outputs = pulumi.Output.all(
            segments={n: r.status for n, r in segments.items()},
            servers={n: r.status for n, r in servers.items()},
            devices={n: r.status for n, r in devices.items()},
        ).apply(lambda st: {
            "tenant": slug, "code": args.code, "name": args.name,
            "cost_center": args.cost_center, "resources": self.resource_count,
            "quota": {f: {"used": u, "allowed": a} for f, (u, a) in usage.items()},
            "segments": {seg.name: {"vlan": seg.vlan, "prefix": seg.prefix,
                                    **_status(st["segments"].get(seg.name))}
                         for seg in args.segments},
            "servers": {s.name: {"address": s.address, "vcpu": s.vcpu,
                                 "memory_gb": s.memory_gb, "disk_gb": s.disk_gb,
                                 **_status(st["servers"].get(s.name))} for s in args.servers},
            "devices": {d.name: {"address": d.address, "platform": d.platform,
                                 "ports": d.ports, **_status(st["devices"].get(d.name))}
                        for d in args.devices},
            "exceptions": kept, "opted_out": opted_out,
            "peers": [asdict(p) for p in args.peers],
        })
        self.register_outputs({"outputs": self.outputs, "resources": self.resource_count})


def _status(status: Any) -> dict[str, Any]:
    return dict(status) if isinstance(status, dict) else {}
