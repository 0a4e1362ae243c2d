"""The report's languages: gettext catalogs (Babel) and the number, money and date formats.

Danish is the report's default language; English is the source language of the
messages (the CLI stays English). The catalogs are the ``.po`` files under
``reports/locale/<lang>/LC_MESSAGES/messages.po``; they are compiled in memory
when a report is built (Babel reads the ``.po`` and writes the ``.mo`` to a
buffer), so no compiled file has to be built or committed.

Formats follow Babel's CLDR data: Danish ``1.234.567,89 kr.`` and
``27. november 2026``; English ``DKK 1,234,567.89`` and ``27 November 2026``.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from io import BytesIO
from typing import Any

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

from faellesdrift.errors import ConfigError
from faellesdrift.settlement_result import to_decimal


def N_(message: str) -> str:
    """Marks a message for the catalog; it is translated where it is shown."""
    return message


#: Words the templates translate from data: statuses, scope modes, service classes, severities.
VOCABULARY = (
    N_("ready"), N_("on track"), N_("due soon"), N_("late"),
    N_("active"), N_("expiring"), N_("expired"),
    N_("shared"), N_("local"), N_("planned"),
    N_("endpoints"), N_("identities"), N_("network"), N_("servers"), N_("backup"),
    N_("monitoring"), N_("high"), N_("medium"), N_("showback"), N_("chargeback"),
    N_("exception approved"), N_("change"), N_("run"),
    N_("changed"), N_("applied"), N_("created"), N_("updated"), N_("deleted"), N_("ok"),
    N_("failed"), N_("unchanged"), N_("unreachable"), N_("waiver"), N_("mitigated"),
)

LANGUAGES = ("da", "en")
DEFAULT = "da"
LOCALES = {"da": "da_DK", "en": "en_GB"}
DOMAIN = "messages"


def check_language(lang: str | None) -> str:
    lang = lang or DEFAULT
    if lang not in LANGUAGES:
        raise ConfigError(f"--lang {lang!r} is not a report language; use one of "
                          f"{', '.join(LANGUAGES)}")
    return lang


def catalog_path(lang: str):
    return (resources.files("faellesdrift.reports") / "locale" / lang / "LC_MESSAGES"
            / f"{DOMAIN}.po")


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of ``lang``, compiled from its ``.po`` file; English needs none."""
    if lang == "en":
        return gettext.NullTranslations()
    with catalog_path(lang).open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


@dataclass(frozen=True)
class Formats:
    """Numbers, money and dates in one language."""

    lang: str

    @property
    def locale(self) -> str:
        return LOCALES[self.lang]

    def number(self, value: Any, digits: int = 0) -> str:
        d = to_decimal(value)
        if d is None:
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(d, pattern, locale=self.locale)

    def money(self, value: Any) -> str:
        """An amount in kroner with øre: ``1.234.567,89 kr.`` / ``DKK 1,234,567.89``."""
        d = to_decimal(value)
        if d is None:
            return "—"
        if self.lang == "da":
            return format_currency(d, "DKK", locale=self.locale)
        return "DKK " + format_decimal(d, "#,##0.00", locale=self.locale)

    def signed_money(self, value: Any) -> str:
        d = to_decimal(value)
        if d is None:
            return "—"
        if d == 0:
            return "±0"
        return ("+" if d > 0 else "−") + self.money(abs(d))

    def pct(self, value: Any) -> str:
        d = to_decimal(value)
        return "—" if d is None else f"{self.number(d)} %"

    def day(self, value: Any) -> str:
        """A date in words: ``27. november 2026`` / ``27 November 2026``."""
        if value is None or value == "":
            return "—"
        if isinstance(value, datetime):
            value = value.date()
        if not isinstance(value, date):
            try:
                value = date.fromisoformat(str(value)[:10])
            except ValueError:
                return str(value)
        return format_date(value, "long", locale=self.locale)

    def when(self, value: Any) -> str:
        """An ISO timestamp as a date and time in UTC; anything else as it is."""
        if not value:
            return "—"
        try:
            t = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
        if t.tzinfo is None:
            return format_datetime(t, "d. MMMM y HH:mm" if self.lang == "da"
                                   else "d MMMM y HH:mm", locale=self.locale)
        return format_datetime(t.astimezone(UTC), "d. MMMM y HH:mm 'UTC'" if self.lang == "da"
                               else "d MMMM y HH:mm 'UTC'", tzinfo=UTC, locale=self.locale)
