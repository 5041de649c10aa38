"""Renders ``docs/data-catalog.md`` from the data catalog, so the document cannot drift from the
schema the import validates against (a test compares the committed file with this output).

``mianshen data catalog`` writes it. The catalog itself lives in ``catalog``; the rules the
constraints describe are enforced in ``validation``.
"""

from __future__ import annotations

from app.datahub.catalog import DATASETS, DEPARTMENT_NAMES, DatasetSpec, FieldSpec, FieldType
from app.datahub.models import DATASET_MODELS
from app.datahub.validation import CURRENT_REGIONS, ID_NUMBER_REGIONS, IDENTITY_FIELDS

DOC_PATH = "docs/data-catalog.md"

ENGLISH_NAMES: dict[str, str] = {
    "person": "Population registry",
    "death_record": "Death records",
    "disability_certificate": "Disability certificates",
    "social_assistance": "Social-assistance recipients",
    "marriage_registration": "Marriage registrations",
    "birth_certificate": "Birth medical certificates",
    "pregnancy_registration": "Pregnancy registrations",
    "hukou_move": "Household-registration (hukou) moves",
    "legacy_payment": "Benefit payments by legacy systems",
    "enterprise": "Market entities: enterprises and individual businesses",
    "ui_contribution": "Unemployment-insurance contributions",
    "dishonesty_entry": "Serious-dishonesty list",
    "tax_status": "Tax status",
}

INTRODUCTION = f"""\
# Data catalog (数据目录)

Generated from `app/datahub/catalog.py` by `mianshen data catalog` — do not edit by hand; a
test fails when this file and the catalog disagree.

Each dataset is exchanged as one file named after it: `<dataset>.csv` (UTF-8, a header row
naming the fields; optional fields may be left out of the header) or `<dataset>.jsonl` (one
JSON object per line). `mianshen data import PATH` takes such a file or a directory of them
and loads the datasets in the order below, so references resolve within one import.

Every row is validated against its dataset: required fields, the format of each type, enums,
ranges, the source department, references to other datasets and duplicates of the natural key
within the file (the first row wins). A row that fails goes to the quarantine with its file,
row number and an English reason; its raw values are kept only encrypted. A row passes or
fails as a whole; the rest of the file loads. Values are trimmed; an empty value is missing.

Rows are stored one per natural key: importing a row again with the same content changes
nothing, a changed row is updated in place and its `updated_at` moves. Every stored row keeps
its `source_dept`, `as_of`, the import batch that last changed it and a keyed hash of its
content (`row_hash`).

**How personal data is stored.** No personal value has a plaintext column:

- *pseudonymous key*: an ID number is replaced by its keyed BLAKE2b blind index
  (`subject_key`, or `<role>_key` such as `mother_key`), the same for the same person in every
  dataset, so data joins without the number;
- *blind index*: a mobile number is stored as its keyed index (`mobile_index`) for exact
  lookup;
- *encrypted only*: all personal values of a row (ID numbers, names, addresses, mobiles) are
  kept together in one AES-256-GCM envelope, the `pii` column;
- *plain*: everything else is an ordinary column.

Regions are GB/T 2260 codes the platform knows (`app/datahub/regions.py`): a region field
takes one of today's {len(CURRENT_REGIONS)} codes; an ID number may also begin with a former
code of its holder's birthplace ({len(ID_NUMBER_REGIONS)} codes in all).
"""


def render_catalog() -> str:
    parts = [INTRODUCTION]
    parts.append("## Datasets\n")
    parts.append("| # | dataset | 中文名称 | English name | source department(s) | natural key |")
    parts.append("| --- | --- | --- | --- | --- | --- |")
    for number, spec in enumerate(DATASETS, start=1):
        parts.append(
            f"| {number} | [`{spec.name}`](#{spec.name}) | {spec.zh} | {ENGLISH_NAMES[spec.name]} "
            f"| {_departments(spec)} | {', '.join(f'`{k}`' for k in spec.key)} |"
        )
    parts.append("")
    for spec in DATASETS:
        parts.append(_dataset_section(spec))
    return "\n".join(parts).rstrip() + "\n"


def _departments(spec: DatasetSpec) -> str:
    return ", ".join(f"{DEPARTMENT_NAMES[d]} (`{d.value}`)" for d in spec.departments)


def _dataset_section(spec: DatasetSpec) -> str:
    lines = [
        f'<a id="{spec.name}"></a>',
        f"### `{spec.name}` — {spec.zh} ({ENGLISH_NAMES[spec.name]})",
        "",
    ]
    if spec.description:
        lines += [spec.description, ""]
    lines += [
        f"- Source department(s): {_departments(spec)}",
        f"- Data subject: {spec.subject}",
        f"- Natural key: {', '.join(f'`{k}`' for k in spec.key)} (one stored row per key)",
        f"- Stored in table `{spec.name}`",
        "",
        "| field | type | 中文 | required | constraints | stored as |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for field in spec.all_fields:
        lines.append(
            f"| `{field.name}` | {field.type.value} | {field.zh} | "
            f"{'yes' if field.required else 'no'} | {_constraints(spec, field)} | "
            f"{_storage(field)} |"
        )
    lines.append("")
    return "\n".join(lines)


def _constraints(spec: DatasetSpec, field: FieldSpec) -> str:
    kind = field.type
    notes: list[str] = []
    if kind is FieldType.ID_NUMBER:
        notes.append("GB 11643: 17 digits and a check character (ISO 7064 MOD 11-2, `X` = 10), "
                     "a valid birth date inside, first 6 digits a known (current or former) region")
        identity = IDENTITY_FIELDS.get(spec.name)
        if identity and identity[0] == field.name:
            notes.append(f"its birth date must equal `{identity[1]}` and its sex (17th digit "
                         f"odd = M) `{identity[2]}`")
    elif kind is FieldType.USCC:
        notes.append("GB 32100: 18 characters, check character over the first 17")
    elif kind is FieldType.REGION:
        notes.append("a current GB/T 2260 region code known to the platform")
    elif kind is FieldType.DATE:
        notes.append("ISO date `YYYY-MM-DD`, a real calendar date, years 1800–2199")
    elif kind is FieldType.PERIOD:
        notes.append("month `YYYY-MM`")
    elif kind is FieldType.MOBILE:
        notes.append("mainland mobile: 11 digits starting 13–19")
    elif kind is FieldType.ENUM:
        notes.append("one of " + ", ".join(f"`{v}`" for v in field.values))
    elif kind in (FieldType.INT, FieldType.MONEY):
        notes.append("whole number of fen (分), up to 15 digits" if kind is FieldType.MONEY
                     else "whole number (32-bit)")
    elif not field.personal:
        notes.append(f"text, at most {_length(spec, field)} characters")
    else:
        notes.append("text")
    if field.minimum is not None:
        notes.append(f"≥ {field.minimum}")
    if field.maximum is not None:
        notes.append(f"≤ {field.maximum}")
    if field.ref:
        notes.append(f"must be held in `{field.ref}` (or loaded earlier in the same import)")
    return "; ".join(notes)


def _length(spec: DatasetSpec, field: FieldSpec) -> int:
    table = DATASET_MODELS[spec.name].__table__  # type: ignore[attr-defined]
    return int(table.c[field.name].type.length)


def _storage(field: FieldSpec) -> str:
    if field.type is FieldType.ID_NUMBER:
        return f"pseudonymous key `{field.storage_column}`; value encrypted in `pii`"
    if field.type is FieldType.MOBILE:
        return "blind index `mobile_index`; value encrypted in `pii`"
    if field.personal_text:
        return "encrypted only (`pii`)"
    return f"plain `{field.name}`"
