"""Chinese names for synthetic people and enterprises, drawn vectorised from frequency tables.

Surnames follow a Guangdong-leaning frequency list (陈, 李, 黄, 张, 梁 … plus the migrants' 王, 刘,
杨); given names are one or two characters from pools that differ by sex and generation (秀英 and
桂兰 for grandmothers, 梓涵 and 子轩 for toddlers). Enterprise names combine a district, a brand
and an industry word. Nothing here decides who a person is; ``people`` does.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

# (surname, relative frequency ‰ in Guangdong, roughly)
SURNAMES: tuple[tuple[str, float], ...] = (
    ("陈", 98), ("李", 72), ("黄", 64), ("张", 45), ("梁", 40), ("林", 36), ("刘", 35),
    ("吴", 30), ("罗", 26), ("何", 25), ("郑", 21), ("谢", 20), ("冯", 20), ("邓", 20),
    ("杨", 20), ("周", 15), ("苏", 15), ("卢", 15), ("叶", 15), ("曾", 15), ("王", 14),
    ("区", 9), ("潘", 10), ("麦", 9), ("彭", 10), ("蔡", 10), ("余", 10), ("钟", 11),
    ("朱", 10), ("许", 10), ("关", 8), ("伍", 8), ("霍", 5), ("冼", 5), ("欧阳", 4),
    ("司徒", 3), ("赵", 6), ("孙", 5), ("马", 5), ("胡", 7), ("郭", 7), ("徐", 6),
    ("高", 5), ("肖", 7), ("严", 4), ("甘", 4), ("莫", 6), ("邱", 6), ("廖", 8),
    ("江", 5), ("岑", 3), ("招", 2), ("简", 3), ("温", 5), ("古", 3), ("汤", 3),
    ("方", 5), ("谭", 9), ("袁", 5), ("孔", 3), ("邝", 3), ("植", 1), ("龙", 3),
    ("韦", 3), ("姚", 4), ("石", 3), ("唐", 5),
)

GIVEN_CHARS: dict[tuple[str, str], str] = {
    ("M", "old"): "国建明华伟强德志文永平军成良福荣辉海林金清生东新兴庆振光宝贵洪汉祥勇忠才",
    ("M", "mid"): "伟强军杰斌涛勇鹏辉磊峰俊浩健波华明超刚亮锋文志东嘉家永智晓健宇",
    ("M", "new"): "子轩浩宇梓睿俊杰铭泽博文皓天宸佑一诺嘉懿煜城晨逸辰昊然锦程奕航瑞霖",
    ("F", "old"): "秀英桂兰凤珍玉华美芳丽娟琼冰淑惠婉月彩霞燕萍金妹好娣群银带爱",
    ("F", "mid"): "丽娟敏静燕艳玲霞婷洁雪琳慧红颖倩芳欣晓君佩诗嘉咏雯妍",
    ("F", "new"): "梓涵欣怡诗琪可馨雨桐子萱若汐一诺语嫣思彤芷晴梦瑶佳悦沐希晨曦依",
}

MOBILE_PREFIXES: tuple[int, ...] = (
    134, 135, 136, 137, 138, 139, 147, 150, 151, 152, 157, 158, 159, 178, 182, 183, 184, 187,
    188, 198, 130, 131, 132, 145, 155, 156, 166, 175, 176, 185, 186, 133, 149, 153, 173, 177,
    180, 181, 189, 191, 199,
)


def _generation(birth_year: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return np.select([birth_year < 1965, birth_year < 2000], [0, 1], 2)


def person_names(
    rng: np.random.Generator, male: npt.NDArray[np.bool_], birth_year: npt.NDArray[np.int64]
) -> pl.Series:
    """Surname + one or two given-name characters (two-character names are commoner among the
    young: about 55 % for people born before 1965, 85 % after 2000)."""
    size = male.size
    surnames = [s for s, _ in SURNAMES]
    weights = np.array([w for _, w in SURNAMES], dtype=float)
    surname = pl.Series(surnames).gather(rng.choice(len(surnames), size, p=weights / weights.sum()))
    generation = _generation(birth_year)
    pools = [GIVEN_CHARS[(sex, era)] for sex in ("M", "F") for era in ("old", "mid", "new")]
    pool_index = np.where(male, 0, 3) + generation
    offsets = np.cumsum([0] + [len(p) for p in pools])
    chars = pl.Series(list("".join(pools)))
    lengths = np.array([len(p) for p in pools])[pool_index]
    first = chars.gather(offsets[pool_index] + (rng.random(size) * lengths).astype(np.int64))
    second = chars.gather(offsets[pool_index] + (rng.random(size) * lengths).astype(np.int64))
    two = rng.random(size) < np.array([0.55, 0.75, 0.85])[generation]
    frame = pl.DataFrame({"s": surname, "a": first, "b": second, "two": two})
    return frame.select(
        pl.concat_str(["s", "a", pl.when(pl.col("two")).then(pl.col("b")).otherwise(pl.lit(""))])
    ).to_series().alias("name")


def mobiles(rng: np.random.Generator, serial: npt.NDArray[np.int64]) -> pl.Series:
    """11-digit mobile numbers with real carrier prefixes, unique per person serial."""
    prefix = np.array(MOBILE_PREFIXES, dtype=np.int64)[
        rng.integers(0, len(MOBILE_PREFIXES), serial.size)
    ]
    suffix = (serial * 73_856_093 + prefix * 19_349_663) % 100_000_000
    return pl.Series(prefix * 100_000_000 + suffix).cast(pl.String)


BRAND_CHARS = "华盛鑫源达信通荣丰宏泰德美嘉恒润锦顺利兴创优佳力汇联合安康和瑞祥富科宝星辰万新金"
COMPANY_SUFFIX = "有限公司"


def enterprise_names(
    rng: np.random.Generator, district: pl.Series, trade_word: pl.Series,
    individual: npt.NDArray[np.bool_], operator_surname: pl.Series,
) -> pl.Series:
    """Companies: 佛山市禅城区 + two-character brand + trade + 有限公司; individual businesses:
    district + operator's surname + 记 + shop word (``trade_word`` holds the shop word)."""
    size = individual.size
    chars = pl.Series(list(BRAND_CHARS))
    frame = pl.DataFrame({
        "district": district,
        "a": chars.gather(rng.integers(0, len(BRAND_CHARS), size)),
        "b": chars.gather(rng.integers(0, len(BRAND_CHARS), size)),
        "trade": trade_word,
        "individual": individual,
        "surname": operator_surname,
    })
    company = pl.concat_str(["district", "a", "b", "trade", pl.lit(COMPANY_SUFFIX)])
    shop = pl.concat_str([pl.col("district").str.slice(3), "surname", pl.lit("记"), "trade"])
    return frame.select(
        pl.when(pl.col("individual")).then(shop).otherwise(company)
    ).to_series().alias("name")


def surnames_of(names: pl.Series) -> pl.Series:
    """The surname of each full name (two characters for the compound surnames listed)."""
    compound = [s for s, _ in SURNAMES if len(s) == 2]
    two = names.str.slice(0, 2).is_in(compound)
    return pl.select(
        pl.when(two).then(names.str.slice(0, 2)).otherwise(names.str.slice(0, 1))
    ).to_series()
