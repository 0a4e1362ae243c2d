"""Findings: what validation and guardrails report, as data."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    file: str
    message: str
    fix: str = ""
    field: str = ""
    line: int | None = None

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def one_line(self) -> str:
        field = f" [{self.field}]" if self.field else ""
        fix = f" — fix: {self.fix}" if self.fix else ""
        return f"{self.where()}{field}: {self.rule}: {self.message}{fix}"

    def to_dict(self) -> dict:
        return asdict(self)


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)
