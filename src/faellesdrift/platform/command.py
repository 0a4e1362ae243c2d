"""One Pulumi CLI command on one stack, its program inline and its engine events streamed.

    command.run(workspace, "lab.odder", ["up", "--yes", "--skip-preview"], on_event, program)

The Automation API's ``Stack.up`` also reads the stack's outputs and history after the
command, and ``create_or_select`` selects the stack before it: four more CLI processes per
stack run, each starting the CLI and deriving the passphrase key. Here the command is all
that runs: it names its stack (``--stack``), a stack the backend lacks is created and the
command run again, and the caller reads what it needs from the events (engine.py takes the
outputs from the Stack resource's outputs event).

With ``program`` the program runs in this process as an inline program (the Automation
API's language server; the CLI is its client): no language host, no Python started, no
imports and no ``pip list`` per stack. The Python SDK keeps a program's state in context
variables, so programs of stacks run side by side in threads stay apart.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

OnEvent = Callable[[Any], None]  # pulumi.automation.EngineEvent
Program = Callable[[], None]
POLL_SECONDS = 0.05  # how often the event log is read while the command runs


def run(workspace: Any, stack: str, args: list[str], on_event: OnEvent,
        program: Program | None = None) -> None:
    """Run ``pulumi <args> --stack <stack>``; a failure raises the Automation API's
    CommandError (its message holds the CLI's stderr)."""
    from pulumi import automation as auto

    try:
        _run(workspace, stack, args, on_event, program)
    except auto.errors.StackNotFoundError:
        workspace.create_stack(stack)
        _run(workspace, stack, args, on_event, program)


def _run(workspace: Any, stack: str, args: list[str], on_event: OnEvent,
         program: Program | None) -> None:
    with tempfile.TemporaryDirectory(prefix="fd-pulumi-events-") as tmp:
        log = Path(tmp) / "events.jsonl"
        log.touch()
        argv = [*args, "--stack", stack, "--event-log", str(log)]
        server = _language_server(program) if program else None
        argv += ["--client", f"127.0.0.1:{server[1]}", "--exec-kind", "auto.inline"] \
            if server else ["--exec-kind", "auto.local"]
        tail = _EventLog(log, on_event)
        tail.start()
        try:
            workspace.pulumi_command.run(argv, workspace.work_dir,
                                         {"PULUMI_DEBUG_COMMANDS": "true", **workspace.env_vars})
        finally:
            tail.finish()
            if server:
                server[0].stop(0)
        if tail.error is not None:
            raise tail.error


def _language_server(program: Program) -> tuple[Any, int]:
    """The program's language server on a free loopback port (the SDK's own servicer)."""
    from concurrent.futures import ThreadPoolExecutor

    import grpc
    from pulumi.automation._server import LanguageServer
    from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
    from pulumi.runtime.proto import language_pb2_grpc

    server = grpc.server(ThreadPoolExecutor(max_workers=4), options=_GRPC_CHANNEL_OPTIONS)
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageServer(program), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


class _EventLog(threading.Thread):
    """Reads the CLI's event log (one JSON event a line) while the command writes it."""

    def __init__(self, path: Path, on_event: OnEvent) -> None:
        super().__init__(name=f"events-{path.parent.name}", daemon=True)
        self.path, self.on_event = path, on_event
        self.done = threading.Event()
        self.error: BaseException | None = None

    def finish(self) -> None:
        """The command has ended: read what is left, then stop."""
        self.done.set()
        self.join()

    def run(self) -> None:
        from pulumi.automation import EngineEvent

        ended = False
        pending = ""
        try:
            with open(self.path, encoding="utf-8") as fh:
                while True:
                    line = fh.readline()
                    if not line:
                        if ended:
                            return
                        ended = self.done.wait(POLL_SECONDS)  # one more read after the end
                        continue
                    pending += line
                    if not pending.endswith("\n"):
                        continue  # the rest of the line is still being written
                    text, pending = pending.strip(), ""
                    if text:
                        self.on_event(EngineEvent.from_json(json.loads(text)))
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            self.error = exc
            self.done.wait()
