"""The durable_rules rulesets that correlate life events, kept deliberately small.

``mianshen_life_events`` decides what an event sets off: a death suspends the person's grants at
once and tells the hooks; a death, move, marriage, pregnancy or enterprise change asks for the
subjects concerned to be evaluated again. ``mianshen_birth_bundle`` waits, per birth
certificate (its own ``sid``), for the birth certificate from the hospital and the 户籍
registration from the police, in either order; when both are there the bundle is complete
(child, mother and father evaluated again for the birth-related benefits), and a daily ``tick``
on or after the 30th day with the registration still missing raises a reminder task.

Rules only decide: each action appends an *effect* to a list the service applies inside its
database transaction (durable_rules swallows exceptions raised in actions, so nothing that can
fail happens there). Facts and events always carry an explicit unique ``id`` (durable_rules
otherwise identifies facts by a 32-bit hash of their content and silently drops collisions).
The durable state lives in the database (``life_event``, ``event_bundle``): a bundle's facts
are re-asserted from it into a fresh ``sid`` state for each decision (and retracted after), so
any process, any worker, any restart decides the same way. The host runs no background threads
and ``delete_state`` is never called (both crash durable_rules 2.0.28 here, see below).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from durable import engine as durable_engine
from durable import lang
from durable.lang import c, m, none, ruleset, when_all

LIFE = "mianshen_life_events"
BIRTH = "mianshen_birth_bundle"


@dataclass(frozen=True)
class Effect:
    action: str  # suspend_grants, subject_died, reevaluate, bundle_complete, remind
    subject_kind: str = "person"
    subject_keys: tuple[str, ...] = ()
    correlation_key: str = ""
    event_ids: tuple[int, ...] = ()
    detail: str = ""


_effects: list[Effect] = []
_sessions = itertools.count(1)
_lock = threading.Lock()
_host: durable_engine.Host | None = None


def _keys(*values: Any) -> tuple[str, ...]:
    return tuple(v for v in values if v)


def _define() -> dict[str, Any]:
    life = ruleset(LIFE)
    with life:
        @when_all(m.kind == "death")
        def death(c: Any) -> None:
            keys = _keys(c.m.subject_key)
            _effects.append(Effect("suspend_grants", subject_keys=keys, detail=c.m.occurred_on))
            _effects.append(Effect("subject_died", subject_keys=keys, event_ids=(c.m.event_row,),
                                   detail=c.m.occurred_on))
            _effects.append(Effect("reevaluate", subject_keys=keys, detail="death"))

        @when_all((m.kind == "hukou_move") | (m.kind == "pregnancy"))
        def personal_change(c: Any) -> None:
            _effects.append(Effect("reevaluate", subject_keys=_keys(c.m.subject_key),
                                   detail=c.m.kind))

        @when_all(m.kind == "marriage")
        def marriage(c: Any) -> None:
            _effects.append(Effect("reevaluate", subject_keys=_keys(c.m.subject_key, c.m.other_key),
                                   detail="marriage"))

        @when_all(m.kind == "enterprise_deregistered")
        def deregistered(c: Any) -> None:
            keys = _keys(c.m.subject_key)
            _effects.append(Effect("suspend_grants", "enterprise", keys, detail=c.m.occurred_on))
            _effects.append(Effect("reevaluate", "enterprise", keys, detail="deregistered"))

        @when_all(m.kind == "enterprise_registered")
        def registered(c: Any) -> None:
            _effects.append(Effect("reevaluate", "enterprise", _keys(c.m.subject_key),
                                   detail="registered"))

    birth = ruleset(BIRTH)
    with birth:
        @when_all(
            c.cert << (m.kind == "birth_certificate"),
            c.reg << (m.kind == "hukou_registration") & (m.certificate_no == c.cert.certificate_no),
        )
        def bundle_complete(c: Any) -> None:
            _effects.append(Effect(
                "bundle_complete",
                subject_keys=_keys(c.reg.subject_key, c.cert.mother_key, c.cert.father_key),
                correlation_key=c.cert.certificate_no,
                event_ids=(c.cert.event_row, c.reg.event_row),
            ))

        @when_all(
            c.cert << (m.kind == "birth_certificate"),
            c.tick << (m.kind == "tick") & (m.day >= c.cert.remind_from),
            none((m.kind == "hukou_registration") & (m.certificate_no == c.cert.certificate_no)),
        )
        def registration_missing(c: Any) -> None:
            _effects.append(Effect(
                "remind", subject_keys=_keys(c.cert.mother_key),
                correlation_key=c.cert.certificate_no, event_ids=(c.cert.event_row,),
                detail=str(c.tick.day),
            ))

    definitions = {}
    for rules in (life, birth):
        name, definition = rules.define()
        definitions[name] = definition
        lang._rulesets.pop(name, None)  # keep them off durable_rules' global host
    return definitions


class _SynchronousHost(durable_engine.Host):
    """A host without durable_rules' background dispatch threads. Actions run synchronously
    inside ``post``/``assert_fact`` anyway; the threads only serve durable_rules timers, which
    this pipeline does not use (its clock is the daily tick), and they race with
    ``delete_state`` from the calling thread (seen here as a C-level abort)."""

    def _run(self) -> None:
        return None


def _get_host() -> durable_engine.Host:
    global _host
    if _host is None:
        _host = _SynchronousHost(_define())
    return _host


def decide_event(fact: dict[str, Any]) -> list[Effect]:
    """What one life event sets off (``fact`` has ``id``, ``kind`` and its fields)."""
    with _lock:
        host = _get_host()
        _effects.clear()
        with contextlib.suppress(durable_engine.MessageNotHandledException):
            # An event is consumed by the rule it matches; no rule for its kind: no effect.
            host.post(LIFE, {**fact, "sid": "events"})
        return list(_effects)


def decide_bundle(certificate_no: str, facts: Iterable[dict[str, Any]],
                  tick_day: int | None = None) -> list[Effect]:
    """Re-assert a birth bundle's facts (from the database) into a fresh state and decide;
    ``tick_day`` (YYYYMMDD) posts the daily tick that raises overdue reminders."""
    with _lock:
        host = _get_host()
        _effects.clear()
        sid = f"birth-{certificate_no}-{next(_sessions)}"  # a fresh state, never reused
        asserted = []
        with contextlib.suppress(durable_engine.MessageNotHandledException):
            for fact in facts:
                host.assert_fact(BIRTH, {**fact, "sid": sid})
                asserted.append({**fact, "sid": sid})
            if tick_day is not None:
                host.post(BIRTH, {"sid": sid, "id": f"tick-{tick_day}-{certificate_no}",
                                  "kind": "tick", "day": tick_day})
        # Facts are retracted rather than the state deleted: durable_rules 2.0.28's
        # delete_state corrupts its heap after such assertions (free(): invalid pointer).
        for fact in asserted:
            with contextlib.suppress(Exception):
                host.retract_fact(BIRTH, fact)
        return list(_effects)
