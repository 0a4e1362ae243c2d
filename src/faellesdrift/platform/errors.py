"""Errors of the platform adapter (Pulumi). Messages name the file, field and fix."""

from __future__ import annotations

from faellesdrift.errors import ConfigError, FaellesdriftError


class PlatformError(FaellesdriftError):
    """A platform run could not start or finish."""


class QuotaExceeded(ConfigError):
    """A tenant's server placements exceed its compute quota."""


class PulumiMissing(PlatformError):
    """The Pulumi CLI (or its Python language host) is not installed."""
