"""End of life per server: every OS of the model has dated lifecycle data with a source."""

from __future__ import annotations

import re
import typing
from datetime import date

from faellesdrift import lifecycle
from faellesdrift.estate import load_estate
from faellesdrift.model import OperatingSystem
from faellesdrift.reports.site import build_site
from tests.conftest import TODAY


def test_every_operating_system_of_the_model_has_lifecycle_data_with_a_source():
    assert set(typing.get_args(OperatingSystem)) == set(lifecycle.LIFECYCLE)
    for life in lifecycle.LIFECYCLE.values():
        assert life.full_support_ends <= life.security_ends
        assert life.source.startswith("https://")


def test_status_follows_the_dates():
    assert lifecycle.status_of("debian11", date(2026, 11, 27)) == ("end of life", -88)
    assert lifecycle.status_of("debian12", date(2026, 1, 1))[0] == "supported"
    assert lifecycle.status_of("debian12", date(2026, 11, 27))[0] == "security only"
    assert lifecycle.status_of("debian12", date(2027, 7, 1))[0] == "ending"
    assert lifecycle.status_of("windows2016", date(2026, 11, 27)) == ("ending", 46)
    assert lifecycle.status_of("plan9", date(2026, 11, 27)) == ("unknown", None)


def test_the_report_shows_each_servers_end_of_security_updates(settings):
    estate = load_estate(settings.root, TODAY)
    windows = {s.name for t in estate.tenants for s in t.servers if s.os == "windows2019"}
    assert windows
    site = build_site(settings, today=TODAY, lang="da")
    slug = next(t.slug for t in estate.tenants
                if any(s.os == "windows2019" for s in t.servers))
    text = re.sub(r"<[^>]+>", " ", site.tenant_page(slug).read_text(encoding="utf-8"))
    assert "Sikkerhedsopdateringer til" in text and "9. januar 2029" in text
    assert "kun sikkerhedsrettelser" in text  # Debian 12 after its regular support
    assert "wiki.debian.org/LTS" in site.tenant_page(slug).read_text(encoding="utf-8")
    data = (site.directory / "report.json").read_text(encoding="utf-8")
    assert '"security_ends": "2028-06-30"' in data
