"""One clock: FAELLESDRIFT_TODAY moves every date and timestamp the project writes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from faellesdrift import audit, clock, results
from faellesdrift.errors import ConfigError


def test_the_override_moves_today_and_every_timestamp(monkeypatch, tmp_path):
    monkeypatch.setenv(clock.ENV, "2027-11-30")
    assert clock.today() == date(2027, 11, 30)
    assert clock.now().astimezone().date() == date(2027, 11, 30)
    event = audit.record(tmp_path / "audit.jsonl", command="t", tenant="odder", target="x",
                         change=None, result="changed")
    assert datetime.fromisoformat(event["time"]).astimezone().date() == date(2027, 11, 30)
    assert datetime.fromisoformat(results.now()).astimezone().date() == date(2027, 11, 30)


def test_without_an_override_the_clock_is_real(monkeypatch):
    monkeypatch.delenv(clock.ENV, raising=False)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
    assert clock.today() == datetime.now().date()


def test_a_bad_override_names_the_variable(monkeypatch):
    monkeypatch.setenv(clock.ENV, "next week")
    with pytest.raises(ConfigError, match="FAELLESDRIFT_TODAY.*YYYY-MM-DD"):
        clock.today()


def test_a_what_if_run_meters_what_it_wrote_itself(monkeypatch, tmp_path, sample_root):
    """The run that writes audit events on the overridden day can collect them (no 'future')."""
    from faellesdrift.estate import load_estate
    from faellesdrift.metering.collect import collect
    from faellesdrift.metering.periods import Period

    monkeypatch.setenv(clock.ENV, "2027-11-30")
    log = tmp_path / "audit.jsonl"
    audit.record(log, command="servers apply", tenant="odder", target="odd-file01",
                 change={"task": "ssh"}, result="changed")
    estate = load_estate(sample_root)
    collected = collect(estate, Period.month_of(estate.today), tmp_path, log, ["audit"])
    assert [r.quantity for c in collected for r in c.rows] == [1]

    monkeypatch.setenv(clock.ENV, "2027-11-02")  # an earlier what-if day in the same month
    estate = load_estate(sample_root)
    (c,) = collect(estate, Period.month_of(estate.today), tmp_path, log, ["audit"])
    assert c.rows == [] and any("dated after 2027-11-02" in n for n in c.notes), c.notes
    json.loads(log.read_text())  # the log itself is untouched
