"""Evaluation views: what an expression can see about one subject, derived from the data catalog.

A subject kind (``person``, ``enterprise``, ``child``) has a *base* dataset with one row per
subject -- its fields are plain names in expressions (``birth_date``) -- and *relations*: related
datasets joined by a key column, reachable only through aggregates (``exists(death_record where
...)``). Personal fields (names, addresses, ID numbers, mobiles) are never part of a view; ID
numbers appear only as pseudonymous key columns. ``child`` is the view for benefits paid to a
guardian: one subject per birth certificate, with the mother and father reachable as relations.

Frames handed to the evaluator use the column names and Polars dtypes given here (a ``period``
is held as a month index, ``year * 12 + month - 1``). Nothing here reads data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import polars as pl

from app.datahub.catalog import DatasetSpec, FieldType, dataset
from eligibility.expr import types as t
from eligibility.expr.types import Kind, Type

SUBJECT_KINDS = ("person", "enterprise", "child")

# Display names of enum values in explanations (the data holds the English codes).
ENUM_ZH: dict[str, str] = {
    "active": "正常",
    "deceased": "死亡",
    "moved_out": "迁出",
    "cancelled": "注销",
    "M": "男",
    "F": "女",
    "dibao": "低保",
    "tekun": "特困",
    "low_income": "低收入",
    "micro": "微型",
    "small": "小型",
    "medium": "中型",
    "large": "大型",
    "enterprise": "企业",
    "individual_business": "个体工商户",
    "deregistered": "注销",
    "revoked": "吊销",
    "marriage": "结婚",
    "divorce": "离婚",
    "in": "迁入",
    "out": "迁出",
    "hospital": "医院",
    "police": "公安",
    "funeral_home": "殡葬",
}


@dataclass(frozen=True)
class ViewField:
    name: str
    type: Type
    zh: str
    column: str


@dataclass(frozen=True)
class Relation:
    name: str
    zh: str
    dataset: str  # catalog dataset whose frame holds the related rows
    related_columns: tuple[str, ...]  # a related row belongs to the subject through any of these
    subject_column: str  # ... matched against this column of the base frame
    fields: dict[str, ViewField]


@dataclass(frozen=True)
class SubjectView:
    kind: str
    base: str  # dataset of the base frame
    key: str  # column identifying the subject
    fields: dict[str, ViewField]
    relations: dict[str, Relation]
    key_columns: tuple[str, ...] = ()  # join columns of the base frame besides the key
    field_aliases: dict[str, str] = field(default_factory=dict)
    relation_aliases: dict[str, str] = field(default_factory=dict)

    def datasets(self) -> list[str]:
        return list(dict.fromkeys([self.base, *(r.dataset for r in self.relations.values())]))


def field_type(spec_type: FieldType, values: tuple[str, ...]) -> Type:
    return {
        FieldType.INT: t.INT,
        FieldType.MONEY: t.MONEY,
        FieldType.DATE: t.DATE,
        FieldType.PERIOD: t.PERIOD,
        FieldType.ENUM: t.enum(values),
        FieldType.STRING: t.STRING,
        FieldType.REGION: t.STRING,
        FieldType.USCC: t.STRING,
    }.get(spec_type, t.STRING)


def polars_dtype(type_: Type) -> pl.DataType:
    if type_.kind in (Kind.INT, Kind.MONEY, Kind.PERIOD):
        return pl.Int64()
    if type_.kind is Kind.DECIMAL:
        return pl.Float64()
    if type_.kind is Kind.DATE:
        return pl.Date()
    if type_.kind is Kind.BOOL:
        return pl.Boolean()
    return pl.String()


def visible_fields(spec: DatasetSpec) -> dict[str, ViewField]:
    """Fields an expression may read: everything but personal values and key columns."""
    out: dict[str, ViewField] = {}
    for f in spec.fields:
        if f.personal or f.type is FieldType.MOBILE:
            continue
        out[f.name] = ViewField(f.name, field_type(f.type, f.values), f.zh, f.name)
    return out


def key_columns(spec: DatasetSpec) -> list[str]:
    return [
        f.storage_column for f in spec.fields if f.type is FieldType.ID_NUMBER and f.storage_column
    ]


def frame_schema(name: str) -> dict[str, pl.DataType]:
    """Columns and dtypes of the frame of dataset ``name`` as the evaluator expects it."""
    spec = dataset(name)
    schema: dict[str, pl.DataType] = {col: pl.String() for col in key_columns(spec)}
    for f in visible_fields(spec).values():
        schema[f.column] = polars_dtype(f.type)
    if spec.name == "birth_certificate":
        schema["certificate_no"] = pl.String()
    schema["source_dept"] = pl.String()
    schema["as_of"] = pl.Date()
    return schema


def _relation(
    name: str,
    dataset_name: str,
    related: tuple[str, ...],
    subject_column: str,
    zh: str | None = None,
) -> Relation:
    spec = dataset(dataset_name)
    return Relation(
        name, zh or spec.zh, dataset_name, related, subject_column, visible_fields(spec)
    )


def _aliases(named: dict[str, str]) -> dict[str, str]:
    """Chinese label → name, keeping only labels that are identifiers and unambiguous."""
    counts: dict[str, int] = {}
    for zh in named.values():
        counts[zh] = counts.get(zh, 0) + 1
    return {
        zh: name
        for name, zh in named.items()
        if counts[zh] == 1 and zh.isidentifier() and not zh.isascii()
    }


def _view(
    kind: str,
    base: str,
    key: str,
    relations: list[Relation],
    extra_fields: tuple[str, ...] = (),
    extra_relation_aliases: dict[str, str] | None = None,
) -> SubjectView:
    spec = dataset(base)
    fields = visible_fields(spec)
    for column in extra_fields:  # key columns exposed for present(...) checks
        fields[column] = ViewField(column, t.STRING, column, column)
    rels = {r.name: r for r in relations}
    relation_aliases = _aliases({r.name: r.zh for r in relations})
    relation_aliases.update(extra_relation_aliases or {})
    return SubjectView(
        kind=kind,
        base=base,
        key=key,
        fields=fields,
        relations=rels,
        key_columns=tuple(c for c in key_columns(spec) if c != key),
        field_aliases=_aliases({f.name: f.zh for f in fields.values()}),
        relation_aliases=relation_aliases,
    )


@cache
def view(kind: str) -> SubjectView:
    if kind == "person":
        return _view(
            "person",
            "person",
            "subject_key",
            [
                _relation(
                    "death_record", "death_record", ("subject_key",), "subject_key", "死亡记录"
                ),
                _relation(
                    "disability_certificate",
                    "disability_certificate",
                    ("subject_key",),
                    "subject_key",
                ),
                _relation(
                    "social_assistance", "social_assistance", ("subject_key",), "subject_key"
                ),
                _relation(
                    "marriage_registration",
                    "marriage_registration",
                    ("party_a_key", "party_b_key"),
                    "subject_key",
                ),
                _relation(
                    "birth_certificate",
                    "birth_certificate",
                    ("mother_key", "father_key"),
                    "subject_key",
                    "子女出生医学证明",
                ),
                _relation(
                    "pregnancy_registration",
                    "pregnancy_registration",
                    ("subject_key",),
                    "subject_key",
                ),
                _relation("hukou_move", "hukou_move", ("subject_key",), "subject_key"),
                _relation("legacy_payment", "legacy_payment", ("subject_key",), "subject_key"),
            ],
        )
    if kind == "enterprise":
        return _view(
            "enterprise",
            "enterprise",
            "uscc",
            [
                _relation("ui_contribution", "ui_contribution", ("uscc",), "uscc"),
                _relation("dishonesty_entry", "dishonesty_entry", ("uscc",), "uscc"),
                _relation("tax_status", "tax_status", ("uscc",), "uscc"),
            ],
        )
    if kind == "child":
        return _view(
            "child",
            "birth_certificate",
            "certificate_no",
            [
                _relation("mother", "person", ("subject_key",), "mother_key", "母亲"),
                _relation("father", "person", ("subject_key",), "father_key", "父亲"),
                _relation("child", "person", ("subject_key",), "child_key", "婴幼儿户籍"),
                _relation(
                    "death_record", "death_record", ("subject_key",), "child_key", "死亡记录"
                ),
            ],
            extra_fields=("child_key", "mother_key", "father_key"),
        )
    raise KeyError(f"unknown subject kind {kind!r}; known: {', '.join(SUBJECT_KINDS)}")
