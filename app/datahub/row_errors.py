"""Per-row errors of a pushed batch, from the validation's English reasons: the field, a stable
English code and a Chinese message, and never the value (reasons quote masked or non-personal
values; an API answer carries none). One reason per broken field, as ``validation`` reports."""

from __future__ import annotations

import polars as pl

from app.datahub.catalog import DatasetSpec
from app.datahub.schemas import RowError
from app.datahub.validation import REASON, ROW

# (English fragment of a reason, code, Chinese message), first match wins.
CODES: tuple[tuple[str, str, str], ...] = (
    ("required value missing", "missing", "缺少必填值"),
    ("duplicate of row", "duplicate", "与本批前面的行重复(自然键相同)"),
    ("is held or in this import", "unknown_reference", "引用的记录不存在"),
    ("not the pushing key's department", "wrong_department", "来源部门与接口密钥所属部门不符"),
    ("is not a source department", "wrong_department", "不是该数据集的来源部门"),
    ("disagrees with", "inconsistent", "与身份证号码中的信息不一致"),
    ("below the minimum", "out_of_range", "数值低于下限"),
    ("above the maximum", "out_of_range", "数值高于上限"),
    ("check character does not match", "checksum", "校验位不正确"),
    ("unknown field", "unknown_field", "含有数据集未定义的字段"),
    ("not a single value", "not_scalar", "值应为字符串或数字"),
    ("contains a NUL character", "nul_character", "含有不允许的控制字符"),
    ("longer than", "too_long", "超过最大长度"),
    ("is not one of", "not_allowed", "不是允许的取值"),
    ("unknown region code", "unknown_region", "行政区划代码不存在"),
)


def row_errors(rejected: pl.DataFrame, spec: DatasetSpec) -> list[RowError]:
    """``rejected`` holds ``ROW`` (1-based position in the batch) and ``REASON``."""
    names = {field.name: field.zh for field in spec.all_fields}
    errors: list[RowError] = []
    for row, reason in rejected.select(ROW, REASON).iter_rows():
        for part in str(reason).split("; "):
            head = part.split(":", 1)[0].strip()
            field = head if head in names else "row"
            code, message = _classified(part)
            where = names.get(field, "整行")
            errors.append(RowError(index=row - 1, field=field, code=code,
                                   message=f"{where}:{message}"))
    return errors


def _classified(reason: str) -> tuple[str, str]:
    for fragment, code, message in CODES:
        if fragment in reason:
            return code, message
    return "invalid", "格式或取值不正确"
