"""``docs/data-catalog.md`` is generated from the catalog and committed up to date."""

from __future__ import annotations

from pathlib import Path

from app.datahub.catalog import DATASETS
from app.datahub.catalog_doc import DOC_PATH, render_catalog

ROOT = Path(__file__).resolve().parent.parent


def test_committed_catalog_document_is_up_to_date() -> None:
    committed = (ROOT / DOC_PATH).read_text(encoding="utf-8")
    assert committed == render_catalog(), "run `mianshen data catalog` and commit the result"


def test_document_covers_every_dataset_and_field_with_its_storage() -> None:
    document = render_catalog()
    for spec in DATASETS:
        assert f"### `{spec.name}` — {spec.zh}" in document
        for field in spec.all_fields:
            assert f"| `{field.name}` | {field.type.value} | {field.zh} |" in document
    assert "| `id_number` | id_number | 公民身份号码 | yes |" in document
    assert "pseudonymous key `mother_key`; value encrypted in `pii`" in document
    assert "blind index `mobile_index`; value encrypted in `pii`" in document
    assert "| 法定代表人/经营者姓名 | yes | text | encrypted only (`pii`) |" in document
    assert "must be held in `enterprise.uscc`" in document
