"""Runs of the platform stack on the real engine: preview, up and destroy (Automation API).

    result = engine.run("preview", settings, RunOptions(stack="lab", scope="odder"))

- the CLI: ``pulumi`` on PATH, else the build cached by scripts/install-pulumi.sh
  (``<cache>/pulumi/v*/bin``); missing → PulumiMissing naming the script;
- the backend: ``--backend`` / $PULUMI_BACKEND_URL, else ``file://<state>/pulumi``;
- the passphrase: $PULUMI_CONFIG_PASSPHRASE(_FILE), else for stack lab the public lab
  passphrase its committed salt was made with, else ``<state>/pulumi/passphrase`` (made
  once, mode 0600);
- the interpreter for the program, dynamic providers and the policy pack:
  $PULUMI_PYTHON_CMD, else this Python (its bin first on PATH);
- the CrossGuard pack runs on every preview and up (mandatory violations fail the run);
  runs side by side share one pack process when ``RunOptions.policy_port`` names it;
- a tenant filter becomes targets (the tenant's component and its children);
- ``RunOptions.refresh``: preview/up read every object first (`pulumi up --refresh`);
- events become a per-tenant summary (create/update/replace/delete/same), policy
  violations and exemptions; after ``up`` the stack's outputs go to the platform outputs
  artefact (``faellesdrift.platform_outputs``: ``<state>/pulumi/outputs-<environment>.json``)
  and the results store, applied changes to the audit log;
- a stack of the per-tenant layout (``RunOptions.scope``) runs in a workspace of its own
  under ``<state>/pulumi/workspaces/`` (fleet.py runs many of them side by side).

All environment goes to the CLI's subprocesses through the workspace; this
process's own environment is never changed, so shards can run side by side.
"""

from __future__ import annotations

import functools
import os
import random
import re
import secrets
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from faellesdrift import audit, platform_outputs, results
from faellesdrift.estate import Estate
from faellesdrift.platform import command
from faellesdrift.platform.args import SHARED_TENANT
from faellesdrift.platform.errors import PlatformError, PulumiMissing
from faellesdrift.platform.pack_server import PORT_ENV
from faellesdrift.platform.policies import EXEMPTED
from faellesdrift.platform.program import define
from faellesdrift.platform.shared_services import TYPE as SHARED_TYPE
from faellesdrift.platform.tenant_environment import TYPE as TENANT_TYPE
from faellesdrift.settings import Settings

Op = Literal["preview", "up", "destroy", "drift"]  # drift: refresh --preview-only
Progress = Callable[[str, int], None]  # (message, steps seen so far)

PACK_LAUNCHER = Path("stacks/policy/pulumi-analyzer-policy-faellesdrift")
LAB_STACK = "lab"
LAB_PASSPHRASE = "faellesdrift-lab"  # public: stack lab holds no secrets (Pulumi.lab.yaml)
INSTALL_HINT = ('build or find it with `export PATH="$(scripts/install-pulumi.sh | tail -1):'
                '$PATH"` (see scripts/install-pulumi.sh)')
COMMUNITY = "community"  # bucket for the stack, providers and shared services
ALL = "all"  # the scope of a single-layout stack: the whole community
_COUNTED = ("create", "update", "replace", "delete", "same")
PLATFORM_PROGRAM = "from faellesdrift.platform.program import define"
SECRET = "[secret]"  # how the event log shows a secret output
LOCKED = "the stack is currently locked"  # what Pulumi's file/S3/PostgreSQL backends say
_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


@dataclass(frozen=True)
class RunOptions:
    """One stack run. With ``scope`` set the stack is ``<stack>.<scope>`` of the per-tenant
    layout and runs in a workspace of its own (``workspace_dir``); without it ``stack`` is a
    stack of the project directory itself (the single-stack layout)."""

    stack: str = LAB_STACK
    tenants: tuple[str, ...] = ()
    project_dir: Path | None = None  # holds Pulumi.yaml; default: the community root
    backend: str | None = None
    policy: bool = True
    scope: str | None = None  # "shared" or a tenant slug: the per-tenant layout
    shared_stack: str | None = None  # tenant stacks: the shared stack's fully qualified name
    lock_wait: float = 0.0  # seconds to keep trying while another run holds the stack's lock
    policy_port: str | None = None  # a policy pack serving many runs (pack_server.shared)
    refresh: bool = False  # preview/up: read every object first (`pulumi up --refresh`)

    @property
    def environment(self) -> str:
        """The stack set's name: Pulumi.<environment>.yaml holds its configuration."""
        return self.stack

    @property
    def stack_name(self) -> str:
        return f"{self.stack}.{self.scope}" if self.scope else self.stack


@dataclass
class TenantSummary:
    create: int = 0
    update: int = 0
    replace: int = 0
    delete: int = 0
    same: int = 0
    failed: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    exempted: list[str] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return self.create + self.update + self.replace + self.delete


@dataclass
class EngineRun:
    op: str
    stack: str
    backend: str
    ok: bool = False
    seconds: float = 0.0
    tenants: dict[str, TenantSummary] = field(default_factory=dict)
    violations: list[dict[str, Any]] = field(default_factory=list)
    drift: list[dict[str, Any]] = field(default_factory=list)  # objects changed outside Pulumi
    exempted: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    outputs_file: str | None = None
    error: str | None = None
    waited: int = 0  # times the stack was found locked by another run and tried again

    def tenant(self, slug: str) -> TenantSummary:
        return self.tenants.setdefault(slug, TenantSummary())

    @property
    def totals(self) -> dict[str, int]:
        return {k: sum(getattr(t, k) for t in self.tenants.values()) for k in _COUNTED}

    def to_dict(self) -> dict[str, Any]:
        return {
            "op": self.op, "stack": self.stack, "backend": self.backend, "ok": self.ok,
            "seconds": round(self.seconds, 1), "totals": self.totals,
            "tenants": {s: {**asdict(t), "changes": t.changes}
                        for s, t in sorted(self.tenants.items())},
            "violations": self.violations, "exempted": self.exempted, "drift": self.drift,
            "outputs_file": self.outputs_file, "error": self.error, "waited": self.waited,
        }


# ------------------------------------------------------------------ set-up


def find_cli(settings: Settings) -> Path:
    """The directory holding ``pulumi`` and ``pulumi-language-python``."""
    candidates: list[Path] = []
    on_path = shutil.which("pulumi")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    cached = sorted((settings.cache_dir / "pulumi").glob("v*/bin"), key=_version_key,
                    reverse=True)
    candidates += cached
    for d in candidates:
        if (d / "pulumi").is_file() and (
                (d / "pulumi-language-python").is_file() or shutil.which("pulumi-language-python")):
            return d
    if candidates:
        raise PulumiMissing(f"pulumi in {candidates[0]} has no pulumi-language-python next to it "
                            f"or on PATH; {INSTALL_HINT}")
    raise PulumiMissing(f"the Pulumi CLI is not on PATH and not built in "
                        f"{settings.cache_dir / 'pulumi'}; {INSTALL_HINT}")


def _version_key(p: Path) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", p.parent.name)) or (0,)


def backend_url(settings: Settings, backend: str | None = None) -> str:
    url = backend or os.environ.get("PULUMI_BACKEND_URL")
    if url:
        return url
    return f"file://{settings.state_dir / 'pulumi'}"


def redact(url: str) -> str:
    """A backend URL without credentials (for results, logs and output)."""
    parts = urlsplit(url)
    if parts.password or parts.username:
        host = parts.hostname or ""
        netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    query = re.sub(r"(?i)(password|secret|token|key)=[^&]*", r"\1=***", parts.query)
    return urlunsplit(parts._replace(query=query))


def passphrase_env(settings: Settings, environment: str) -> dict[str, str]:
    if os.environ.get("PULUMI_CONFIG_PASSPHRASE") is not None or \
            os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE"):
        return {}
    if environment == LAB_STACK:
        return {"PULUMI_CONFIG_PASSPHRASE": LAB_PASSPHRASE}
    path = settings.state_dir / "pulumi" / "passphrase"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(32) + "\n")
    return {"PULUMI_CONFIG_PASSPHRASE_FILE": str(path)}


def environment(settings: Settings, cli: Path, env_name: str, backend: str) -> dict[str, str]:
    python = os.environ.get("PULUMI_PYTHON_CMD") or sys.executable
    path = os.pathsep.join([str(cli), str(Path(sys.executable).parent),
                            os.environ.get("PATH", "")])
    env = {
        "PATH": path, "PULUMI_PYTHON_CMD": python, "PULUMI_BACKEND_URL": backend,
        "PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "FAELLESDRIFT_ROOT": str(settings.root), "FAELLESDRIFT_STATE": str(settings.state_dir),
        **passphrase_env(settings, env_name),
    }
    if backend.startswith("file://"):
        Path(backend.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
    return env


def workspace_dir(settings: Settings, stack_name: str) -> Path:
    """Where a stack of the per-tenant layout keeps its own Pulumi.yaml and stack file."""
    return settings.state_dir / "pulumi" / "workspaces" / stack_name


def prepare_workspace(settings: Settings, project: Path, opts: RunOptions) -> Path:
    """A directory of the stack's own: Pulumi.yaml (the project's, its ``main`` pointing back
    to the program) and Pulumi.<env>.<scope>.yaml (the environment's configuration, the
    stack's scope and shared stack, the environment's encryption salt, else the one the stack
    was created with, else the shared stack's). Parallel runs never share a workspace file."""
    import yaml

    work = workspace_dir(settings, opts.stack_name)
    work.mkdir(parents=True, exist_ok=True)
    source = yaml.safe_load((project / "Pulumi.yaml").read_text(encoding="utf-8")) or {}
    main = project / str(source.get("main") or ".")
    source["main"] = os.path.relpath(main, work)
    _write_if_changed(work / "Pulumi.yaml", yaml.safe_dump(source, sort_keys=False))

    env_file = project / f"Pulumi.{opts.stack}.yaml"
    env_config = {}
    if env_file.is_file():
        env_config = yaml.safe_load(env_file.read_text(encoding="utf-8")) or {}
    stack_file = work / f"Pulumi.{opts.stack_name}.yaml"
    current = {}
    if stack_file.is_file():
        current = yaml.safe_load(stack_file.read_text(encoding="utf-8")) or {}
    config = dict(env_config.get("config") or {})
    config["faellesdrift:scope"] = opts.scope  # the program's config namespace
    if opts.shared_stack:
        config["faellesdrift:sharedStack"] = opts.shared_stack
    out: dict[str, Any] = {"config": config}
    salt = env_config.get("encryptionsalt") or current.get("encryptionsalt") or \
        _shared_salt(settings, opts)
    if salt:
        out["encryptionsalt"] = salt
    _write_if_changed(stack_file, yaml.safe_dump(out, sort_keys=True))
    return work


def _shared_salt(settings: Settings, opts: RunOptions) -> str | None:
    """A tenant stack's encryption salt: the shared stack's, so that the passphrase key is
    derived once per run of the stack (the CLI derives it again for the StackReference to
    the shared stack unless the salt is the same). An environment's stacks share one
    passphrase either way."""
    import yaml

    if opts.scope in (None, SHARED_TENANT):
        return None
    name = f"{opts.stack}.{SHARED_TENANT}"
    path = workspace_dir(settings, name) / f"Pulumi.{name}.yaml"
    try:
        return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("encryptionsalt")
    except (OSError, yaml.YAMLError):
        return None


def _write_if_changed(path: Path, text: str) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


@functools.cache
def pulumi_command(cli: Path) -> Any:
    """The Automation API's handle on the CLI in ``cli`` (it runs `pulumi version` once when
    made: one per process, shared by the stacks that run side by side)."""
    from pulumi import automation as auto

    return auto.PulumiCommand(root=str(cli.parent))


def _workspace(settings: Settings, opts: RunOptions) -> tuple[Any, dict[str, str], Path]:
    """The stack's workspace, the CLI's environment and the project directory. Nothing is
    selected: every command names its stack (``--stack``)."""
    from pulumi import automation as auto

    if not _STACK_NAME.match(opts.stack_name) or (opts.scope and "." in opts.stack):
        raise PlatformError(f"--stack {opts.stack!r}: use letters, digits, '-' or '_'")
    project = (opts.project_dir or settings.root).resolve()
    if not (project / "Pulumi.yaml").is_file():
        raise PlatformError(f"no Pulumi.yaml in {project}: run inside the repository (the "
                            "Pulumi project is at its root)")
    cli = find_cli(settings)
    env = environment(settings, cli, opts.environment, backend_url(settings, opts.backend))
    env[PORT_ENV] = opts.policy_port or ""  # empty: the launcher starts a pack of its own
    work = prepare_workspace(settings, project, opts) if opts.scope else project
    workspace = auto.LocalWorkspace(work_dir=str(work), pulumi_command=pulumi_command(cli),
                                    env_vars=env, secrets_provider="passphrase")
    return workspace, env, project


def _stack(settings: Settings, opts: RunOptions) -> tuple[Any, dict[str, str], Path]:
    """The stack (created when the backend has none), the CLI's environment and the project
    directory."""
    from pulumi import automation as auto

    workspace, env, project = _workspace(settings, opts)
    try:
        stack = auto.Stack.create_or_select(opts.stack_name, workspace)
    except auto.errors.CommandError as exc:
        raise _stack_error(settings, opts, workspace, exc) from None
    return stack, env, project


def stacks_in_backend(settings: Settings, opts: RunOptions) -> set[str]:
    """The names of the project's stacks the backend holds (one CLI command)."""
    from pulumi import automation as auto

    workspace, _, _ = _workspace(settings, replace(opts, scope=None))
    try:
        return {summary.name for summary in workspace.list_stacks()}
    except auto.errors.CommandError as exc:
        raise _stack_error(settings, opts, workspace, exc) from None


def create_stack(settings: Settings, opts: RunOptions) -> None:
    """Create the stack (empty) unless the backend already holds it."""
    from pulumi import automation as auto

    workspace, _, _ = _workspace(settings, opts)
    try:
        workspace.create_stack(opts.stack_name)
    except auto.errors.StackAlreadyExistsError:
        pass
    except auto.errors.CommandError as exc:
        raise _stack_error(settings, opts, workspace, exc) from None


def _stack_error(settings: Settings, opts: RunOptions, workspace: Any,
                 exc: Exception) -> PlatformError:
    message = _first_error(str(exc))
    if "incorrect passphrase" in message:
        message += (f" (the encryptionsalt in Pulumi.{opts.stack}.yaml or in "
                    f"{Path(workspace.work_dir) / f'Pulumi.{opts.stack_name}.yaml'} was made "
                    "with another passphrase than $PULUMI_CONFIG_PASSPHRASE(_FILE) or "
                    f"{settings.state_dir / 'pulumi' / 'passphrase'}; use that one)")
    backend = workspace.env_vars["PULUMI_BACKEND_URL"]
    return PlatformError(f"stack {opts.stack_name} on {redact(backend)}: {message}")


def pack_launcher(project_dir: Path) -> Path:
    pack = project_dir / PACK_LAUNCHER
    if not os.access(pack, os.X_OK):
        raise PlatformError(f"{pack} is missing or not executable (the policy pack "
                            "launcher); restore it from git")
    return pack


def targets(project: str, stack: str, tenants: tuple[str, ...]) -> list[str]:
    """URN patterns of the tenants' components and every child (named ``<slug>/…``), and of
    the shared services every tenant's servers depend on (a no-op when they are in place)."""
    out = [f"urn:pulumi:{stack}::{project}::{SHARED_TYPE}::{SHARED_TENANT}",
           f"urn:pulumi:{stack}::{project}::{SHARED_TYPE}$**::{SHARED_TENANT}/*"]
    for slug in tenants:
        out.append(f"urn:pulumi:{stack}::{project}::{TENANT_TYPE}::{slug}")
        out.append(f"urn:pulumi:{stack}::{project}::{TENANT_TYPE}$**::{slug}/*")
    return out


def tenant_of(urn: str | None, known: set[str] | None = None) -> str:
    if not urn:
        return COMMUNITY
    head, _, name = urn.rpartition("::")
    if head.endswith(f"::{TENANT_TYPE}"):
        return name
    slug = name.split("/", 1)[0] if "/" in name else ""
    if slug and (known is None or slug in known):
        return slug
    return COMMUNITY


# ------------------------------------------------------------------ running


class _Events:
    """Turns engine events into the run's per-tenant summary, and keeps the stack's outputs
    (the Stack resource's outputs event; secrets as None)."""

    def __init__(self, result: EngineRun, known: set[str], progress: Progress | None) -> None:
        self.result, self.known, self.progress = result, known, progress
        self.steps = 0
        self.outputs: dict[str, Any] | None = None

    def __call__(self, event: Any) -> None:
        if event.resource_pre_event is not None:
            self._step(event.resource_pre_event.metadata)
        elif event.policy_event is not None:
            self._policy(event.policy_event)
        elif event.res_op_failed_event is not None:
            meta = event.res_op_failed_event.metadata
            self.result.tenant(tenant_of(meta.urn, self.known)).failed.append(
                f"{meta.urn.rpartition('::')[2]}: {meta.op.value} failed")
        elif event.res_outputs_event is not None:
            meta = event.res_outputs_event.metadata
            if self.result.op == "drift":
                self._drift(meta)
            elif meta.type == "pulumi:pulumi:Stack" and meta.new is not None:
                self.outputs = _plain_outputs(meta.new.outputs or {})
        elif event.diagnostic_event is not None:
            d = event.diagnostic_event
            message = _clean(d.message)
            if d.severity == "error" and d.urn and "context canceled" not in message:
                self.result.tenant(tenant_of(d.urn, self.known)).failed.append(
                    f"{d.urn.rpartition('::')[2]}: {message}")

    def _step(self, meta: Any) -> None:
        if meta.type == "pulumi:pulumi:Stack":
            if self.progress:
                self.progress("running the program", self.steps)
            return
        if meta.type.startswith("pulumi:providers:"):
            return
        op = meta.op.value
        if op not in _COUNTED:
            return  # create-replacement / delete-replaced belong to a replace; read, refresh …
        slug = tenant_of(meta.urn, self.known)
        t = self.result.tenant(slug)
        setattr(t, op, getattr(t, op) + 1)
        self.steps += 1
        if self.progress and op != "same":
            self.progress(f"{op} {meta.urn.rpartition('::')[2]}", self.steps)
        elif self.progress and self.steps % 25 == 0:
            self.progress(f"{self.steps} resources checked", self.steps)

    def _drift(self, meta: Any) -> None:
        """A refresh step that found the object changed (update) or gone (delete)."""
        op = meta.op.value
        if op not in ("update", "delete") or meta.type == "pulumi:pulumi:Stack" or \
                meta.type.startswith("pulumi:providers:"):
            return
        keys = sorted({str(k).split(".", 1)[0] for k in (meta.diffs or ())} - {"__provider"})
        self.result.drift.append({
            "tenant": tenant_of(meta.urn, self.known), "resource": meta.urn.rpartition("::")[2],
            "type": meta.type.rpartition(":")[2], "status": "gone" if op == "delete" else "changed",
            "keys": keys})

    def _policy(self, p: Any) -> None:
        slug = tenant_of(p.resource_urn, self.known)
        message = _clean(p.message)
        if slug == COMMUNITY:
            first = message.split(":", 1)[0]
            slug = first if first in self.known else slug
        entry = {"tenant": slug, "policy": p.policy_name, "level": p.enforcement_level,
                 "resource": (p.resource_urn or "").rpartition("::")[2] or None,
                 "message": message}
        if p.policy_name == EXEMPTED:
            self.result.exempted.append(entry)
            self.result.tenant(slug).exempted.append(message)
        elif p.enforcement_level == "mandatory":
            self.result.violations.append(entry)
            self.result.tenant(slug).violations.append(f"{p.policy_name}: {message}")


def _plain_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if v == SECRET else v) for k, v in outputs.items()}


def locked_by(text: str) -> str | None:
    """Who holds the stack's lock, from the CLI's "currently locked" error; None otherwise."""
    if LOCKED not in text:
        return None
    holders = [m.group(1) for m in re.finditer(r"created by (\S+ \(pid \d+\) at \S+)", text)]
    return "; ".join(holders) if holders else "held by another update"


def _clean(message: str) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m|<\{%[^%]*%\}>", "", message or "")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def _first_error(text: str) -> str:
    lines = [_clean(ln).removeprefix("stderr: ") for ln in text.splitlines()]
    errors = [ln for ln in lines if ln.lower().startswith("error:") and "update failed" not in ln
              and "preview failed" not in ln]
    if errors:
        return errors[0].removeprefix("error:").strip()
    useful = [ln for ln in lines if ln and not ln.startswith(("code:", "stdout:", "stderr:"))]
    return useful[-1] if useful else "the Pulumi CLI failed"


def run(op: Op, settings: Settings, opts: RunOptions, *, known_tenants: set[str] | None = None,
        progress: Progress | None = None, estate: Estate | None = None) -> EngineRun:
    """One preview, up, destroy or drift; failures are in the result (ok False, error), not
    raised. The platform program runs inline in this process (command.py, runs_inline);
    ``estate``, when given, is the community it declares (runs side by side share one).

    Raises PlatformError/PulumiMissing only when the run cannot start.
    """
    from pulumi import automation as auto

    workspace, env, project_dir = _workspace(settings, opts)
    result = EngineRun(op=op, stack=opts.stack_name, backend=redact(env["PULUMI_BACKEND_URL"]))
    events = _Events(result, set(known_tenants or ()), progress)
    args = _arguments(op, opts, workspace, project_dir)
    program = functools.partial(define, settings, estate) if runs_inline(project_dir) else None
    started = time.monotonic()
    deadline = started + max(0.0, opts.lock_wait)
    while True:
        try:
            if op == "destroy":
                _unprotect(settings, opts, workspace, env)
            command.run(workspace, opts.stack_name, args, events, program)
            result.ok = True
        except auto.errors.CommandError as exc:
            lock = locked_by(str(exc))
            if lock is not None and time.monotonic() < deadline:
                result.waited += 1
                result.tenants.clear()
                result.violations.clear()
                result.exempted.clear()
                events.outputs = None
                time.sleep(random.uniform(0.5, 2.0))
                continue
            result.error = _failure(op, opts, result, exc, lock)
        break
    result.seconds = time.monotonic() - started
    if op in ("up", "destroy"):
        outputs = events.outputs
        if outputs is None or op == "destroy":  # a destroy, or an up that failed half-way
            outputs = _read_outputs(settings, opts, workspace)
        result.outputs = outputs
        result.outputs_file = str(platform_outputs.write(
            settings.state_dir, opts.environment,
            platform_outputs.StackOutputs(opts.stack_name, opts.scope or ALL, result.outputs,
                                          result.backend)))
    return result


def runs_inline(project: Path) -> bool:
    """Whether the project's program is the platform program (stacks/__main__.py calls
    program.define), which then runs in this process; any other program runs through the
    CLI's language host as the project says."""
    import yaml

    try:
        main = (yaml.safe_load((project / "Pulumi.yaml").read_text(encoding="utf-8"))
                or {}).get("main") or "."
        path = project / str(main)
        text = (path / "__main__.py" if path.is_dir() else path).read_text(encoding="utf-8")
    except (OSError, yaml.YAMLError):
        return False
    return PLATFORM_PROGRAM in text


def _arguments(op: Op, opts: RunOptions, workspace: Any, project_dir: Path) -> list[str]:
    args = {"preview": ["preview"], "up": ["up", "--yes", "--skip-preview"],
            "drift": ["refresh", "--preview-only"],
            "destroy": ["destroy", "--yes", "--skip-preview"]}[op]
    args += ["--color", "never"]
    if opts.tenants and not opts.scope:
        project = workspace.project_settings().name
        args += [a for t in targets(project, opts.stack, opts.tenants) for a in ("--target", t)]
    if op in ("preview", "up") and opts.policy:
        args += ["--policy-pack", str(pack_launcher(project_dir))]
    if op in ("preview", "up") and opts.refresh:
        args.append("--refresh")  # an object changed by hand is seen and put right
    return args


def _failure(op: Op, opts: RunOptions, result: EngineRun, exc: Exception,
             lock: str | None) -> str:
    failed = [f"{slug}: {line}" for slug, t in sorted(result.tenants.items())
              for line in t.failed]
    if lock is not None:
        return (f"stack {opts.stack_name} is locked by another run ({lock}); wait for it to "
                "end (--lock-wait SECONDS waits) or, if that run died, "
                f"`pulumi cancel -s {opts.stack_name}`")
    if result.violations:
        return f"{len(result.violations)} mandatory policy violation(s) blocked the {op}"
    if failed:
        return f"{len(failed)} resource error(s); first: {failed[0]}"
    return _first_error(str(exc))


def _read_outputs(settings: Settings, opts: RunOptions, workspace: Any) -> dict[str, Any]:
    """The stack's outputs as the backend holds them (secrets as None); none for a stack
    the backend lacks."""
    from pulumi import automation as auto

    try:
        outputs = workspace.stack_outputs(opts.stack_name)
    except auto.errors.StackNotFoundError:
        return {}
    except auto.errors.CommandError as exc:
        raise _stack_error(settings, opts, workspace, exc) from None
    return {k: (None if v.secret else v.value) for k, v in outputs.items()}


def _unprotect(settings: Settings, opts: RunOptions, workspace: Any,
               env: dict[str, str]) -> None:
    """Before a deliberate destroy: lift `protect` from the resources it will delete."""
    from pulumi import automation as auto

    try:
        resources = workspace.export_stack(opts.stack_name).deployment.get("resources") or []
    except auto.errors.StackNotFoundError:
        return  # a stack the backend lacks: the destroy makes it and finds nothing
    wanted = set(opts.tenants)
    urns = [r["urn"] for r in resources if r.get("protect") and
            (not wanted or tenant_of(r["urn"]) in wanted)]
    for urn in urns:
        workspace.pulumi_command.run(["state", "unprotect", urn, "--yes", "--stack",
                                      opts.stack_name], workspace.work_dir, env)


def save(settings: Settings, result: EngineRun, tenants: list[str]) -> None:
    """Per-tenant results (pulumi.preview / pulumi.outputs / pulumi.drift) and, for changes,
    the audit log."""
    if result.op == "drift":
        community: dict[str, Any] = {"backend": result.backend}
        if not tenants:  # the shared stack: its drift is the community's
            community["shared"] = {"ok": result.ok, "stack": result.stack,
                                   "error": result.error, "drift": result.drift}
        results.save(settings, "pulumi.drift", {
            "community": community,
            "tenants": {slug: {"ok": result.ok, "stack": result.stack, "error": result.error,
                               "drift": [d for d in result.drift if d["tenant"] == slug]}
                        for slug in tenants}})
        return
    kind = "pulumi.preview" if result.op == "preview" else "pulumi.outputs"
    tenant_outputs = result.outputs.get("tenants") or {}
    payload: dict[str, Any] = {"community": {"stack": result.stack.partition(".")[0],
                                             "backend": result.backend},
                               "tenants": {}}
    for slug in tenants:
        t = result.tenants.get(slug, TenantSummary())
        entry = {"ok": result.ok and not t.failed and not t.violations, "stack": result.stack,
                 "resources": t.create + t.update + t.replace + t.same,
                 "changes": {"create": t.create, "update": t.update + t.replace,
                             "delete": t.delete, "same": t.same},
                 "violations": t.violations, "exempted": t.exempted}
        if result.op != "preview":
            entry["outputs"] = tenant_outputs.get(slug) or {}
        payload["tenants"][slug] = entry
    results.save(settings, kind, payload)
    if result.op == "preview":
        return
    for slug in tenants:
        t = result.tenants.get(slug)
        if t is None or not (t.changes or t.failed):
            continue
        audit.record(settings.audit_log, command=f"platform {result.op}", tenant=slug,
                     target=f"pulumi:{result.stack}",
                     change={"create": t.create, "update": t.update, "replace": t.replace,
                             "delete": t.delete},
                     result="applied" if result.ok and not t.failed else "failed",
                     backend=result.backend)
