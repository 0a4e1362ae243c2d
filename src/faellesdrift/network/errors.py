"""The network adapter's error family: one line that names the file, field and fix."""

from __future__ import annotations

from faellesdrift.device_config import ControlValueError
from faellesdrift.errors import FaellesdriftError

__all__ = ("ControlValueError", "NetworkError")


class NetworkError(FaellesdriftError):
    """A network run cannot start: credentials, lab endpoints, templates, settings."""
