"""Validation of a batch of raw rows (all strings) against a catalog ``DatasetSpec``, in Polars.

``validate`` splits a batch into typed valid rows and rejected rows, each rejected row with a
clear English reason naming the field and what is wrong with the value (ID numbers and mobiles
only ever masked, names and addresses never quoted). Rules: required fields, formats of every
field type (``checks``), enums, ranges, source departments, the identity consistency of a
person's ID number with the row's birth date and sex, references to other datasets (through a
caller-supplied lookup, so no database access here) and duplicates of the natural key within a
file (first accepted row wins; ``SeenKeys`` carries keys across batches).

There is no per-row Python: every rule is a Polars expression over the whole batch. Reading
files lives in ``reader``, storage encoding and writing in ``service`` / ``repository``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl
from sqlalchemy import BigInteger

from app.datahub import checks
from app.datahub.catalog import DatasetSpec, FieldSpec, FieldType
from app.datahub.models import DATASET_MODELS
from app.datahub.regions import BIRTHPLACE_CODES, REGIONS

ROW = "_row"  # 1-based data row number in the file
PROBLEM = "_problem"  # a problem found while reading the row (e.g. too many fields)
EXTRA = "_extra"  # what the reader could not place in a field, kept for the quarantine
REASON = "_reason"

# (ID number, birth date, sex) fields that must agree with each other.
IDENTITY_FIELDS: dict[str, tuple[str, str, str]] = {
    "person": ("id_number", "birth_date", "sex"),
    "birth_certificate": ("child_id_number", "birth_date", "child_sex"),
}

# A region field (户籍, registration, move) takes today's codes; an ID number may also start
# with a former code of its holder's birthplace.
CURRENT_REGIONS = tuple(code for code in REGIONS if code not in BIRTHPLACE_CODES)
ID_NUMBER_REGIONS = tuple(REGIONS)

ReferenceLookup = Callable[[str, pl.Series], pl.Series]
"""``(ref, values) -> held``: for a ``ref`` like ``"enterprise.uscc"`` and normalised values,
a boolean Series telling which are held (stored, or loaded earlier in the same import)."""


@dataclass(frozen=True)
class Validated:
    valid: pl.DataFrame  # ROW and every field, typed (dates as Date, ints as Int64)
    rejected: pl.DataFrame  # REASON, ROW, every field exactly as read, and EXTRA if read


class SeenKeys:
    """Natural keys accepted from earlier batches of one file, with their row numbers, kept as
    64-bit hashes (16 bytes a row: bounded memory at 10M rows)."""

    def __init__(self) -> None:
        self._frame = pl.DataFrame(schema={"_key_hash": pl.UInt64, "_first_row": pl.Int64})

    def earlier_rows(self, hashes: pl.DataFrame) -> pl.DataFrame:
        """``hashes`` has ``_key_hash``; adds ``_first_row`` (null when unseen)."""
        return hashes.join(self._frame, on="_key_hash", how="left", maintain_order="left")

    def add(self, hashes: pl.Series, rows: pl.Series) -> None:
        new = pl.DataFrame({"_key_hash": hashes, "_first_row": rows.cast(pl.Int64)})
        self._frame = pl.concat([self._frame, new], rechunk=False)

    def __len__(self) -> int:
        return self._frame.height


def validate(
    raw: pl.DataFrame,
    spec: DatasetSpec,
    *,
    references: ReferenceLookup | None = None,
    seen: SeenKeys | None = None,
) -> Validated:
    """Check every row of ``raw`` (columns: ``ROW``, optional ``PROBLEM``, every field of
    ``spec`` as strings) and split it into valid and rejected rows.

    Two passes keep it cheap: boolean rules over every row, then reason texts (masks, quoted
    values) only for the rows that broke a rule."""
    raw = _with_all_fields(raw, spec)
    problem = [pl.col(PROBLEM)] if PROBLEM in raw.columns else []
    frame = raw.select(pl.col(ROW), *problem, *(_normalised(field) for field in spec.all_fields))
    frame = frame.with_columns(_typed(field).alias(_typed_name(field)) for field in _parsed(spec))
    rules = {field.name: _field_rules(spec, field) for field in spec.all_fields}
    rules["identity"] = _identity_rules(spec)
    flags = [rule.broken.fill_null(False) for field_rules in rules.values() for rule in field_rules]
    flags += [pl.col(PROBLEM).is_not_null()] if problem else []
    frame = frame.with_columns(pl.any_horizontal(flags).alias("_broken"))
    reason = _joined([*problem, *(_first_reason(r) for r in rules.values())])
    if problem:  # a row that could not be read at all gets only that reason
        unread = pl.col(PROBLEM).is_not_null() & pl.all_horizontal(
            pl.col(name).is_null() for name in _names(spec)
        )
        reason = pl.when(unread).then(pl.col(PROBLEM)).otherwise(reason)
    reasons = frame.filter(pl.col("_broken")).select(pl.col(ROW), reason.alias(REASON))
    frame = frame.join(reasons, on=ROW, how="left", maintain_order="left")
    if references is not None:
        frame = _check_references(frame, spec, references)
    frame = _check_duplicates(frame, spec, seen if seen is not None else SeenKeys())
    typed = frame.filter(pl.col(REASON).is_null()).select(
        pl.col(ROW),
        *(pl.col(_typed_name(f)).alias(f.name) if f in _parsed(spec) else pl.col(f.name)
          for f in spec.all_fields),
    )
    kept = [ROW, *_names(spec), *([EXTRA] if EXTRA in raw.columns else [])]
    rejected = raw.select(kept).with_columns(frame.get_column(REASON))
    rejected = rejected.filter(pl.col(REASON).is_not_null()).select(REASON, *kept)
    return Validated(valid=typed, rejected=rejected)


@dataclass(frozen=True)
class _Rule:
    broken: pl.Expr  # true where the rule is broken (null: not broken)
    reason: pl.Expr  # the English reason, only evaluated for rows that broke some rule
    # Reported only where this also holds; lets ``broken`` stay cheap where another rule of
    # the row is broken anyway whenever the guard is false.
    guard: pl.Expr | None = None

    @property
    def reported(self) -> pl.Expr:
        return self.broken if self.guard is None else self.broken & self.guard


def _names(spec: DatasetSpec) -> list[str]:
    return [field.name for field in spec.all_fields]


PARSED_TYPES = (FieldType.DATE, FieldType.INT, FieldType.MONEY)


def _parsed(spec: DatasetSpec) -> list[FieldSpec]:
    return [field for field in spec.all_fields if field.type in PARSED_TYPES]


def _typed_name(field: FieldSpec) -> str:
    return f"_typed_{field.name}"


def _with_all_fields(raw: pl.DataFrame, spec: DatasetSpec) -> pl.DataFrame:
    missing = [pl.lit(None, pl.String).alias(n) for n in _names(spec) if n not in raw.columns]
    raw = raw.with_columns(missing) if missing else raw
    return raw.with_columns(pl.col(_names(spec)).cast(pl.String), pl.col(ROW).cast(pl.Int64))


def _normalised(field: FieldSpec) -> pl.Expr:
    value = pl.col(field.name).str.strip_chars()
    value = pl.when(value.str.len_bytes() > 0).then(value)
    if field.type is FieldType.ID_NUMBER:
        value = checks.normalise_id_number(value)
    elif field.type is FieldType.USCC:
        value = checks.normalise_uscc(value)
    return value.alias(field.name)


def _typed(field: FieldSpec) -> pl.Expr:
    value = pl.col(field.name)
    if field.type is FieldType.DATE:
        return checks.parse_date(value)
    return checks.parse_integer(value)


def _joined(reasons: Sequence[pl.Expr]) -> pl.Expr:
    if not reasons:
        return pl.lit(None, pl.String)
    text = pl.concat_str(reasons, separator="; ", ignore_nulls=True)
    return pl.when(text.str.len_bytes() > 0).then(text)


def _first_reason(rules: list[_Rule]) -> pl.Expr:
    if not rules:
        return pl.lit(None, pl.String)
    chain = pl.when(rules[0].reported).then(rules[0].reason)
    for rule in rules[1:]:
        chain = chain.when(rule.reported).then(rule.reason)  # type: ignore[assignment]
    return chain.otherwise(pl.lit(None, pl.String))


def _say(*parts: str | pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])


def _shown(field: FieldSpec, value: pl.Expr) -> pl.Expr:
    """How a field's value may appear in a reason: masked, withheld or quoted."""
    if field.type is FieldType.ID_NUMBER:
        return checks.mask_id_number(value)
    if field.type is FieldType.MOBILE:
        return checks.mask_mobile(value)
    if field.personal_text:
        return pl.lit("(value withheld)")
    if field.type is FieldType.USCC:  # shown whole unless it looks like a misplaced ID number
        return pl.when(value.str.contains(checks.ID_NUMBER_PATTERN)).then(
            checks.mask_id_number(value)
        ).otherwise(pl.concat_str([pl.lit('"'), value.str.slice(0, 40), pl.lit('"')]))
    return checks.echo(value)


def _max_length(spec: DatasetSpec, field: FieldSpec) -> int | None:
    column = field.storage_column
    table = DATASET_MODELS[spec.name].__table__  # type: ignore[attr-defined]
    if column is None or column not in table.c:
        return None
    length: int | None = getattr(table.c[column].type, "length", None)
    return length


def _field_rules(spec: DatasetSpec, field: FieldSpec) -> list[_Rule]:
    value = pl.col(field.name)
    missing = [_Rule(value.is_null(), pl.lit(f"{field.name}: required value missing"))]
    return (missing if field.required else []) + _value_rules(spec, field, value)


def _value_rules(spec: DatasetSpec, field: FieldSpec, value: pl.Expr) -> list[_Rule]:
    """Rules on a present value, in the order they are reported (first broken one wins)."""
    name, shown, kind = field.name, _shown(field, value), field.type
    if kind is FieldType.ID_NUMBER:
        return _id_number_rules(name, value, shown)
    if kind is FieldType.USCC:
        return [
            _Rule(~value.str.contains(checks.USCC_PATTERN),
                  _say(f"{name}: not a unified social credit code (18 characters of the "
                       "GB 32100 alphabet): ", shown)),
            _Rule(~checks.uscc_checksum_ok(value),
                  _say(f"{name}: check character does not match (GB 32100): ", shown)),
        ]
    if kind is FieldType.REGION:
        return [_Rule(~value.is_in(CURRENT_REGIONS),
                      _say(f"{name}: unknown region code (GB/T 2260): ", shown))]
    if kind is FieldType.DATE:
        return [_Rule(pl.col(_typed_name(field)).is_null() & value.is_not_null(),
                      _say(f"{name}: not a valid ISO date (YYYY-MM-DD, years "
                           f"{checks.EARLIEST_YEAR}-{checks.LATEST_YEAR}): ", shown))]
    if kind is FieldType.PERIOD:
        return [_Rule(~checks.is_period(value),
                      _say(f"{name}: not a valid period (YYYY-MM): ", shown))]
    if kind is FieldType.MOBILE:
        return [_Rule(~value.str.contains(checks.MOBILE_PATTERN),
                      _say(f"{name}: not a mainland mobile number (11 digits starting 13-19): ",
                           shown))]
    if kind is FieldType.ENUM:
        allowed = ", ".join(field.values)
        text = (f" is not a source department of {spec.name} (allowed: {allowed})"
                if name == "source_dept" else f" is not one of {allowed}")
        return [_Rule(~value.is_in(list(field.values)), _say(f"{name}: ", shown, text))]
    if kind in (FieldType.INT, FieldType.MONEY):
        return _number_rules(field, spec, value, shown)
    limit = _max_length(spec, field)
    if limit is None:
        return []
    return [_Rule(value.str.len_chars() > limit,
                  pl.lit(f"{name}: longer than {limit} characters"))]


def _id_number_rules(name: str, value: pl.Expr, shown: pl.Expr) -> list[_Rule]:
    return [
        _Rule(~value.str.contains(checks.ID_NUMBER_PATTERN),
              _say(f"{name}: not a resident ID number (18 characters: 17 digits, then a digit "
                   "or X): ", shown)),
        _Rule(~checks.id_number_checksum_ok(value),
              _say(f"{name}: check character does not match (GB 11643, ISO 7064 MOD 11-2): ",
                   shown)),
        _Rule(checks.id_number_birth_date(value).is_null() & value.is_not_null(),
              _say(f"{name}: the birth date inside the number is not a valid date: ", shown)),
        _Rule(~value.str.slice(0, 6).is_in(ID_NUMBER_REGIONS),
              _say(f"{name}: unknown region code ", value.str.slice(0, 6),
                   " in the first 6 digits (GB/T 2260): ", shown)),
    ]


def _number_rules(field: FieldSpec, spec: DatasetSpec, value: pl.Expr, shown: pl.Expr
                  ) -> list[_Rule]:
    name, number = field.name, pl.col(_typed_name(field))
    what = "a whole number of fen" if field.type is FieldType.MONEY else "an integer"
    rules = [_Rule(number.is_null() & value.is_not_null(), _say(f"{name}: not {what}: ", shown))]
    lowest, highest = _storage_range(spec, field)
    minimum = lowest if field.minimum is None else max(field.minimum, lowest)
    maximum = highest if field.maximum is None else min(field.maximum, highest)
    rules.append(_Rule(number < minimum, _say(
        f"{name}: ", number.cast(pl.String), f" is below the minimum {minimum}")))
    rules.append(_Rule(number > maximum, _say(
        f"{name}: ", number.cast(pl.String), f" is above the maximum {maximum}")))
    return rules


def _storage_range(spec: DatasetSpec, field: FieldSpec) -> tuple[int, int]:
    """What the storage column holds: 32 bits unless it is a BIGINT."""
    table = DATASET_MODELS[spec.name].__table__  # type: ignore[attr-defined]
    if isinstance(table.c[field.name].type, BigInteger):
        return -(2**63), 2**63 - 1
    return -(2**31), 2**31 - 1


def _identity_rules(spec: DatasetSpec) -> list[_Rule]:
    """The birth date and sex encoded in the ID number must match the row's own fields."""
    if spec.name not in IDENTITY_FIELDS:
        return []
    id_field, date_field, sex_field = IDENTITY_FIELDS[spec.name]
    number = pl.col(id_field)
    number_ok = checks.id_number_is_valid(number)  # else the ID number's own rule reports
    shown = checks.mask_id_number(number)
    stated_date = pl.col(f"_typed_{date_field}")
    stated_sex = pl.col(sex_field)
    return [
        _Rule(checks.id_number_birth_date(number) != stated_date,
              _say(f"{date_field}: ", pl.col(date_field),
                   f" disagrees with the birth date in {id_field} ", shown), guard=number_ok),
        _Rule(stated_sex.is_in(["M", "F"]) & (checks.id_number_sex(number) != stated_sex),
              _say(f"{sex_field}: ", stated_sex, f" disagrees with {id_field} ", shown,
                   " (17th digit odd = M, even = F)"), guard=number_ok),
    ]


def _check_references(
    frame: pl.DataFrame, spec: DatasetSpec, references: ReferenceLookup
) -> pl.DataFrame:
    for field in spec.all_fields:
        if field.ref is None:
            continue
        candidates = frame.filter(pl.col(REASON).is_null() & pl.col(field.name).is_not_null())
        if candidates.is_empty():
            continue
        held = references(field.ref, candidates.get_column(field.name))
        unknown = candidates.filter(~held).get_column(ROW)
        target = field.ref.split(".", 1)[0]
        reason = _say(f"{field.name}: no {target} with this value is held or in this import: ",
                      _shown(field, pl.col(field.name)))
        frame = frame.with_columns(
            pl.when(pl.col(ROW).is_in(unknown.implode())).then(reason).otherwise(pl.col(REASON))
            .alias(REASON)
        )
    return frame


def _check_duplicates(frame: pl.DataFrame, spec: DatasetSpec, seen: SeenKeys) -> pl.DataFrame:
    """Later rows with the natural key of an accepted row are duplicates of its row number."""
    key = pl.concat_str(
        [pl.col(name).fill_null("\x00") for name in spec.key], separator="\x1f"
    )
    accepted = frame.filter(pl.col(REASON).is_null()).select(
        pl.col(ROW), key.hash(seed=0x5EED).alias("_key_hash")
    )
    accepted = seen.earlier_rows(accepted).with_columns(
        pl.coalesce(pl.col("_first_row"), pl.col(ROW).min().over("_key_hash")).alias("_original")
    )
    duplicates = accepted.filter(pl.col("_original") != pl.col(ROW))
    firsts = accepted.filter(pl.col("_original") == pl.col(ROW))
    seen.add(firsts.get_column("_key_hash"), firsts.get_column(ROW))
    if duplicates.is_empty():
        return frame
    reason = _say("duplicate of row ", pl.col("_original").cast(pl.String),
                  f" (same {', '.join(spec.key)})")
    marked = frame.join(
        duplicates.select(ROW, "_original"), on=ROW, how="left", maintain_order="left"
    )
    return marked.with_columns(
        pl.when(pl.col("_original").is_not_null()).then(reason).otherwise(pl.col(REASON))
        .alias(REASON)
    ).drop("_original")
