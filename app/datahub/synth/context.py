"""What every generator of the synthetic city shares: the seed, the extraction date, the dirty
share and city-wide running serial numbers (certificate and registration numbers).

Random streams are derived from (seed, chunk, stream name), so each dataset draws from its own
stream and changing how one dataset is generated leaves the others' numbers alone.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from app.datahub.synth.dates import Ints, day_number


@dataclass
class CityContext:
    seed: int
    as_of: date
    dirty_share: float
    serials: dict[str, int] = field(default_factory=dict)

    @property
    def end(self) -> int:
        """Day number of the extraction date: every record is dated before it."""
        return day_number(self.as_of)

    def rng(self, chunk: int, stream: str) -> np.random.Generator:
        return np.random.default_rng([self.seed % 2**63, chunk, zlib.crc32(stream.encode())])

    def take(self, name: str, count: int) -> Ints:
        """``count`` consecutive city-wide serial numbers of the series ``name``, from 1."""
        first = self.serials.get(name, 0) + 1
        self.serials[name] = first + count - 1
        return np.arange(first, first + count, dtype=np.int64)
