"""The data catalog: the exchange schema of every dataset a department provides.

This is the single description of the shared data. Import validates files against it, the
synthetic city writes it, ``docs/data-catalog.md`` documents it, and the policy language
type-checks field references against it. Storage tables (``models``) follow it with one rule:
personal fields never get a plaintext column. An ID number becomes a pseudonymous key column
(``id_number`` → ``subject_key``, ``mother_id_number`` → ``mother_key``), a mobile number a blind
index (``mobile_index``), and every personal value of a row goes, encrypted, into ``pii``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class FieldType(StrEnum):
    STRING = "string"
    INT = "int"
    MONEY = "money"  # integer fen (分)
    DATE = "date"  # ISO 8601, YYYY-MM-DD
    PERIOD = "period"  # YYYY-MM
    ENUM = "enum"
    ID_NUMBER = "id_number"  # resident ID, GB 11643
    USCC = "uscc"  # unified social credit code, GB 32100
    REGION = "region"  # GB/T 2260 administrative division code
    MOBILE = "mobile"  # mainland mobile number, 11 digits


class Department(StrEnum):
    PUBLIC_SECURITY = "public_security"
    HEALTH = "health"
    CIVIL_AFFAIRS = "civil_affairs"
    DISABLED_PERSONS_FEDERATION = "disabled_persons_federation"
    MARKET_REGULATION = "market_regulation"
    HUMAN_RESOURCES = "human_resources"
    DEVELOPMENT_REFORM = "development_reform"
    TAX = "tax"


DEPARTMENT_NAMES: dict[Department, str] = {
    Department.PUBLIC_SECURITY: "公安局",
    Department.HEALTH: "卫生健康局",
    Department.CIVIL_AFFAIRS: "民政局",
    Department.DISABLED_PERSONS_FEDERATION: "残疾人联合会",
    Department.MARKET_REGULATION: "市场监督管理局",
    Department.HUMAN_RESOURCES: "人力资源和社会保障局",
    Department.DEVELOPMENT_REFORM: "发展和改革局",
    Department.TAX: "税务局",
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    zh: str
    required: bool = True
    values: tuple[str, ...] = ()  # allowed values of an ENUM
    minimum: int | None = None
    maximum: int | None = None
    ref: str | None = None  # "dataset.field" that must already hold the value
    personal_text: bool = False  # a name or address: stored only encrypted

    @property
    def personal(self) -> bool:
        return self.personal_text or self.type in (FieldType.ID_NUMBER, FieldType.MOBILE)

    @property
    def storage_column(self) -> str | None:
        """Column that holds this field in storage; ``None`` when it lives only in ``pii``."""
        if self.type is FieldType.ID_NUMBER:
            prefix = self.name.removesuffix("id_number")
            return f"{prefix}key" if prefix else "subject_key"
        if self.type is FieldType.MOBILE:
            return "mobile_index"
        return None if self.personal else self.name


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    zh: str
    departments: tuple[Department, ...]
    subject: str  # "person" or "enterprise": whose data this is
    key: tuple[str, ...]  # natural key: one row per key, re-import updates in place
    fields: tuple[FieldSpec, ...]
    description: str = ""
    common: tuple[FieldSpec, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "common",
            (
                FieldSpec("source_dept", FieldType.ENUM, "来源部门", values=self.departments),
                FieldSpec("as_of", FieldType.DATE, "数据截至日期"),
            ),
        )

    @property
    def all_fields(self) -> tuple[FieldSpec, ...]:
        return self.fields + self.common

    def field(self, name: str) -> FieldSpec:
        for spec in self.all_fields:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.name} has no field {name!r}")


F, T, D = FieldSpec, FieldType, Department

PERSON = DatasetSpec(
    "person", "户籍人口", (D.PUBLIC_SECURITY,), "person", ("id_number",),
    (
        F("id_number", T.ID_NUMBER, "公民身份号码"),
        F("name", T.STRING, "姓名", personal_text=True),
        F("sex", T.ENUM, "性别", values=("M", "F")),
        F("birth_date", T.DATE, "出生日期"),
        F("region_code", T.REGION, "户籍地区划代码"),
        F("address", T.STRING, "住址", required=False, personal_text=True),
        F("mobile", T.MOBILE, "手机号码", required=False),
        F("status", T.ENUM, "户籍状态", values=("active", "deceased", "moved_out", "cancelled")),
    ),
    "Population registry: one row per person with 户籍 held by the city.",
)

DEATH_RECORD = DatasetSpec(
    "death_record", "公民生存状态(死亡信息)",
    (D.HEALTH, D.PUBLIC_SECURITY, D.CIVIL_AFFAIRS), "person", ("id_number", "source_kind"),
    (
        F("id_number", T.ID_NUMBER, "公民身份号码"),
        F("date_of_death", T.DATE, "死亡日期"),
        F("source_kind", T.ENUM, "信息来源", values=("hospital", "police", "funeral_home")),
    ),
    "Death records from hospitals (卫健), police (公安) and funeral homes (民政); one per source.",
)

DISABILITY_CERTIFICATE = DatasetSpec(
    "disability_certificate", "残疾人证", (D.DISABLED_PERSONS_FEDERATION,), "person",
    ("id_number", "disability_type"),
    (
        F("id_number", T.ID_NUMBER, "公民身份号码", ref="person.id_number"),
        F("disability_type", T.ENUM, "残疾类别", values=(
            "visual", "hearing", "speech", "physical", "intellectual", "mental", "multiple")),
        F("grade", T.INT, "残疾等级", minimum=1, maximum=4),
        F("valid_from", T.DATE, "有效期起"),
        F("valid_to", T.DATE, "有效期止", required=False),
    ),
)

SOCIAL_ASSISTANCE = DatasetSpec(
    "social_assistance", "社会救助对象", (D.CIVIL_AFFAIRS,), "person",
    ("id_number", "assistance_kind", "start_date"),
    (
        F("id_number", T.ID_NUMBER, "公民身份号码", ref="person.id_number"),
        F("assistance_kind", T.ENUM, "救助类别", values=("dibao", "tekun", "low_income")),
        F("household_id", T.STRING, "家庭编号"),
        F("start_date", T.DATE, "起始日期"),
        F("end_date", T.DATE, "终止日期", required=False),
    ),
    "低保 (dibao), 特困 (tekun) and 低收入 (low_income) status with its period.",
)

MARRIAGE_REGISTRATION = DatasetSpec(
    "marriage_registration", "婚姻登记", (D.CIVIL_AFFAIRS,), "person", ("registration_no",),
    (
        F("registration_no", T.STRING, "登记证字号"),
        F("party_a_id_number", T.ID_NUMBER, "男方公民身份号码"),
        F("party_b_id_number", T.ID_NUMBER, "女方公民身份号码"),
        F("kind", T.ENUM, "登记类别", values=("marriage", "divorce")),
        F("registration_date", T.DATE, "登记日期"),
    ),
)

BIRTH_CERTIFICATE = DatasetSpec(
    "birth_certificate", "出生医学证明", (D.HEALTH,), "person", ("certificate_no",),
    (
        F("certificate_no", T.STRING, "出生医学证明编号"),
        F("child_id_number", T.ID_NUMBER, "新生儿公民身份号码", required=False),
        F("child_name", T.STRING, "新生儿姓名", personal_text=True),
        F("child_sex", T.ENUM, "新生儿性别", values=("M", "F")),
        F("birth_date", T.DATE, "出生日期"),
        F("birth_region", T.REGION, "出生地区划代码"),
        F("mother_id_number", T.ID_NUMBER, "母亲公民身份号码"),
        F("father_id_number", T.ID_NUMBER, "父亲公民身份号码", required=False),
    ),
    "Birth medical certificates; the child's ID number is empty until 户籍 registration.",
)

PREGNANCY_REGISTRATION = DatasetSpec(
    "pregnancy_registration", "孕产妇建档登记", (D.HEALTH,), "person", ("registration_no",),
    (
        F("registration_no", T.STRING, "建档编号"),
        F("id_number", T.ID_NUMBER, "孕妇公民身份号码"),
        F("registration_date", T.DATE, "建档日期"),
        F("expected_delivery_date", T.DATE, "预产期"),
    ),
)

HUKOU_MOVE = DatasetSpec(
    "hukou_move", "户籍迁移", (D.PUBLIC_SECURITY,), "person", ("move_no",),
    (
        F("move_no", T.STRING, "迁移证编号"),
        F("id_number", T.ID_NUMBER, "公民身份号码", ref="person.id_number"),
        F("direction", T.ENUM, "迁移方向", values=("in", "out")),
        F("move_date", T.DATE, "迁移日期"),
        F("from_region", T.REGION, "迁出地区划代码", required=False),
        F("to_region", T.REGION, "迁入地区划代码", required=False),
    ),
)

LEGACY_PAYMENT = DatasetSpec(
    "legacy_payment", "存量待遇发放记录",
    (D.CIVIL_AFFAIRS, D.DISABLED_PERSONS_FEDERATION, D.HUMAN_RESOURCES), "person",
    ("payment_ref",),
    (
        F("payment_ref", T.STRING, "发放流水号"),
        F("id_number", T.ID_NUMBER, "公民身份号码", ref="person.id_number"),
        F("benefit_code", T.STRING, "待遇项目代码"),
        F("period", T.PERIOD, "发放所属期"),
        F("amount_fen", T.MONEY, "发放金额(分)", minimum=0),
    ),
    "Payments already made by legacy systems, so nobody is paid twice.",
)
# The codes legacy systems pay benefits under (``legacy_payment.benefit_code``) and the bundled
# policy that now pays each benefit. A policy names its legacy code in
# ``benefit.details.legacy_benefit_code``; ledger rows are matched to legacy payments by that
# code, so a code missing on either side means paying twice (tests/test_legacy_matching.py).
LEGACY_BENEFIT_CODES: dict[str, str] = {
    "longevity_allowance": "longevity-allowance",  # civil affairs' 高龄津贴 system
}

ENTERPRISE = DatasetSpec(
    "enterprise", "市场主体登记", (D.MARKET_REGULATION,), "enterprise", ("uscc",),
    (
        F("uscc", T.USCC, "统一社会信用代码"),
        F("name", T.STRING, "市场主体名称"),
        F("kind", T.ENUM, "主体类型", values=("enterprise", "individual_business")),
        F("industry_code", T.STRING, "国民经济行业代码(GB/T 4754)"),
        F("size_class", T.ENUM, "企业规模", values=("micro", "small", "medium", "large")),
        F("region_code", T.REGION, "登记地区划代码"),
        F("registration_date", T.DATE, "成立日期"),
        F("status", T.ENUM, "登记状态", values=("active", "deregistered", "revoked")),
        F("legal_rep_name", T.STRING, "法定代表人/经营者姓名", personal_text=True),
        F("legal_rep_id_number", T.ID_NUMBER, "法定代表人/经营者公民身份号码"),
    ),
    "Enterprises and individual businesses (市场主体).",
)

UI_CONTRIBUTION = DatasetSpec(
    "ui_contribution", "失业保险参保缴费", (D.HUMAN_RESOURCES,), "enterprise", ("uscc", "period"),
    (
        F("uscc", T.USCC, "统一社会信用代码", ref="enterprise.uscc"),
        F("period", T.PERIOD, "缴费所属期"),
        F("insured_headcount", T.INT, "参保人数", minimum=0),
        F("contribution_fen", T.MONEY, "失业保险缴费额(分)", minimum=0),
        F("layoffs", T.INT, "当月减员(裁员)人数", minimum=0),
        F("graduates_hired", T.INT, "当月新招用高校毕业生人数", minimum=0),
    ),
    "Monthly unemployment-insurance headcount, contributions, layoffs and graduates hired.",
)

DISHONESTY_ENTRY = DatasetSpec(
    "dishonesty_entry", "严重失信主体名单", (D.DEVELOPMENT_REFORM,), "enterprise", ("entry_no",),
    (
        F("entry_no", T.STRING, "名单编号"),
        F("uscc", T.USCC, "统一社会信用代码", ref="enterprise.uscc"),
        F("list_kind", T.STRING, "名单类别"),
        F("listed_date", T.DATE, "列入日期"),
        F("removed_date", T.DATE, "移出日期", required=False),
    ),
)

TAX_STATUS = DatasetSpec(
    "tax_status", "纳税信息", (D.TAX,), "enterprise", ("uscc", "year"),
    (
        F("uscc", T.USCC, "统一社会信用代码", ref="enterprise.uscc"),
        F("year", T.INT, "年度", minimum=1990, maximum=2100),
        F("annual_revenue_fen", T.MONEY, "年营业收入(分)", minimum=0),
        F("arrears_fen", T.MONEY, "欠税金额(分)", minimum=0),
    ),
)

# Import order: datasets that others reference come first.
DATASETS: tuple[DatasetSpec, ...] = (
    PERSON, ENTERPRISE, DEATH_RECORD, DISABILITY_CERTIFICATE, SOCIAL_ASSISTANCE,
    MARRIAGE_REGISTRATION, BIRTH_CERTIFICATE, PREGNANCY_REGISTRATION, HUKOU_MOVE,
    LEGACY_PAYMENT, UI_CONTRIBUTION, DISHONESTY_ENTRY, TAX_STATUS,
)
DATASETS_BY_NAME: dict[str, DatasetSpec] = {spec.name: spec for spec in DATASETS}


def dataset(name: str) -> DatasetSpec:
    try:
        return DATASETS_BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(DATASETS_BY_NAME)}") from None
