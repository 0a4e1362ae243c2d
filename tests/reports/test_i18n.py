"""The report in Danish and English: Babel's formats, a complete Danish catalog, and a Danish
site by default (``--lang da|en``); the CLI itself stays English."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from typer.testing import CliRunner

from faellesdrift.errors import ConfigError
from faellesdrift.reports import i18n
from faellesdrift.reports.cli import report_cmd
from faellesdrift.reports.site import build_site
from tests.conftest import TODAY

SRC = Path(__file__).resolve().parents[2] / "src" / "faellesdrift"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+\}")
DANISH_MONEY = re.compile(r"\b\d{1,3}(?:\.\d{3})*,\d{2}\xa0kr\.")


def test_danish_and_english_formats_follow_babel():
    da, en = i18n.Formats("da"), i18n.Formats("en")
    assert da.money(Decimal("1234567.89")) == "1.234.567,89\xa0kr."
    assert da.money("1234567.89").replace("\xa0", " ") == "1.234.567,89 kr."
    assert en.money(1234567.89) == "DKK 1,234,567.89"
    assert da.day(date(2026, 11, 27)) == "27. november 2026"
    assert en.day(date(2026, 11, 27)) == "27 November 2026"
    assert da.number(24000) == "24.000" and en.number(24000) == "24,000"
    assert da.signed_money(-73434.88) == "−73.434,88\xa0kr." and da.signed_money(0) == "±0"
    assert da.when("2026-11-27T09:15:00+00:00") == "27. november 2026 09:15 UTC"
    assert da.money(None) == "—" and da.day(None) == "—" and da.money("?") == "—"


def _source_messages() -> set[str]:
    method_map = [("reports/**.py", "python"), ("templates/reports/**.j2", "jinja2")]
    options = {"templates/reports/**.j2": {"trim_blocks": "true", "lstrip_blocks": "true"}}
    keywords = {"_": None, "gettext": None, "N_": None}
    return {msg if isinstance(msg, str) else msg[0]
            for _file, _line, msg, _comments, _ctx in extract_from_dir(
                str(SRC), method_map, options, keywords=keywords)}


def test_every_message_in_the_sources_has_a_danish_translation_with_the_same_placeholders():
    with i18n.catalog_path("da").open("rb") as fh:
        catalog = read_po(fh, locale="da")
    translated = {m.id: m.string for m in catalog if m.id}
    wanted = _source_messages()
    assert len(wanted) > 200  # the templates and modules are really marked
    missing = sorted(m for m in wanted if not translated.get(m))
    assert not missing, f"not in the Danish catalog (run pybabel extract/update): {missing}"
    for msgid, msgstr in translated.items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid
    stale = sorted(set(translated) - wanted)
    assert not stale, f"translations no source uses any more: {stale}"


def test_unknown_language_is_refused(settings):
    with pytest.raises(ConfigError, match="--lang 'de'"):
        build_site(settings, today=TODAY, lang="de")


def test_the_danish_report(with_results):
    site = build_site(with_results, today=TODAY, lang="da")
    d = site.directory
    index = (d / "index.html").read_text(encoding="utf-8")
    assert '<html lang="da">' in index
    for needle in ("Parathed og bølger", "Udgifter", "Dækningshuller", "Undtagelsesregister",
                   "Status pr. 27. november 2026", "Hybrid (KOMBIT: pr. indbygger + forbrug)",
                   "dage tilbage til fristen 1. januar 2027", "907.700 indbyggere",
                   "Afregning for 2026-11"):
        assert needle in index, needle
    for english in (">Costs<", ">Coverage gaps<", "Readiness and onboarding waves",
                    "days left to the"):
        assert english not in index, english
    odder = site.tenant_page("odder").read_text(encoding="utf-8")
    assert "<h1>Odder Kommune</h1>" in odder and "24.000 indbyggere" in odder
    assert DANISH_MONEY.search(odder), "no Danish amount on Odder's page"
    # the operations pool of the fixture settlement (250.5) with øre, the Danish way
    assert "<td>operations</td><td class=\"num\">250,50\xa0kr.</td>" in odder
    assert "30. juni 2028" in odder  # ODD-EX-001 expires, and the firewall contract ends
    # the basis the settlement counted: citizens and usage, from the fixture settlement
    from faellesdrift.estate import load_estate
    vcpu = sum(x.vcpu for x in load_estate(with_results.root, TODAY).tenant("odder").servers)
    basis = re.sub(r"<[^>]+>", "", odder.split("Hvad afregningen har talt med for Odder:")[1]
                   .split("</p>")[0])
    assert " ".join(basis.split()) == f"24.000 indbyggere; forbrug server.vcpu {vcpu}."
    assert "Kommunens definitionsfil er gyldig" in odder
    assert "kommunens fil består alle skemakontroller og værn" in odder
    coverage = (d / "coverage.html").read_text(encoding="utf-8")
    assert "kun planlagt overdraget til fællesskabet 1. januar 2030" in coverage
    # machines read report.json in one format whatever the language
    data = json.loads((d / "report.json").read_text(encoding="utf-8"))
    assert data["lang"] == "da" and data["today"] == "2026-11-27"


def test_english(with_results):
    site = build_site(with_results, today=TODAY, lang="en")
    index = (site.directory / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in index and "Readiness and onboarding waves" in index
    assert "Status as of 27 November 2026" in index and "Parathed" not in index


def test_the_report_command_is_danish_by_default_and_stays_english_itself(settings,
                                                                         monkeypatch):
    monkeypatch.setenv("FAELLESDRIFT_STATE", str(settings.state_dir))
    app = typer.Typer()
    app.callback()(lambda: None)
    app.command("report")(report_cmd)
    runner = CliRunner()
    result = runner.invoke(app, ["report", "--root", str(settings.root), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "report written" in result.output
    index = (settings.state_dir / "reports" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in index
    result = runner.invoke(app, ["report", "--root", str(settings.root)])
    assert result.exit_code == 0 and "report written" in result.output
    index = (settings.state_dir / "reports" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="da">' in index
    result = runner.invoke(app, ["report", "--root", str(settings.root), "--lang", "sv"])
    assert result.exit_code == 2 and "--lang 'sv' is not a report language" in result.output
