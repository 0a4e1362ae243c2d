"""One policy pack process for many stack runs side by side.

    with pack_server.shared(launcher, env, log) as port:
        ...  # each stack run's CLI gets FAELLESDRIFT_POLICY_PACK_PORT=port

Every `pulumi preview|up --policy-pack stacks/policy/pulumi-analyzer-policy-faellesdrift`
starts the pack's launcher as an analyzer plugin. By itself the launcher starts a Python
process (pulumi, pulumi_policy, the estate: the costliest of a stack run's processes).
With ``FAELLESDRIFT_POLICY_PACK_PORT`` set, it hands the engine the port of the pack
started here once for the whole fleet run instead, and stays until the engine ends it.

The pack is the same code either way and judges each request on its own (a stack's
scope comes from the resources' URNs; the pack keeps no per-stack state that our
policies read), so every stack is still checked by every policy. A pack that is gone
fails the stack runs that need it (the engine cannot connect): nothing passes unchecked.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

from faellesdrift.platform.errors import PlatformError

PORT_ENV = "FAELLESDRIFT_POLICY_PACK_PORT"
START_TIMEOUT = 60.0  # seconds for the pack to print its port


@contextlib.contextmanager
def shared(launcher: Path, env: Mapping[str, str], log: Path) -> Iterator[str]:
    """Start the pack once (its port is yielded); stop it when the block ends."""
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in {**os.environ, **env}.items() if k != PORT_ENV}
    with open(log, "ab") as err:
        proc = subprocess.Popen([str(launcher)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=err, env=env,
                                start_new_session=True)
    try:
        port = _port(proc, log)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _port(proc: subprocess.Popen[bytes], log: Path) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT)
    line = proc.stdout.readline().decode(errors="replace").strip() if ready else ""
    if not line.isdigit():
        tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.is_file() else []
        raise PlatformError(f"the policy pack did not start (log: {log}): "
                            f"{' / '.join(tail) or line or 'no port printed'}")
    return line
