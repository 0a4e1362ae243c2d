"""The types a control's value can have, declared per control in the standards.

Guardrails check every exception value (and each control's default) against its
control's type, so a wrong value is a ``validate`` error with file and line — not
a failure at render time in some adapter. ``describe()`` says in words what is
expected, for the fix text.
"""

from __future__ import annotations

import re
import socket
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Kind = Literal["ipv4", "ipv4_list", "word_list", "bool", "enum", "text", "int", "record"]
FieldKind = Literal["ipv4", "port", "word", "text", "bool"]

_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
MAX_TEXT = 200
SECRET_MARK = "<secret>"


def _is_ipv4(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        socket.inet_pton(socket.AF_INET, value)
    except OSError:
        return False
    return True


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_FIELD_CHECKS = {
    "ipv4": (_is_ipv4, "an IPv4 address"),
    "port": (lambda v: _is_int(v) and 1 <= v <= 65535, "a port number 1-65535"),
    "word": (lambda v: isinstance(v, str) and bool(_WORD.match(v)), "one word"),
    "text": (lambda v: isinstance(v, str) and len(v) <= MAX_TEXT,
             f"text of at most {MAX_TEXT} characters"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
}


class ValueType(BaseModel):
    """What a control's value must look like: ``kind`` plus the options that kind takes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Kind
    choices: tuple[str, ...] = ()  # enum
    max_items: Annotated[int, Field(gt=0)] = 16  # ipv4_list, word_list
    max_length: Annotated[int, Field(gt=0, le=2000)] = MAX_TEXT  # text
    min: int | None = None  # int
    max: int | None = None  # int
    # record: field name -> a field kind, or the list of allowed words; optional fields end in "?"
    fields: dict[str, FieldKind | tuple[str, ...]] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"kind": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _options_fit_the_kind(self) -> ValueType:
        if self.kind == "enum" and not self.choices:
            raise ValueError("an enum value type needs `choices`")
        if self.kind == "record" and not self.fields:
            raise ValueError("a record value type needs `fields`")
        return self

    def describe(self) -> str:
        match self.kind:
            case "ipv4":
                return "an IPv4 address"
            case "ipv4_list":
                return f"a list of at most {self.max_items} IPv4 addresses"
            case "word_list":
                return f"a list of at most {self.max_items} single words"
            case "bool":
                return "true or false"
            case "enum":
                return "one of " + ", ".join(self.choices)
            case "text":
                return f"one line of text, at most {self.max_length} characters"
            case "int":
                return f"a whole number from {self.min} to {self.max}"
            case _:
                parts = [f"{name.rstrip('?')}: {_field_words(kind)}"
                         + (" (optional)" if name.endswith("?") else "")
                         for name, kind in self.fields.items()]
                return "a mapping {" + ", ".join(parts) + "}"

    def problem(self, value: Any) -> str | None:
        """None when the value fits, else what is wrong with it (one short phrase)."""
        match self.kind:
            case "ipv4":
                return None if _is_ipv4(value) else f"{value!r} is not an IPv4 address"
            case "ipv4_list" | "word_list":
                return self._list_problem(value)
            case "bool":
                return None if isinstance(value, bool) else f"{value!r} is not true or false"
            case "enum":
                return None if value in self.choices else f"{value!r} is not a choice"
            case "text":
                if not isinstance(value, str):
                    return f"{value!r} is not text"
                return None if len(value) <= self.max_length else \
                    f"{len(value)} characters is too long"
            case "int":
                if not _is_int(value):
                    return f"{value!r} is not a whole number"
                low = self.min if self.min is not None else value
                high = self.max if self.max is not None else value
                return None if low <= value <= high else f"{value} is out of range"
            case _:
                return self._record_problem(value)

    def _list_problem(self, value: Any) -> str | None:
        if not isinstance(value, list):
            return f"{value!r} is not a list"
        if len(value) > self.max_items:
            return f"{len(value)} items is more than {self.max_items}"
        item, words = ("ipv4", "an IPv4 address") if self.kind == "ipv4_list" else \
            ("word", "one word")
        for v in value:
            if not _FIELD_CHECKS[item][0](v):
                return f"{v!r} is not {words}"
        if len(set(map(str, value))) != len(value):
            return "an item is listed twice"
        return None

    def _record_problem(self, value: Any) -> str | None:
        if not isinstance(value, dict):
            return f"{value!r} is not a mapping"
        known = {name.rstrip("?") for name in self.fields}
        extra = sorted(set(map(str, value)) - known)
        if extra:
            return f"unknown key {extra[0]!r}"
        for name, kind in self.fields.items():
            key = name.rstrip("?")
            if key not in value:
                if name.endswith("?"):
                    continue
                return f"{key} is missing"
            v = value[key]
            ok = v in kind if isinstance(kind, tuple) else _FIELD_CHECKS[kind][0](v)
            if not ok:
                return f"{key}: {v!r} is not {_field_words(kind)}"
        return None


def _field_words(kind: FieldKind | tuple[str, ...]) -> str:
    if isinstance(kind, tuple):
        return "one of " + "/".join(kind)
    return _FIELD_CHECKS[kind][1]


def shown(value: Any, secret: bool) -> Any:
    """A value as reports, logs and JSON may show it: secret values are masked."""
    if not secret:
        return value
    if isinstance(value, list):
        return [SECRET_MARK for _ in value]
    return SECRET_MARK
