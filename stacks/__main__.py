"""The platform stack: one TenantEnvironment per tenant of the estate. Wiring only."""

import pulumi

from faellesdrift.errors import FaellesdriftError
from faellesdrift.platform.args import shared_services_args
from faellesdrift.platform.program import Program, StackConfig, metering
from faellesdrift.platform.shared_services import SharedServices
from faellesdrift.platform.tenant_environment import TenantEnvironment

config = pulumi.Config("faellesdrift")
try:
    program = Program.load(StackConfig.from_values(
        {k: config.get(k) for k in ("target", "labServersPerTenant", "retainKept")}))
    shared = SharedServices("shared", shared_services_args(program.estate), program.providers)
    tenants = {slug: TenantEnvironment(slug, program.tenant_args(slug), program.providers,
                                       after=[shared.segment])
               for slug in program.estate.slugs}
except FaellesdriftError as exc:
    raise pulumi.RunError(str(exc)) from None

pulumi.export("community", {"name": program.estate.standards.community,
                            "target": program.config.target, "shared": shared.outputs})
pulumi.export("tenants", {slug: env.outputs for slug, env in tenants.items()})
pulumi.export("metering", metering({slug: env.resource_count for slug, env in tenants.items()}))
