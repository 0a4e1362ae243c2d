"""Server-run errors: one line each, naming the host, the control and the fix."""

from __future__ import annotations

from faellesdrift.errors import ConfigError, FaellesdriftError


class ServersError(FaellesdriftError):
    """A server run could not start (no lab, no playbooks, Ansible missing)."""


class BaselineValueError(ConfigError):
    """An effective control value that the server baseline cannot apply safely."""
