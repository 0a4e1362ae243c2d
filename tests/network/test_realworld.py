"""The real-world corpus: configs as devices print them, with every secret listed beside them.

``tests/network/realworld/<platform>/<name>.cfg`` holds the bytes of one config
(CRLF and Latin-1 where the file has them); ``<name>.secrets`` lists every
secret value in it, one a line. For every config: no secret survives a backup,
every line without a secret is unchanged, the redacted config has the same
lines and the same tree, and compliance reads it without raising.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from faellesdrift.network.compliance import check, parse
from faellesdrift.network.configtext import decode_config, unix_lines
from faellesdrift.network.intended import render
from faellesdrift.network.platforms import PLATFORMS, platform_spec
from faellesdrift.network.redact import for_backup, redact

CORPUS = Path(__file__).parent / "realworld"
KEY = b"corpus-test-key"


@dataclass(frozen=True)
class Sample:
    platform: str
    path: Path

    @property
    def raw(self) -> bytes:
        return self.path.read_bytes()

    @property
    def text(self) -> str:
        return decode_config(self.raw)

    @property
    def secrets(self) -> list[str]:
        listed = self.path.with_suffix(".secrets").read_text(encoding="utf-8").splitlines()
        return [s for s in listed if s]


SAMPLES = [Sample(p.parent.name, p) for p in sorted(CORPUS.glob("*/*.cfg"))]
IDS = [f"{s.platform}/{s.path.stem}" for s in SAMPLES]


def test_the_corpus_is_big_and_covers_every_platform() -> None:
    assert len(SAMPLES) >= 40
    assert {s.platform for s in SAMPLES} == set(PLATFORMS)
    raw = [s.raw for s in SAMPLES]
    assert sum(b"\r\n" in r for r in raw) >= 3, "CRLF configs"
    assert any(b"R\xe5dhuset" in r for r in raw), "Latin-1 bytes"


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_every_listed_secret_is_in_its_config(sample: Sample) -> None:
    """The manifest is honest: a secret not in the config would test nothing."""
    assert sample.secrets, f"{sample.path.name} lists no secret"
    missing = [s for s in sample.secrets if s not in sample.text]
    assert not missing, f"listed but not in {sample.path.name}: {missing}"


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_no_secret_survives_a_backup(sample: Sample) -> None:
    backup = for_backup(sample.text, sample.platform, KEY)
    leaked = [s for s in sample.secrets if s in backup]
    assert not leaked, f"{sample.path.name}: secrets in the backup: {leaked}"
    assert not [s for s in sample.secrets if s in redact(sample.text)], "without a key too"


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_lines_without_a_secret_are_unchanged(sample: Sample) -> None:
    before = sample.text.split("\n")
    after = redact(sample.text, sample.platform, KEY).split("\n")
    assert len(before) == len(after)
    for number, (old, new) in enumerate(zip(before, after, strict=True), 1):
        if any(s in old for s in sample.secrets):
            assert new != old, f"line {number} holds a secret and was not redacted"
        else:
            assert new == old, f"line {number} holds no secret and was changed"


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_redaction_is_deterministic_and_idempotent(sample: Sample) -> None:
    once = for_backup(sample.text, sample.platform, KEY)
    assert for_backup(sample.text, sample.platform, KEY) == once
    assert for_backup(once, sample.platform, KEY) == once
    other = for_backup(sample.text, sample.platform, b"another key")
    assert other.count("<redacted:") == once.count("<redacted:")


CHECKED = [s for s in SAMPLES if s.platform in PLATFORMS]


@pytest.mark.parametrize("sample", CHECKED, ids=[f"{s.platform}/{s.path.stem}" for s in CHECKED])
def test_redacted_config_keeps_the_tree(sample: Sample) -> None:
    spec = platform_spec(sample.platform)
    text = unix_lines(sample.text)
    before = [c.depth() for c in parse(spec, text).all_children_sorted()]
    after = [c.depth() for c in parse(spec, redact(text, sample.platform, KEY))
             .all_children_sorted()]
    assert len(before) == len(after) and sorted(before) == sorted(after)


@pytest.mark.parametrize("sample", CHECKED, ids=[f"{s.platform}/{s.path.stem}" for s in CHECKED])
def test_compliance_reads_every_config(sample: Sample, mixed_estate) -> None:
    host = next(h for h in mixed_estate.hosts("network_device")
                if h.spec.platform == sample.platform)
    controls = check(platform_spec(sample.platform), sample.raw, render(mixed_estate, host))
    assert len(controls) == 6
    assert not any("<redacted" in line for c in controls for line in (*c.missing, *c.extra))
