"""The platform adapter: Pulumi components, dynamic providers, policies and the engine runs.

    TenantEnvironment(slug, tenant_args(estate, slug), for_target("record"))   # in a program
    engine.run("preview" | "up" | "destroy", settings, RunOptions(stack="lab"), ...)

One component per file (tenant_environment.py, shared_services.py); the
program is program.py (stacks/__main__.py calls it); the CrossGuard pack is
stacks/policy/ with its policies as data in policies.py; engine.py runs the real CLI
through the Automation API's workspace, one command per operation with the program
inline (command.py); fleet.py runs the shared stack and one stack per tenant side by
side, sharing one policy pack process (pack_server.py); cli.py is the Typer front.
"""
