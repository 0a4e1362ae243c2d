"""The network adapter's error family: one line that names the file, field and fix."""

from __future__ import annotations

from faellesdrift.errors import FaellesdriftError


class NetworkError(FaellesdriftError):
    """A network run cannot start: credentials, lab endpoints, templates, settings."""


class ControlValueError(NetworkError):
    """A control's effective value cannot be rendered safely for a device."""
