"""JUnit XML reports that CI systems read (GitHub and GitLab show one line per test case).

The shape is the common JUnit schema every CI parser accepts:
``<testsuites>`` holding ``<testsuite name tests failures errors skipped time timestamp>``
holding ``<testcase name classname time>`` with at most one ``<failure message type>``,
``<error>`` or ``<skipped message>`` child and an optional ``<system-out>``.
A command builds ``Case`` rows (one per host and control, or per finding) and
``write`` turns them into one file. Text is data: XML escaping is ElementTree's,
and characters XML 1.0 cannot hold are replaced.
"""

from __future__ import annotations

import os
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import typer

from faellesdrift import clock
from faellesdrift.errors import ConfigError
from faellesdrift.findings import Finding
from faellesdrift.ui import fail

Outcome = Literal["passed", "failed", "error", "skipped"]

JunitOpt = Annotated[Path | None, typer.Option(
    "--junit", metavar="FILE",
    help="Also write a JUnit XML report (one test case per host and control, or per "
         "finding) for GitHub/GitLab to show.")]

# XML 1.0 allows tab, newline, carriage return and the ranges below; nothing else
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: object) -> str:
    return _NOT_XML.sub("\ufffd", str(value))


@dataclass(frozen=True)
class Case:
    """One test case: ``classname`` groups cases (a tenant and host, a file), ``name`` says
    what was checked (a control, a rule)."""

    classname: str
    name: str
    outcome: Outcome = "passed"
    message: str = ""  # one line: why it failed or was skipped
    details: str = ""  # the body of the failure (missing/extra lines, the fix)
    seconds: float = 0.0
    output: str = ""  # system-out: what a passed case wants to say (a kept exception)


@dataclass(frozen=True)
class Suite:
    name: str
    cases: tuple[Case, ...] = field(default_factory=tuple)

    def count(self, outcome: Outcome) -> int:
        return sum(c.outcome == outcome for c in self.cases)

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.cases)


def _counts(element: ET.Element, suites: Iterable[Suite]) -> None:
    suites = list(suites)
    element.set("tests", str(sum(len(s.cases) for s in suites)))
    element.set("failures", str(sum(s.count("failed") for s in suites)))
    element.set("errors", str(sum(s.count("error") for s in suites)))
    element.set("skipped", str(sum(s.count("skipped") for s in suites)))
    element.set("time", f"{sum(s.seconds for s in suites):.3f}")


def document(suites: Iterable[Suite], name: str = "faellesdrift") -> ET.ElementTree:
    suites = list(suites)
    root = ET.Element("testsuites", name=_text(name))
    _counts(root, suites)
    stamp = clock.now().replace(tzinfo=None).isoformat(timespec="seconds")
    for suite in suites:
        s = ET.SubElement(root, "testsuite", name=_text(suite.name))
        _counts(s, [suite])
        s.set("timestamp", stamp)
        for case in suite.cases:
            c = ET.SubElement(s, "testcase", name=_text(case.name),
                              classname=_text(case.classname), time=f"{case.seconds:.3f}")
            if case.outcome == "failed":
                f = ET.SubElement(c, "failure", message=_text(case.message), type="failure")
                f.text = _text(case.details or case.message)
            elif case.outcome == "error":
                f = ET.SubElement(c, "error", message=_text(case.message), type="error")
                f.text = _text(case.details or case.message)
            elif case.outcome == "skipped":
                ET.SubElement(c, "skipped", message=_text(case.message))
            if case.output:
                ET.SubElement(c, "system-out").text = _text(case.output)
    ET.indent(root)
    return ET.ElementTree(root)


def write(path: Path, suites: Iterable[Suite], name: str = "faellesdrift") -> Path:
    """Write the report in one rename, so a CI job never reads half a file.

    Raises ConfigError naming the file when it cannot be written."""
    path = Path(path)
    tree = document(suites, name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise ConfigError(f"--junit {path}: {exc.strerror}; give a file in a directory "
                          "you can write") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            tree.write(fh, encoding="utf-8", xml_declaration=True)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save(path: Path | None, suites: Iterable[Suite]) -> None:
    """What a command's ``--junit FILE`` does: write, or exit 2 with one line."""
    if path is None:
        return
    try:
        write(path, suites)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None


def findings_suite(findings: Iterable[Finding], files: Iterable[str],
                   name: str = "validate") -> Suite:
    """``validate`` as cases: one per finding (errors fail, warnings pass and say so), and
    one passing case for every checked file without a finding."""
    cases: list[Case] = []
    seen: set[str] = set()
    for f in findings:
        seen.add(f.file)
        what = f"{f.rule}" + (f" [{f.field}]" if f.field else "")
        body = f.one_line()
        if f.severity == "error":
            cases.append(Case(f.file, what, "failed", f.message, body))
        else:
            cases.append(Case(f.file, what, "passed", output=f"warning: {body}"))
    cases += [Case(file, "valid") for file in sorted(set(files) - seen)]
    return Suite(name, tuple(sorted(cases, key=lambda c: (c.classname, c.name))))
