"""The policy document: a pydantic model of the YAML format (``docs/policy-format.md``).

This model is the format's single definition: the loader validates documents with it and
``policy.schema.json`` is generated from it (``mianshen policy schema``). Expressions are kept as
text here; ``policy.compile`` parses and type-checks them. No Python code can be expressed in a
policy: every field is data or an expression of the policy language.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.datahub.catalog import Department

IDENT = r"^[a-z][a-z0-9_]{0,62}$"


def _expression_text(value: object) -> object:
    """YAML reads ``amount: 7500`` or ``when: true`` as a number or a bool: both are expressions."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


Expr = Annotated[str, BeforeValidator(_expression_text), Field(min_length=1, max_length=4000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class LegalBasis(Strict):
    document_number: str = Field(
        min_length=1, max_length=200, description="文号, e.g. 民发〔2023〕12号"
    )
    title: str = Field(min_length=1, max_length=300)
    link: str | None = Field(default=None, max_length=500, pattern=r"^https?://")
    issued: date | None = None


class SubjectKind(StrEnum):
    PERSON = "person"
    ENTERPRISE = "enterprise"
    CHILD = "child"  # evaluated per child (birth certificate), paid to a guardian


class Subject(Strict):
    kind: SubjectKind
    payee: list[Literal["mother_key", "father_key"]] = Field(
        default_factory=list,
        description="child policies: guardian key columns in order of preference; the first "
        "present one is paid",
    )


class Effective(Strict):
    from_: date = Field(alias="from")
    to: date | None = None


class ParamType(StrEnum):
    MONEY = "money"
    INT = "int"
    DECIMAL = "decimal"
    STRING = "string"
    BOOL = "bool"
    DATE = "date"


class DatedValue(Strict):
    from_: date = Field(alias="from")
    value: int | float | str | bool | date
    note: str | None = None


class Parameter(Strict):
    type: ParamType
    description: str = Field(min_length=1, max_length=300)
    unit: str | None = None
    regional_example: bool = Field(default=False, description="the figure is a regional example")
    values: list[DatedValue] = Field(min_length=1, max_length=200)


class Format(StrEnum):
    PERCENT = "percent"
    MONEY = "money"
    NUMBER = "number"
    DATE = "date"
    PERIOD = "period"
    TEXT = "text"


class Definition(Strict):
    expr: Expr
    label: str = Field(min_length=1, max_length=100, description="plain-Chinese name, e.g. 裁员率")
    format: Format | None = None


class Condition(Strict):
    name: str = Field(pattern=IDENT)
    description: str = Field(
        min_length=1, max_length=300, description="plain Chinese, shown to citizens"
    )
    when: Expr


class TableInput(Strict):
    name: str = Field(pattern=IDENT)
    expr: Expr
    label: str | None = None


class TableOutput(Strict):
    name: str = Field(pattern=IDENT)
    type: ParamType
    label: str | None = None


Cell = int | float | str | bool | date
OutCell = int | float | str | bool | date | None


class TableRule(Strict):
    when: list[Cell] = Field(min_length=1, max_length=50)
    then: list[OutCell] = Field(min_length=1, max_length=50)
    note: str | None = None


class HitPolicy(StrEnum):
    FIRST = "first"
    UNIQUE = "unique"


class DecisionTable(Strict):
    hit_policy: HitPolicy
    description: str | None = None
    inputs: list[TableInput] = Field(min_length=1, max_length=10)
    outputs: list[TableOutput] = Field(min_length=1, max_length=10)
    rules: list[TableRule] = Field(min_length=1, max_length=500)
    default: list[OutCell] | None = Field(default=None, description="outputs when no rule matches")


class BenefitKind(StrEnum):
    RECURRING_CASH = "recurring_cash"
    ONE_OFF_CASH = "one_off_cash"
    E_CERTIFICATE = "e_certificate"
    VOUCHER = "voucher"
    SERVICE_ENROLMENT = "service_enrolment"


class BenefitPeriod(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    ONCE = "once"


class EndCondition(Strict):
    name: str = Field(pattern=IDENT)
    description: str = Field(min_length=1, max_length=300)
    when: Expr
    end_date: Expr | None = Field(default=None, description="expression: the last day covered")


class Benefit(Strict):
    kind: BenefitKind
    name: str = Field(min_length=1, max_length=100, description="what is granted, in Chinese")
    amount: Expr | None = Field(default=None, description="expression in fen (money)")
    tier: Expr | None = Field(default=None, description="expression naming the tier")
    period: BenefitPeriod = BenefitPeriod.ONCE
    start: Expr | None = Field(default=None, description="expression: first period or date covered")
    start_rule: str | None = Field(default=None, description="the start rule in plain Chinese")
    end_conditions: list[EndCondition] = Field(default_factory=list, max_length=20)
    certificate_type: str | None = None
    details: dict[str, str] = Field(default_factory=dict)


class TriggerKind(StrEnum):
    DAILY_SWEEP = "daily_sweep"
    DATE_REACHED = "date_reached"
    LIFE_EVENT = "life_event"


class Trigger(Strict):
    kind: TriggerKind
    date: Expr | None = Field(default=None, description="date_reached: expression of the date")
    dataset: str | None = Field(default=None, description="life_event: catalog dataset")
    description: str | None = None


class ProcessStep(StrEnum):
    AUTO_GRANT = "auto_grant"
    INTERNAL_REVIEW = "internal_review"
    PUBLIC_NOTICE = "public_notice"
    BENEFICIARY_CONFIRMATION = "beneficiary_confirmation"


class Process(Strict):
    steps: list[ProcessStep] = Field(min_length=1, max_length=6)
    public_notice_working_days: int | None = Field(default=None, ge=1, le=60)
    objections: bool = False
    confirmation: Literal["intent", "bank_account"] | None = None
    review_role: str | None = None


class Notification(Strict):
    template: str = Field(pattern=r"^[a-z][a-z0-9_.-]{0,80}$")
    channel: Literal["sms", "letter", "portal"] = "sms"


class Expectation(Strict):
    eligible: bool
    tier: str | None = None
    amount_fen: int | None = None
    conditions: dict[str, bool | None] = Field(default_factory=dict)
    payee: Literal["mother", "father"] | None = None


class TestCase(Strict):
    name: str = Field(min_length=1, max_length=200)
    as_of: date
    subject: dict[str, Any] = Field(default_factory=dict)
    related: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    expect: Expectation


class Metadata(Strict):
    regional_example: bool = False
    region: str | None = None
    note: str | None = None
    tags: list[str] = Field(default_factory=list)


class PolicyDocument(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]{1,62}$")
    title: str = Field(min_length=1, max_length=100, description="title in Chinese")
    title_en: str | None = None
    legal_basis: list[LegalBasis] = Field(min_length=1, max_length=20)
    issuing_department: Department
    subject: Subject
    effective: Effective
    metadata: Metadata = Field(default_factory=Metadata)
    parameters: dict[str, Parameter] = Field(default_factory=dict, max_length=100)
    definitions: dict[str, Definition] = Field(default_factory=dict, max_length=100)
    conditions: list[Condition] = Field(min_length=1, max_length=100)
    eligible: Expr | None = Field(default=None, description="expression; default: all conditions")
    decision_tables: dict[str, DecisionTable] = Field(default_factory=dict, max_length=20)
    benefit: Benefit
    triggers: list[Trigger] = Field(min_length=1, max_length=20)
    process: Process
    notification: Notification
    tests: list[TestCase] = Field(default_factory=list, max_length=500)
