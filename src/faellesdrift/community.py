"""A community on disk: one standards file plus one YAML file per tenant."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from faellesdrift.findings import Finding
from faellesdrift.loader import Document, read_document, validate_document
from faellesdrift.model import Standards, Tenant

STANDARDS_FILE = "community.yaml"
TENANTS_DIR = "tenants"


@dataclass(frozen=True)
class TenantSource:
    tenant: Tenant
    doc: Document

    @property
    def file(self) -> str:
        return self.doc.display

    def line(self, *loc: str | int) -> int | None:
        return self.doc.line_of(loc)


@dataclass(frozen=True)
class Community:
    """Parsed, schema-valid files, before the cross-tenant guardrails ran."""

    root: Path
    standards: Standards
    standards_doc: Document
    sources: tuple[TenantSource, ...]


def tenant_files(root: Path) -> list[Path]:
    return sorted((root / TENANTS_DIR).glob("*.y*ml"))


def _display(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _no_tenants(root: Path) -> Finding:
    where = root / TENANTS_DIR
    why = ("is not a readable directory" if not where.is_dir() or not os.access(where, os.R_OK | os.X_OK)
           else "holds no tenant files")
    return Finding(rule="community.no-tenants", severity="error", file=f"{TENANTS_DIR}/",
                   message=f"{TENANTS_DIR}/ {why}",
                   fix="add a municipality with `faellesdrift tenant new CODE --population N`")


def load_community(root: Path, files: list[Path] | None = None
                   ) -> tuple[Community | None, list[Finding]]:
    """Parse the standards and the tenant files. Findings cover YAML and schema errors."""
    findings: list[Finding] = []
    std_path = root / STANDARDS_FILE
    std_doc = read_document(std_path, _display(root, std_path))
    if isinstance(std_doc, Finding):
        return None, [std_doc]
    standards, errs = validate_document(std_doc, Standards)
    findings += errs
    sources = []
    if files is None:
        files = tenant_files(root)
        if not files:
            findings.append(_no_tenants(root))
    for path in files:
        doc = read_document(path, _display(root, path))
        if isinstance(doc, Finding):
            findings.append(doc)
            continue
        tenant, errs = validate_document(doc, Tenant)
        findings += errs
        if tenant is not None:
            sources.append(TenantSource(tenant, doc))
    if standards is None:
        return None, findings
    return Community(root, standards, std_doc, tuple(sources)), findings
