"""The CrossGuard policy pack: ``policies.POLICIES`` served through pulumi_policy.

stacks/policy/__main__.py only calls ``serve()``. The engine starts the pack
as a binary analyzer plugin (``stacks/policy/pulumi-analyzer-policy-faellesdrift``)
or, on CLIs whose language host runs Python packs, from the directory.

- each mandatory policy reports its violations (they block `up`);
- ``exempted-by-active-exception`` (advisory) reports what active exceptions allow;
- the estate is loaded once, from $FAELLESDRIFT_ROOT or the working directory; when
  it cannot be loaded every stack policy reports that (mandatory: nothing passes unseen).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from faellesdrift.errors import FaellesdriftError
from faellesdrift.platform.policies import (
    EXEMPTED,
    EXEMPTED_DESCRIPTION,
    POLICIES,
    Context,
    Policy,
    ResourceView,
    evaluate,
    load_context,
)
from faellesdrift.platform.providers.resources import TYPE_PREFIX

PACK_NAME = "faellesdrift-guardrails"
LEVELS = {"mandatory": EnforcementLevel.MANDATORY, "advisory": EnforcementLevel.ADVISORY}


class _Lazy:
    """The Context, loaded on first use (the engine starts the pack before any resource)."""

    def __init__(self, loader: Callable[[], Context]) -> None:
        self.loader = loader
        self.ctx: Context | None = None
        self.error: str | None = None

    def get(self) -> Context | None:
        if self.ctx is None and self.error is None:
            try:
                self.ctx = self.loader()
            except FaellesdriftError as exc:
                self.error = f"the policy pack cannot load the estate: {exc}"
        return self.ctx


def ours(r: Any) -> bool:
    """Only faellesdrift resources are judged (components and the stack have unknown outputs
    during preview; their children are what counts). A resource without inputs is not part
    of this run (outside a --target list, not yet created) and is not judged."""
    return str(r.resource_type).startswith(TYPE_PREFIX) and "tenant" in r.props


def view(r: Any) -> ResourceView:
    opts = getattr(r, "opts", None)
    return ResourceView(urn=r.urn, type=r.resource_type, name=r.name, props=dict(r.props),
                        protect=bool(getattr(opts, "protect", False)))


def _resource_policy(p: Policy, lazy: _Lazy) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        ctx = lazy.get()
        if ctx is None or not ours(args):
            return  # the stack policies report a load error once
        for f in p.findings(ctx, view(args)):
            if f.violation:
                report(f.message, None)

    return ResourceValidationPolicy(name=p.name, description=p.description,
                                    enforcement_level=LEVELS[p.enforcement], validate=validate)


def _stack_policy(p: Policy, lazy: _Lazy) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        ctx = lazy.get()
        if ctx is None:
            report(lazy.error or "the policy pack cannot load the estate", None)
            return
        for f in p.findings(ctx, [view(r) for r in args.resources if ours(r)]):
            if f.violation:
                report(f.message, f.urn)

    return StackValidationPolicy(name=p.name, description=p.description,
                                 enforcement_level=LEVELS[p.enforcement], validate=validate)


def _exempted_policy(lazy: _Lazy) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        ctx = lazy.get()
        if ctx is None:
            return
        for f in evaluate(ctx, [view(r) for r in args.resources if ours(r)]):
            if not f.violation:
                report(f"exempted by {f.exempted_by}: {f.message}", f.urn)

    return StackValidationPolicy(name=EXEMPTED, description=EXEMPTED_DESCRIPTION,
                                 enforcement_level=EnforcementLevel.ADVISORY, validate=validate)


def policies(loader: Callable[[], Context] = load_context) -> list:
    lazy = _Lazy(loader)
    out: list = [(_resource_policy if p.scope == "resource" else _stack_policy)(p, lazy)
                 for p in POLICIES]
    out.append(_exempted_policy(lazy))
    return out


def serve() -> None:
    """Start the pack's gRPC server (prints its port; the engine connects)."""
    PolicyPack(name=PACK_NAME, policies=policies(),
               enforcement_level=EnforcementLevel.MANDATORY,
               description="faellesdrift: metering tags, tenant isolation, quotas, "
                           "enrolment, kept resources")
