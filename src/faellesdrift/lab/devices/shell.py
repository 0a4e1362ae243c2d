"""The stateful shell: fakenos's CMDShell with our dialects in front of its canned commands.

Installed in the emulator as fakenos's "CMDShell" plugin; the host's shell
configuration carries `device=<name>` to find the device's DeviceStore.
"""

from __future__ import annotations

from typing import Any

from fakenos.plugins.shell.cmd_shell import CMDShell

from faellesdrift.lab.devices.dialects import STOP, for_store
from faellesdrift.lab.devices.store import REGISTRY


def _level(template: str) -> str:
    if "(config" in template or template.rstrip().endswith("]"):
        return "config"
    return "enable" if template.rstrip().endswith("#") else "user"


class LabShell(CMDShell):
    def __init__(self, *args: Any, device: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dialect = for_store(REGISTRY[device])
        self.prompt = self.dialect.prompt()
        self._raw = ""

    def precmd(self, line: str) -> str:
        self._raw = line  # before Cmd strips it: indentation tells a child line from a global one
        return super().precmd(line)

    def default(self, line: str) -> bool:
        if not self.is_running.is_set():
            return True
        reply = self.dialect.handle(line, self._raw)
        if reply is STOP:
            return True
        if reply is None:
            stop = super().default(line)
            self.prompt = self.dialect.prompt()
            return stop
        if reply:
            self.writeline(reply)
        self.prompt = self.dialect.prompt()
        return False

    def emptyline(self) -> bool:
        reply = self.dialect.handle("", "") if getattr(self.dialect, "confirm_exit", False) \
            else ""
        if isinstance(reply, str) and reply:
            self.writeline(reply)
        self.prompt = self.dialect.prompt()
        return False

    def _check_prompt(self, prompt_: str | list[str] | None) -> bool:
        """Canned commands are allowed by mode (user/enable/config), not by exact prompt."""
        if prompt_ is None:
            return True
        templates = [prompt_] if isinstance(prompt_, str) else prompt_
        return any(self.dialect.allows(_level(t)) for t in templates)
