"""The grant state machine: which states exist, which are open, where a new grant starts and
where it goes next. Pure functions over states and process steps; persistence is in
``service`` and ``review``.

    matched ─┬─ flagged ────────────► manual_review ──(officer)──┐
             └────────────────────────────────────────────────────┤
                       internal_review ─(officer)─► public_notice ─(window elapsed)─►
                       awaiting_confirmation ─(beneficiary)─► granted
    granted ⇄ suspended;  granted/suspended ─► ended (death, moved away, status lost)
    before granted: rejected (officer / objection upheld), withdrawn (no longer eligible),
    declined (beneficiary); public_notice ⇄ objection_pending (an objection pauses the window)
"""

from __future__ import annotations

from enum import StrEnum

from eligibility.sweeps.backend import ProcessStep


class GrantState(StrEnum):
    MATCHED = "matched"
    MANUAL_REVIEW = "manual_review"
    INTERNAL_REVIEW = "internal_review"
    PUBLIC_NOTICE = "public_notice"
    OBJECTION_PENDING = "objection_pending"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    GRANTED = "granted"
    SUSPENDED = "suspended"
    ENDED = "ended"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    DECLINED = "declined"


CLOSED_STATES = frozenset(
    {GrantState.ENDED, GrantState.REJECTED, GrantState.WITHDRAWN, GrantState.DECLINED}
)
PRE_GRANT_STATES = frozenset(
    {
        GrantState.MATCHED, GrantState.MANUAL_REVIEW, GrantState.INTERNAL_REVIEW,
        GrantState.PUBLIC_NOTICE, GrantState.OBJECTION_PENDING, GrantState.AWAITING_CONFIRMATION,
    }
)
STEP_STATES: dict[ProcessStep, GrantState] = {
    ProcessStep.INTERNAL_REVIEW: GrantState.INTERNAL_REVIEW,
    ProcessStep.PUBLIC_NOTICE: GrantState.PUBLIC_NOTICE,
    ProcessStep.CONFIRMATION: GrantState.AWAITING_CONFIRMATION,
}


class ReviewFlag(StrEnum):
    """Why a matched grant waits for an officer instead of proceeding automatically."""

    DEPARTMENTS_DISAGREE = "departments_disagree"
    NO_MOBILE = "no_mobile"
    AMOUNT_ABOVE_THRESHOLD = "amount_above_threshold"
    REFUSED_AUTOMATION = "refused_automation"


class EndReason(StrEnum):
    DEATH = "death"
    MOVED_AWAY = "moved_away"
    DEREGISTERED = "deregistered"
    STATUS_LOST = "status_lost"


def encode_steps(steps: tuple[ProcessStep, ...] | list[ProcessStep]) -> str:
    return ",".join(step.value for step in steps)


def decode_steps(encoded: str) -> list[ProcessStep]:
    return [ProcessStep(step) for step in encoded.split(",") if step]


def next_state(remaining: list[ProcessStep]) -> tuple[GrantState, list[ProcessStep]]:
    """The state after the steps already done: the next step's state, or granted."""
    if not remaining:
        return GrantState.GRANTED, []
    return STEP_STATES[remaining[0]], remaining[1:]


def initial_state(
    flags: list[str], steps: tuple[ProcessStep, ...]
) -> tuple[GrantState, list[ProcessStep]]:
    """Where a newly matched grant goes: manual review when flagged, else its first step."""
    if flags:
        return GrantState.MANUAL_REVIEW, list(steps)
    return next_state(list(steps))
