"""Where synthetic people live and were born: 户籍 district weights, birthplace codes valid in the
year of birth, and street addresses.

Birthplace codes follow python-stdnum's GB/T 2260 history, which checks that an ID number's
region code existed in the birth year: a Chancheng resident born in 1990 carries 440602
(the former 城区), one born in 1960 carries 440600. People and their life events live elsewhere.
"""

from __future__ import annotations

from functools import cache, lru_cache

import numpy as np
import numpy.typing as npt
import polars as pl
from stdnum import numdb

from app.datahub.regions import FOSHAN_DISTRICTS, LOCAL_REGION, OTHER_REGIONS

FIRST_YEAR = 1900
LAST_YEAR = 2100

HUKOU_DISTRICTS: tuple[str, ...] = tuple(FOSHAN_DISTRICTS)
HUKOU_WEIGHTS = np.array([0.45, 0.20, 0.18, 0.09, 0.08])  # 禅城 first: the policies' district
assert HUKOU_DISTRICTS[0] == LOCAL_REGION

# Former codes of each district, newest first (see regions.BIRTHPLACE_CODES).
PREDECESSORS: dict[str, tuple[str, ...]] = {
    "440604": ("440602", "440603"),
    "440605": ("440682", "440622"),
    "440606": ("440681", "440623"),
    "440607": ("440683", "440621"),
    "440608": ("440684", "440624"),
}

# Homes of people born outside their 户籍 district: Foshan first, then the rest of Guangdong,
# then the provinces Foshan's migrants mostly come from.
HOMES: tuple[str, ...] = HUKOU_DISTRICTS + tuple(c for c in OTHER_REGIONS if c != "440600")
_GUANGDONG = [c for c in HOMES[5:] if c.startswith("44")]
_PROVINCES = [c for c in HOMES[5:] if not c.startswith("44")]
ELSEWHERE_WEIGHTS = np.concatenate([
    np.full(5, 0.25 / 5),
    np.full(len(_GUANGDONG), 0.45 / len(_GUANGDONG)),
    np.full(len(_PROVINCES), 0.30 / len(_PROVINCES)),
])


@cache
def _valid_years(code: str) -> npt.NDArray[np.bool_]:
    """Years (index ``year - FIRST_YEAR``) in which python-stdnum accepts ``code`` as the
    birthplace of an ID number: read from its GB/T 2260 history the way ``ric.get_birth_place``
    reads it (the tests check the result against ``ric.validate`` itself)."""
    valid = np.zeros(LAST_YEAR - FIRST_YEAR + 1, dtype=bool)
    props = {k: v for _, part in numdb.get("cn/loc").info(code) for k, v in part.items()}
    for county in props.get("county", "").split(","):
        if not county:
            continue
        if not county.startswith("["):
            valid[:] = True
            break
        start, end = county[1:].split("]")[0].split("-")
        first = int(start) - FIRST_YEAR if start else 0
        last = int(end) - FIRST_YEAR + 1 if end else valid.size
        valid[max(first, 0) : max(last, 0)] = True
    return valid


@lru_cache(maxsize=1)
def birthplace_table() -> tuple[tuple[str, ...], npt.NDArray[np.int16]]:
    """(codes, lookup): ``lookup[home, year - FIRST_YEAR]`` indexes ``codes`` with the code a
    person from ``HOMES[home]`` born that year carries, or is -1 when none existed."""
    chosen: list[list[str | None]] = []
    for home in HOMES:
        chain = (home, *PREDECESSORS.get(home, ()), home[:4] + "00", home[:2] + "0000")
        by_year: list[str | None] = [None] * (LAST_YEAR - FIRST_YEAR + 1)
        for code in reversed(chain):  # the newest code wins where several existed
            for year_index in np.flatnonzero(_valid_years(code)):
                by_year[year_index] = code
        chosen.append(by_year)
    codes = sorted({code for by_year in chosen for code in by_year if code is not None})
    position = {code: i for i, code in enumerate(codes)}
    lookup = np.array(
        [[-1 if code is None else position[code] for code in by_year] for by_year in chosen],
        dtype=np.int16,
    )
    return tuple(codes), lookup


def birthplace_codes(
    rng: np.random.Generator, home: npt.NDArray[np.int64], hukou: npt.NDArray[np.int64],
    birth_year: npt.NDArray[np.int64], born_elsewhere: npt.NDArray[np.bool_],
) -> npt.NDArray[np.int64]:
    """Index into ``birthplace_table()[0]`` of each person's ID-number region code.

    ``home`` indexes ``HOMES`` (usually the 户籍 district, or where a newcomer came from);
    people ``born_elsewhere`` get a home drawn from ``ELSEWHERE_WEIGHTS`` instead. Where a home
    had no code yet in the birth year, the 户籍 district's (``hukou``) code of that year is used."""
    _, lookup = birthplace_table()
    year_index = np.clip(birth_year, FIRST_YEAR, LAST_YEAR) - FIRST_YEAR
    home = home.copy()
    elsewhere = np.flatnonzero(born_elsewhere)
    home[elsewhere] = rng.choice(len(HOMES), size=elsewhere.size, p=ELSEWHERE_WEIGHTS)
    code = lookup[home, year_index].astype(np.int64)
    missing = code < 0
    code[missing] = lookup[hukou[missing], year_index[missing]]
    return code


def hukou_districts(rng: np.random.Generator, size: int) -> npt.NDArray[np.int64]:
    return rng.choice(len(HUKOU_DISTRICTS), size=size, p=HUKOU_WEIGHTS)


STREETS: dict[str, tuple[str, ...]] = {
    "440604": ("祖庙街道", "石湾镇街道", "张槎街道", "南庄镇"),
    "440605": ("桂城街道", "大沥镇", "里水镇", "狮山镇", "西樵镇", "九江镇", "丹灶镇"),
    "440606": ("大良街道", "容桂街道", "伦教街道", "勒流街道", "北滘镇", "陈村镇", "乐从镇",
               "龙江镇"),
    "440607": ("西南街道", "云东海街道", "白坭镇", "乐平镇", "芦苞镇"),
    "440608": ("荷城街道", "杨和镇", "明城镇", "更合镇"),
}
ROADS: dict[str, tuple[str, ...]] = {
    "440604": ("季华路", "汾江中路", "岭南大道", "绿景路", "文华北路", "普澜二路", "同济路",
               "人民路", "建新路", "卫国路", "朝安南路", "亲仁路", "祖庙路", "江湾一路", "惠景路"),
    "440605": ("南海大道", "桂澜路", "海八路", "灯湖东路", "大沥广佛路", "狮山大道", "平洲永安路"),
    "440606": ("德民路", "东乐路", "容奇大道", "桂畔路", "新城路", "碧桂路", "北滘林港路"),
    "440607": ("广海大道", "健力宝南路", "张边路", "西青大道", "三水大道"),
    "440608": ("沧江路", "文华路", "江湾路", "明湖路", "泰和路"),
}


def addresses(
    rng: np.random.Generator, hukou: npt.NDArray[np.int64], present: npt.NDArray[np.bool_]
) -> pl.Series:
    """Street addresses in each person's 户籍 district; null where not ``present``."""
    size = hukou.size
    street_index = np.empty(size, dtype=np.int64)
    road_index = np.empty(size, dtype=np.int64)
    streets: list[str] = []
    roads: list[str] = []
    for i, code in enumerate(HUKOU_DISTRICTS):
        members = hukou == i
        count = int(members.sum())
        street_index[members] = len(streets) + rng.integers(0, len(STREETS[code]), count)
        road_index[members] = len(roads) + rng.integers(0, len(ROADS[code]), count)
        streets.extend(STREETS[code])
        roads.extend(ROADS[code])
    frame = pl.DataFrame({
        "district": pl.Series([FOSHAN_DISTRICTS[c] for c in HUKOU_DISTRICTS]).gather(hukou),
        "street": pl.Series(streets).gather(street_index),
        "road": pl.Series(roads).gather(road_index),
        "number": rng.integers(1, 400, size),
        "building": rng.integers(1, 30, size),
        "room": rng.integers(1, 33, size) * 100 + rng.integers(1, 9, size),
        "present": present,
    })
    return frame.select(
        pl.when(pl.col("present")).then(pl.concat_str([
            "district", "street", "road", pl.col("number").cast(pl.String), pl.lit("号"),
            pl.col("building").cast(pl.String), pl.lit("座"), pl.col("room").cast(pl.String),
            pl.lit("房"),
        ]))
    ).to_series().alias("address")
