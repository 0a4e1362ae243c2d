"""The official list of the 98 Danish municipality codes (kommunekodeliste)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True)
class Municipality:
    code: str  # four-digit form with leading zero, e.g. "0101"
    name: str
    region: str


def normalize_code(raw: object) -> str:
    """Accept 101, "101" and "0101"; return the four-digit form "0101".

    Raises ValueError for anything that is not one to four digits.
    """
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise ValueError(  # noqa: TRY004 - pydantic turns ValueError into a finding
            "must be a municipality code such as 751 or \"0751\"")
    text = str(raw).strip()
    if not text.isdigit() or not 1 <= len(text) <= 4:
        raise ValueError(f"{raw!r} is not a municipality code (1-4 digits, e.g. \"0751\")")
    return text.zfill(4)


@cache
def municipalities() -> dict[str, Municipality]:
    """All 98 municipalities by four-digit code."""
    text = files("faellesdrift").joinpath("data/kommuner.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return {r["code"]: Municipality(r["code"], r["name"], r["region"]) for r in rows}


def lookup(code: object) -> Municipality | None:
    try:
        return municipalities().get(normalize_code(code))
    except ValueError:
        return None
