"""Benchmark: synthesise a city with all its datasets and print wall time, rows/s and peak RSS.

    .venv/bin/python benchmarks/synth_city.py                      # 1M persons, 100k enterprises
    .venv/bin/python benchmarks/synth_city.py --persons 10000000 --enterprises 1000000

Target (issue 2): 1M persons with all their datasets in ≤ 60 s on the 2-core machine, in memory
that does not grow with the city. The files go to a temporary directory that is removed after
the run unless ``--out`` is given.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.datahub.synth import generate_city  # noqa: E402


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="keep the city here (default: a temp dir)")
    args = parser.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="mianshen-synth-"))
    baseline = peak_rss_mib()
    started = perf_counter()
    try:
        report = generate_city(
            out, persons=args.persons, enterprises=args.enterprises, seed=args.seed
        )
        seconds = perf_counter() - started
        size = sum(p.stat().st_size for p in out.iterdir())
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    rows = sum(report.rows.values())
    for name, count in report.rows.items():
        print(f"  {name:<24} {count:>12,}")
    print(f"person rows {report.rows['person']:,}, enterprise rows {report.rows['enterprise']:,}, "
          f"rows {rows:,} ({report.dirty_rows:,} dirty), {size / 2**20:,.0f} MiB of CSV")
    print(f"wall {seconds:.1f} s, {rows / seconds:,.0f} rows/s, "
          f"{report.rows['person'] / seconds:,.0f} persons/s")
    print(f"peak RSS {peak_rss_mib():,.0f} MiB (after imports: {baseline:,.0f} MiB)")


if __name__ == "__main__":
    main()
