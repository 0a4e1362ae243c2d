"""The lab's access artefact: one writer (the lab), readers in the network and servers adapters."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from types import MappingProxyType

import pytest

from faellesdrift.lab_access import (
    DeviceEndpoint,
    LabAccess,
    LabAccessError,
    access_file,
    read_lab_access,
    require_lab_access,
    write_lab_access,
)


def _access(tmp_path: Path) -> LabAccess:
    return LabAccess(devices=MappingProxyType({"odd-core01": DeviceEndpoint("127.49.0.1", 47101)}),
                     servers=frozenset({"odd-file01"}), ssh_config=tmp_path / "ssh_config",
                     operator_key="ssh-ed25519 AAAAC3Nz", device_credentials=tmp_path / "c.json")


def test_what_the_lab_writes_is_what_the_adapters_read(tmp_path: Path) -> None:
    access = _access(tmp_path)
    write_lab_access(access_file(tmp_path), access)
    assert read_lab_access(tmp_path) == access
    assert stat.S_IMODE(access_file(tmp_path).stat().st_mode) == 0o600


def test_no_lab_is_none_and_a_run_that_needs_one_says_how_to_get_it(tmp_path: Path) -> None:
    assert read_lab_access(tmp_path) is None
    with pytest.raises(LabAccessError, match="no lab .* run `faellesdrift lab up` first"):
        require_lab_access(tmp_path, "servers")
    write_lab_access(access_file(tmp_path), LabAccess())  # after `lab down`
    with pytest.raises(LabAccessError, match="the lab runs nothing"):
        require_lab_access(tmp_path, "servers")


@pytest.mark.parametrize("text, why", [
    ("{not json", "unreadable"),
    (json.dumps({"version": 99, "devices": {}}), "version 99 is not 1"),
    (json.dumps([1, 2]), "version None is not 1"),
    (json.dumps({"version": 1, "devices": {"x": {"host": "h"}}, "servers": []}), "malformed"),
])
def test_a_broken_artefact_is_an_error_never_no_lab(tmp_path: Path, text: str, why: str) -> None:
    access_file(tmp_path).parent.mkdir()
    access_file(tmp_path).write_text(text)
    with pytest.raises(LabAccessError, match=why):
        read_lab_access(tmp_path)


def test_the_artefact_holds_no_secret_only_where_the_lab_keeps_it(tmp_path: Path) -> None:
    write_lab_access(access_file(tmp_path), _access(tmp_path))
    body = json.loads(access_file(tmp_path).read_text())
    assert set(body) == {"version", "devices", "servers", "ssh_config", "user", "operator_key",
                         "device_credentials"}
    assert body["device_credentials"].endswith("c.json")
