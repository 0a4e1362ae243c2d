"""The platform program: the shared services, one TenantEnvironment per tenant, or both.

Stack config faellesdrift:scope picks the part (program.py): ``shared``, a tenant slug
(which reads the shared stack's outputs through a StackReference), or unset for the
whole community in one stack. Wiring only.
"""

import pulumi

from faellesdrift.errors import FaellesdriftError
from faellesdrift.platform.args import shared_services_args
from faellesdrift.platform.program import Program, StackConfig, metering
from faellesdrift.platform.shared_services import SharedServicesComponent
from faellesdrift.platform.tenant_environment import TenantEnvironment

config = pulumi.Config("faellesdrift")
try:
    program = Program.load(StackConfig.from_values(
        {k: config.get(k) for k in ("target", "labServersPerTenant", "retainKept", "scope",
                                    "sharedStack")}))
    after: list[pulumi.Resource] = []
    shared = None
    if program.has_shared:
        shared = SharedServicesComponent("shared", shared_services_args(program.estate),
                                         program.providers)
        after.append(shared.segment)
    elif program.config.shared_stack:
        reference = pulumi.StackReference(program.config.shared_stack)
        after.append(reference)
        pulumi.export("shared", reference.get_output("community").apply(
            lambda c: (c or {}).get("shared")))
    tenants = {slug: TenantEnvironment(slug, program.tenant_args(slug), program.providers,
                                       after=after)
               for slug in program.tenants()}
except FaellesdriftError as exc:
    raise pulumi.RunError(str(exc)) from None

if shared is not None:
    pulumi.export("community", {"name": program.estate.standards.community,
                                "target": program.config.target, "shared": shared.outputs})
pulumi.export("tenants", {slug: env.outputs for slug, env in tenants.items()})
pulumi.export("metering", metering({slug: env.resource_count for slug, env in tenants.items()}))
