"""Lab errors: one line each, naming what failed and how to fix it."""

from __future__ import annotations

from faellesdrift.errors import FaellesdriftError


class LabError(FaellesdriftError):
    """Something the lab could not do on this machine (prerequisite, process, namespace)."""
