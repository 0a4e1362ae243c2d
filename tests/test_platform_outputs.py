"""The platform outputs artefact: one writer, one reader, per-stack entries, clear errors."""

from __future__ import annotations

import json
import threading

import pytest

from faellesdrift import platform_outputs as po


def _entry(stack: str, scope: str, slug: str | None = None, n: int = 3) -> po.StackOutputs:
    outputs: dict = {"tenants": {}, "metering": []}
    if slug:
        outputs = {"tenants": {slug: {"tenant": slug, "resources": n}},
                   "metering": [{"tenant": slug, "meter": "platform.resource",
                                 "subject": f"{slug}-platform", "quantity": n}]}
    else:
        outputs["community"] = {"name": "Midt", "shared": {"prefix": "10.250.0.0/24"}}
    return po.StackOutputs(stack, scope, outputs, "file:///x")


def test_stacks_write_their_entries_and_the_reader_merges_them(tmp_path):
    po.write(tmp_path, "lab", _entry("lab.shared", "shared"))
    po.write(tmp_path, "lab", _entry("lab.odder", "odder", "odder"))
    path = po.write(tmp_path, "lab", _entry("lab.samsoe", "samsoe", "samsoe", 5))
    assert path == tmp_path / "pulumi" / "outputs-lab.json"
    out = po.read(tmp_path, "lab")
    assert sorted(out.stacks) == ["lab.odder", "lab.samsoe", "lab.shared"]
    assert set(out.tenants) == {"odder", "samsoe"} and out.tenants["samsoe"]["resources"] == 5
    assert out.community["shared"]["prefix"] == "10.250.0.0/24"
    assert [s for s, _ in out.metering()] == ["lab.odder", "lab.samsoe", "lab.shared"]
    assert out.stacks["lab.odder"].written_at  # stamped by the writer
    assert json.loads(path.read_text())["version"] == po.VERSION

    po.write(tmp_path, "lab", po.StackOutputs("lab.samsoe", "samsoe", {}))  # destroyed
    assert set(po.read(tmp_path, "lab").tenants) == {"odder"}
    assert [o.environment for o in po.read_all(tmp_path)] == ["lab"]


def test_parallel_writers_all_land(tmp_path):
    slugs = [f"t{i}" for i in range(12)]
    threads = [threading.Thread(target=po.write, args=(tmp_path, "lab",
                                                       _entry(f"lab.{s}", s, s)))
               for s in slugs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(po.read(tmp_path, "lab").tenants) == set(slugs)


def test_missing_is_an_error_naming_the_command(tmp_path):
    with pytest.raises(po.PlatformOutputsMissing, match=r"run `faellesdrift apply --stack lab`"):
        po.read(tmp_path, "lab")
    with pytest.raises(po.PlatformOutputsMissing, match="no platform outputs"):
        po.read_all(tmp_path)


@pytest.mark.parametrize("text, message", [
    ("{not json", "not JSON"),
    ('{"metering": []}', "no version"),
    ('{"version": 99, "environment": "lab", "stacks": {}}', "version 99"),
    ('{"version": 1, "environment": "ci", "stacks": {}}', "environment 'ci'"),
    ('{"version": 1, "environment": "lab", "stacks": {"lab.x": {"outputs": 1}}}',
     "stacks.lab.x must be an object"),
])
def test_unreadable_is_an_error_never_empty(tmp_path, text, message):
    path = tmp_path / "pulumi" / "outputs-lab.json"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(po.PlatformOutputsError, match=message) as err:
        po.read(tmp_path, "lab")
    assert str(path) in str(err.value) and "faellesdrift apply" in str(err.value)
    po.write(tmp_path, "lab", _entry("lab.odder", "odder", "odder"))  # a writer starts anew
    assert set(po.read(tmp_path, "lab").tenants) == {"odder"}
    assert list(path.parent.glob("outputs-lab.json.corrupt-*"))


def test_environment_names_are_checked(tmp_path):
    with pytest.raises(po.PlatformOutputsError, match="use letters"):
        po.path_for(tmp_path, "../etc")
