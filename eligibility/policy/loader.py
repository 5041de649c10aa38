"""Loading a policy file: YAML with positions → schema validation (pydantic) → compilation.

Every problem becomes an :class:`Issue` with line and column; :func:`load_text` raises
:class:`PolicyError` carrying all of them and never anything else for bad input. A policy's
version is the SHA-256 of its canonical content (the validated document as sorted, compact
JSON), so formatting and comments do not change it and any change of substance does.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pydantic

from eligibility.policy.compile import CompiledPolicy, compile_document
from eligibility.policy.model import PolicyDocument
from eligibility.policy.source import Issue, PolicyError, SourceDocument, read_source


def canonical_json(document: PolicyDocument) -> str:
    data = document.model_dump(mode="json", by_alias=True)
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def policy_version(document: PolicyDocument) -> str:
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def _schema_issues(error: pydantic.ValidationError, source: SourceDocument) -> list[Issue]:
    issues = []
    for item in error.errors()[:50]:
        loc = tuple(p for p in item["loc"] if isinstance(p, str | int))
        # pydantic appends union member names ("int", "str", ...) to a location; drop them
        path = tuple(p for p in loc if not (isinstance(p, str) and p in _UNION_TAGS))
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = f"unknown key {path[-1]!r}"
        elif item["type"] in ("too_long", "string_too_long"):
            message = f"too long (at most {item.get('ctx', {}).get('max_length', '?')})"
        elif item["type"] == "missing":
            message = f"missing required key {path[-1]!r}"
        issues.append(source.issue(message, path))
    return issues


_UNION_TAGS = frozenset({"int", "float", "str", "bool", "date", "list[...]", "dict[...]"})


def load_text(text: str, name: str = "<policy>") -> CompiledPolicy:
    """Parse, validate and compile a policy; raises :class:`PolicyError` listing every issue."""
    try:
        source = read_source(text)
    except PolicyError as error:
        raise PolicyError(error.issues, name) from None
    if not isinstance(source.data, dict):
        raise PolicyError([Issue("a policy is a mapping of keys (id, title, ...)", 1, 1)], name)
    try:
        document = PolicyDocument.model_validate(source.data)
    except pydantic.ValidationError as error:
        raise PolicyError(_schema_issues(error, source), name) from None
    try:
        compiled, issues = compile_document(document, policy_version(document), source)
    except RecursionError:
        raise PolicyError([Issue("policy too deeply nested", 1, 1)], name) from None
    if issues:
        raise PolicyError(issues, name)
    return compiled


def load_file(path: Path | str) -> CompiledPolicy:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError([Issue(f"cannot read: {error}")], str(path)) from None
    return load_text(text, str(path))


def validate_text(text: str, name: str = "<policy>") -> list[Issue]:
    try:
        load_text(text, name)
    except PolicyError as error:
        return error.issues
    return []


def policy_files(path: Path) -> list[Path]:
    """A file, or every ``*.yaml``/``*.yml`` under a folder, sorted."""
    if path.is_dir():
        return sorted([*path.rglob("*.yaml"), *path.rglob("*.yml")])
    return [path]


def json_schema() -> dict[str, object]:
    schema = PolicyDocument.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://mianshen.example/policy.schema.json"
    schema["title"] = "Mianshen policy document"
    return schema
