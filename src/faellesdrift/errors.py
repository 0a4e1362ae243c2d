"""One base error per family. Messages name the file, the field and the fix."""

from __future__ import annotations


class FaellesdriftError(Exception):
    """Base of every error the CLI turns into one clear line."""


class UsageError(FaellesdriftError):
    """Bad usage: an argument or option names nothing that exists (exit code 2)."""


class ConfigError(FaellesdriftError):
    """Bad input: tenant files, standards, settings."""


class ValidationFailed(ConfigError):
    """The community did not validate; carries the findings."""

    def __init__(self, findings: list) -> None:
        self.findings = findings
        errors = [f for f in findings if f.severity == "error"]
        first = errors[0].one_line() if errors else "validation failed"
        super().__init__(f"{len(errors)} error(s); first: {first}")
