"""Writing the synthetic city: one UTF-8 CSV per catalog dataset, appended chunk by chunk, and
``_manifest.json`` listing rows written and every deliberately dirty row.

``dataset_frame`` turns generated columns into a frame in the catalog's column order, with
``source_dept`` and ``as_of`` filled in. What the columns hold is decided elsewhere.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
import polars as pl

from app.datahub.catalog import DATASETS, DatasetSpec

MANIFEST_NAME = "_manifest.json"


def dataset_frame(
    spec: DatasetSpec, as_of: date, columns: dict[str, Any], source_dept: Any = None
) -> pl.DataFrame:
    """A frame with ``spec.all_fields`` as string columns, in order. ``columns`` maps field
    names to Series or arrays (missing optional fields become null); ``source_dept`` defaults to
    the dataset's only department."""
    if source_dept is None:
        (department,) = spec.departments
        source_dept = department.value
    size = len(next(iter(columns.values()))) if columns else 0
    values = {**columns, "source_dept": source_dept, "as_of": as_of.isoformat()}
    series: list[pl.Series] = []
    for field in spec.all_fields:
        value = values.get(field.name)
        if value is None:
            if field.required:
                raise ValueError(f"{spec.name}.{field.name} is required")
            series.append(pl.Series(field.name, [None] * size, dtype=pl.String))
        elif isinstance(value, str):
            series.append(pl.Series(field.name, [value]).extend_constant(value, size - 1)
                          if size else pl.Series(field.name, [], dtype=pl.String))
        else:
            series.append(pl.Series(field.name, value).cast(pl.String))
    return pl.DataFrame(series)


class CityWriter:
    """Appends chunks to ``<dataset>.csv`` files and remembers dirty rows for the manifest.

    Memory is the open files plus two small integer arrays per chunk of dirty rows."""

    def __init__(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.out_dir = out_dir
        self.rows: dict[str, int] = {spec.name: 0 for spec in DATASETS}
        self._files: dict[str, IO[bytes]] = {}
        self._dirty: dict[str, list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]] = {
            spec.name: [] for spec in DATASETS
        }
        self._kinds: list[str] = []
        for spec in DATASETS:
            handle = (out_dir / f"{spec.name}.csv").open("wb")
            handle.write((",".join(f.name for f in spec.all_fields) + "\n").encode())
            self._files[spec.name] = handle

    def append(
        self, spec: DatasetSpec, frame: pl.DataFrame, dirty_positions: npt.NDArray[np.int64],
        dirty_kinds: list[str],
    ) -> None:
        """Write ``frame`` (rows in file order); ``dirty_positions`` index its dirty rows."""
        expected = [f.name for f in spec.all_fields]
        if frame.columns != expected:
            raise ValueError(f"{spec.name}: columns {frame.columns} != {expected}")
        if frame.height:
            frame.write_csv(self._files[spec.name], include_header=False)
        kind_ids = np.array([self._kind_id(kind) for kind in dirty_kinds], dtype=np.int64)
        rows = self.rows[spec.name] + 1 + np.asarray(dirty_positions, dtype=np.int64)
        if rows.size:
            self._dirty[spec.name].append((rows, kind_ids))
        self.rows[spec.name] += frame.height

    def _kind_id(self, kind: str) -> int:
        if kind not in self._kinds:
            self._kinds.append(kind)
        return self._kinds.index(kind)

    def dirty_count(self) -> int:
        return sum(rows.size for parts in self._dirty.values() for rows, _ in parts)

    def close(self, header: dict[str, Any]) -> None:
        """Close the CSVs and write ``_manifest.json`` (deterministic: no timings in it),
        streaming the dirty-row list in batches."""
        for handle in self._files.values():
            handle.close()
        datasets = {
            name: {"file": f"{name}.csv", "rows": self.rows[name],
                   "dirty_rows": sum(rows.size for rows, _ in parts)}
            for name, parts in self._dirty.items()
        }
        head = json.dumps({**header, "datasets": datasets}, ensure_ascii=False, indent=2)
        separator = "\n    "
        with (self.out_dir / MANIFEST_NAME).open("w", encoding="utf-8") as manifest:
            manifest.write(head[:-2] + ',\n  "dirty_rows": [')
            for name, parts in self._dirty.items():
                for rows, kinds in parts:
                    manifest.write(separator + ",\n    ".join(
                        f'{{"dataset": "{name}", "row_number": {row}, '
                        f'"kind": "{self._kinds[kind]}"}}'
                        for row, kind in zip(rows.tolist(), kinds.tolist(), strict=True)
                    ))
                    separator = ",\n    "
            manifest.write("\n  ]\n}\n")
