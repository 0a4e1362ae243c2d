"""`faellesdrift review`, `codeowners` and `deliver` (mounted lazily, see faellesdrift.commands)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from faellesdrift import junit
from faellesdrift.commandline import RootOpt, TodayOpt, failed, set_today, settings_for
from faellesdrift.community import STANDARDS_FILE
from faellesdrift.errors import FaellesdriftError
from faellesdrift.junit import JunitOpt
from faellesdrift.ui import Output, OutputOpt, console, err_console, fail, print_json

BaseOpt = Annotated[str, typer.Option(
    "--base", metavar="REF",
    help="The branch, tag or commit to compare with (e.g. origin/main in a pull request, "
         "the commit before the push after a merge).")]
SkipOpt = Annotated[list[str] | None, typer.Option(
    "--skip", metavar="KIND", help="Do not run this plan: platform, network or servers; "
                                   "repeat for more.")]


def _say(line: str) -> None:
    err_console.print(line, markup=False, highlight=False, soft_wrap=True)


def review_cmd(base: BaseOpt, root: RootOpt = None, today: TodayOpt = None,
               markdown: Annotated[Path | None, typer.Option(
                   "--markdown", metavar="FILE",
                   help="Write the Markdown summary here (for a pull-request comment). "
                        "Default: print it.")] = None,
               skip: SkipOpt = None, junit_file: JunitOpt = None,
               output: OutputOpt = Output.table) -> None:
    """What this change does, for a pull request: the tenants, hosts, exceptions and
    contracts that changed, validation, plans of only what it touches, the cost impact
    and who must approve.

    Compares the working tree with where it branched off --base. Exit code 0 when the
    change is valid and every plan ran; 1 when it is invalid, violates a policy or a
    plan failed.
    """
    from faellesdrift.delivery import markdown as md
    from faellesdrift.delivery.plans import KINDS
    from faellesdrift.delivery.review import review

    set_today(today)
    settings = settings_for(root)
    unknown = sorted(set(skip or ()) - set(KINDS))
    if unknown:
        raise fail(f"--skip {', '.join(unknown)}: use one of {', '.join(KINDS)}")
    try:
        result = review(settings, base, skip=skip or (), say=_say)
    except FaellesdriftError as exc:
        raise failed(exc) from None
    text = md.render(result)
    if markdown is not None:
        try:
            markdown.parent.mkdir(parents=True, exist_ok=True)
            markdown.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise fail(f"--markdown {markdown}: {exc.strerror}") from None
    if output is Output.json:
        print_json(result.to_dict())
    elif markdown is None:
        sys.stdout.write(text)  # Markdown as it is: no Rich emoji or wrapping
    else:
        verdict = "ok" if result.ok else ("invalid" if not result.valid else "blocked")
        console.print(f"review {verdict}: {len(result.changes.changes)} change(s) in "
                      f"{', '.join(result.changes.tenants) or 'no tenant'}; summary in "
                      f"{markdown}", markup=False, highlight=False, soft_wrap=True)
    junit.save(junit_file, [_review_suite(result)])
    if not result.ok:
        raise typer.Exit(1)


def _review_suite(result) -> junit.Suite:
    cases = [junit.Case(f.file, f.rule + (f" [{f.field}]" if f.field else ""),
                        "failed" if f.severity == "error" else "passed", f.message,
                        f.one_line(), output="" if f.severity == "error" else f.one_line())
             for f in result.findings]
    cases += [junit.Case("plan", p.id, "failed" if p.status == "failed" else
                         ("skipped" if p.status == "skipped" else "passed"), p.summary,
                         p.summary) for p in result.plans]
    return junit.Suite("review", tuple(cases))


class Format(str, Enum):
    github = "github"
    gitlab = "gitlab"


def codeowners_cmd(fmt: Annotated[Format, typer.Option(
                       "--format", help="github (.github/CODEOWNERS) or gitlab "
                                        "(.gitlab/CODEOWNERS, with sections).")] = Format.github,
                   write: Annotated[Path | None, typer.Option(
                       "--write", metavar="FILE",
                       help="Write it here (e.g. .github/CODEOWNERS). Default: print it.")
                   ] = None,
                   check: Annotated[Path | None, typer.Option(
                       "--check", metavar="FILE",
                       help="Write nothing; exit 1 when FILE is not what would be "
                            "generated (for CI).")] = None,
                   root: RootOpt = None) -> None:
    """A CODEOWNERS file from the tenant files: each municipality's file owned by its
    `approvers` plus the operations group, community.yaml and schemas/ by the board
    (`approvals` in community.yaml)."""
    from faellesdrift.community import load_community
    from faellesdrift.delivery.approvals import TenantFile, codeowners
    from faellesdrift.delivery.gitrepo import Repo

    settings = settings_for(root)
    community, findings = load_community(settings.root)
    if community is None or any(f.severity == "error" and f.rule.startswith("schema")
                                for f in findings):
        first = next((f for f in findings if f.severity == "error"), None)
        raise fail((first.one_line() if first else f"{STANDARDS_FILE} cannot be read")
                   + " — run `faellesdrift validate`", 1)
    try:
        repo = Repo.of(settings.root)
        prefix, top = repo.prefix, repo.top.resolve()
    except FaellesdriftError:
        prefix, top = "", settings.root.resolve()  # not in git: paths from the community
    target = write or check
    own = None
    if target is not None and target.resolve().is_relative_to(top):
        own = str(target.resolve().relative_to(top))
    try:
        text = codeowners(community.standards,
                          [TenantFile(s.file, s.tenant) for s in community.sources],
                          fmt=fmt.value, prefix=prefix, self_path=own)
    except FaellesdriftError as exc:
        raise fail(str(exc), 1) from None
    if check is not None:
        current = check.read_text(encoding="utf-8") if check.is_file() else None
        if current != text:
            raise fail(f"{check} is out of date: run `faellesdrift codeowners --format "
                       f"{fmt.value} --write {check}` and commit it", 1)
        console.print(f"{check} is up to date", markup=False, highlight=False)
        return
    if write is not None:
        try:
            write.parent.mkdir(parents=True, exist_ok=True)
            write.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise fail(f"--write {write}: {exc.strerror}") from None
        console.print(f"wrote {write}", markup=False, highlight=False)
        return
    sys.stdout.write(text)


def deliver_cmd(base: BaseOpt, root: RootOpt = None, today: TodayOpt = None,
                yes: Annotated[bool, typer.Option(
                    "--yes", "-y", help="Apply. Default: show what would be done.")] = False,
                junit_dir: Annotated[Path | None, typer.Option(
                    "--junit-dir", metavar="DIR",
                    help="Write the verification's JUnit reports here (verify.xml, "
                         "network.xml).")] = None,
                output: OutputOpt = Output.table) -> None:
    """Deliver a merged change: apply it for the affected tenants only (platform, network
    remediation, server baseline), verify (testinfra, network compliance), refresh the
    report and record the outcome with the commit id in the audit log.

    Without --yes it shows the steps and changes nothing. Exit code 0 only when every
    step succeeded.
    """
    from faellesdrift.delivery.deliver import deliver

    set_today(today)
    settings = settings_for(root)
    try:
        result = deliver(settings, base, apply=yes, junit_dir=junit_dir,
                         say=_say if output is not Output.json else (lambda _: None))
    except FaellesdriftError as exc:
        raise failed(exc) from None
    if output is Output.json:
        print_json(result.to_dict())
    else:
        for s in result.steps:
            console.print(f"{s.status:8} {s.id:11} {s.command}"
                          + (f" — {s.message}" if s.message else ""),
                          markup=False, highlight=False, soft_wrap=True)
        if not yes and result.steps:
            console.print("nothing was changed; run again with --yes to deliver",
                          markup=False, highlight=False)
        if result.audit_log:
            console.print(f"audit log: {result.audit_log}", markup=False, highlight=False)
    if not result.ok:
        raise typer.Exit(1)
