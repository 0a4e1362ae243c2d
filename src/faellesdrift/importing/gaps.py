"""The gap list: every row skipped, fixed or kept out, with why and what to do."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Action = Literal["skipped", "fixed", "defaulted", "added", "inventory", "kept", "counted",
                 "other-tenant"]


@dataclass(frozen=True)
class ImportGap:
    ref: str  # where in the source: "rows 12", "devices[3]"
    action: Action  # what the import did with it
    message: str  # what was wrong and what to do

    def to_dict(self) -> dict:
        return asdict(self)
