"""faellesdrift — tenants, guardrails with local exceptions and metering for shared municipal IT operations."""

import os

# Inline Pulumi programs run gRPC servers in this process. With gRPC's fork support on (its
# default), a child forked only to exec a command (pexpect, as ansible-runner uses it)
# restarts gRPC's poller, which can crash on the descriptors the child closes before exec
# (grpc/grpc#43055). faellesdrift never uses gRPC in a forked child, so fork support is off
# unless the environment says otherwise; grpc reads it when first imported.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

__version__ = "0.1.0"
