"""Errors of review, codeowners and deliver: one line naming the ref, file or field."""

from __future__ import annotations

from faellesdrift.errors import FaellesdriftError


class DeliveryError(FaellesdriftError):
    """A change cannot be reviewed or delivered (no git, an unknown ref, a missing group)."""
