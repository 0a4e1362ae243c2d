"""JSON Schemas for editors (yaml-language-server) and reviewers."""

from __future__ import annotations

import json
from pathlib import Path

from faellesdrift.model import Standards, Tenant

SCHEMAS = {"tenant.schema.json": Tenant, "standards.schema.json": Standards}


def write_schemas(target: Path) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in SCHEMAS.items():
        schema = model.model_json_schema(by_alias=True)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        path = target / name
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
