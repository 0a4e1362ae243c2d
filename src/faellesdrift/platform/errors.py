"""Errors of the platform adapter (Pulumi). Messages name the file, field and fix."""

from __future__ import annotations

from faellesdrift.errors import FaellesdriftError


class PlatformError(FaellesdriftError):
    """A platform run could not start or finish."""


class PulumiMissing(PlatformError):
    """The Pulumi CLI (or its Python language host) is not installed."""
