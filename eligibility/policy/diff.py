"""What changed between two versions of a policy, section by section: metadata, parameters
(each dated value), definitions, conditions, decision-table rules, benefit, triggers, process,
notification and test cases. Compares the validated documents, so formatting does not count."""

from __future__ import annotations

import json
from typing import Any

from eligibility.policy.compile import CompiledPolicy
from eligibility.schemas import DiffEntry, PolicyDiff


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _compare(section: str, old: dict[str, Any], new: dict[str, Any]) -> list[DiffEntry]:
    entries = []
    for key in sorted(set(old) | set(new), key=str):
        if key not in new:
            entries.append(
                DiffEntry(section=section, item=str(key), change="removed", old=_text(old[key]))
            )
        elif key not in old:
            entries.append(
                DiffEntry(section=section, item=str(key), change="added", new=_text(new[key]))
            )
        elif old[key] != new[key]:
            entries.append(
                DiffEntry(
                    section=section,
                    item=str(key),
                    change="changed",
                    old=_text(old[key]),
                    new=_text(new[key]),
                )
            )
    return entries


def diff_policies(old: CompiledPolicy, new: CompiledPolicy) -> PolicyDiff:
    a = old.document.model_dump(mode="json", by_alias=True)
    b = new.document.model_dump(mode="json", by_alias=True)
    entries: list[DiffEntry] = []
    top = (
        "id",
        "title",
        "title_en",
        "legal_basis",
        "issuing_department",
        "subject",
        "effective",
        "metadata",
        "eligible",
        "triggers",
        "process",
        "notification",
    )
    entries += _compare("policy", {k: a[k] for k in top}, {k: b[k] for k in top})
    for name in sorted(set(a["parameters"]) | set(b["parameters"])):
        pa, pb = a["parameters"].get(name), b["parameters"].get(name)
        if pa is None or pb is None:
            entries += _compare("parameters", {name: pa} if pa else {}, {name: pb} if pb else {})
            continue
        va = {v["from"]: v["value"] for v in pa["values"]}
        vb = {v["from"]: v["value"] for v in pb["values"]}
        entries += _compare(f"parameters.{name}", va, vb)
        rest_a = {k: v for k, v in pa.items() if k != "values"}
        rest_b = {k: v for k, v in pb.items() if k != "values"}
        entries += _compare(f"parameters.{name}", rest_a, rest_b)
    entries += _compare("definitions", a["definitions"], b["definitions"])
    entries += _compare(
        "conditions",
        {c["name"]: c for c in a["conditions"]},
        {c["name"]: c for c in b["conditions"]},
    )
    for name in sorted(set(a["decision_tables"]) | set(b["decision_tables"])):
        ta, tb = a["decision_tables"].get(name), b["decision_tables"].get(name)
        if ta is None or tb is None:
            entries += _compare(
                "decision_tables", {name: ta} if ta else {}, {name: tb} if tb else {}
            )
            continue
        ra = {str(i + 1): r for i, r in enumerate(ta["rules"])}
        rb = {str(i + 1): r for i, r in enumerate(tb["rules"])}
        entries += _compare(f"decision_tables.{name}.rules", ra, rb)
        entries += _compare(
            f"decision_tables.{name}",
            {k: v for k, v in ta.items() if k != "rules"},
            {k: v for k, v in tb.items() if k != "rules"},
        )
    entries += _compare("benefit", a["benefit"], b["benefit"])
    entries += _compare(
        "tests", {t["name"]: t for t in a["tests"]}, {t["name"]: t for t in b["tests"]}
    )
    return PolicyDiff(
        old_id=old.id,
        new_id=new.id,
        old_version=old.version,
        new_version=new.version,
        entries=entries,
    )
