"""The audit log on both databases: appending inside the caller's transaction (gap-free,
exactly once per record, rolled back with the caller), signed tree heads, inclusion and
consistency proofs from the stored tree, SM3 logs, and payload validation."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.audit import keys, merkle, service
from app.audit.models import AuditEntry, AuditLogHead, AuditNode, AuditTreeHead
from app.audit.schemas import EntryKind, canonical_json, sth_message
from app.db import session_scope
from app.errors import NotFound, ValidationFailed
from tests.audit_helpers import decision, fill


def _entries(engine: Engine) -> list[AuditEntry]:
    with session_scope(engine) as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.seq)))  # type: ignore[arg-type]


def test_append_assigns_consecutive_sequence_numbers_and_canonical_leaves(engine: Engine) -> None:
    with session_scope(engine) as session:
        logged = service.append_many(session, [("decision", decision(n)) for n in range(3)])
        logged.append(service.append(session, EntryKind.PAYMENT, {
            "record_id": "P-1", "grant_id": "G-1", "subject_key": "k" * 32,
            "period": "2025-11", "amount_fen": 7500,
        }))
    assert [entry.seq for entry in logged] == [0, 1, 2, 3]
    assert all(entry.created for entry in logged)
    stored = _entries(engine)
    hasher = merkle.hasher_for("sha256")
    for entry in stored:
        envelope = json.loads(entry.data)
        assert canonical_json(envelope) == entry.data
        assert (envelope["seq"], envelope["kind"], envelope["ref"]) == (
            entry.seq, entry.kind, entry.record_ref)
        assert hasher.leaf(entry.data.encode()).hex() == entry.leaf_hash
    assert json.loads(stored[0].data)["payload"]["as_of"] == "2025-11-22"
    assert stored[3].record_ref == "P-1"


def test_the_same_record_is_logged_exactly_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        first = service.append(session, "decision", decision(1))
    with session_scope(engine) as session:
        again = service.append(session, "decision", decision(1))
        in_batch = service.append_many(session, [("decision", decision(2)),
                                                 ("decision", decision(2))])
    assert (again.seq, again.created) == (first.seq, False)
    assert [entry.seq for entry in in_batch] == [1, 1]
    assert [entry.created for entry in in_batch] == [True, False]
    assert len(_entries(engine)) == 2
    with session_scope(engine) as session, pytest.raises(service.AuditConflict):
        service.append(session, "decision", decision(1, amount_fen=9900))
    assert len(_entries(engine)) == 2


def test_a_rolled_back_transaction_leaves_no_entry_and_no_gap(engine: Engine) -> None:
    fill(engine, 2)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        service.append(session, "decision", decision(7))
        raise RuntimeError("the caller's transaction fails after appending")
    with session_scope(engine) as session:
        logged = service.append(session, "decision", decision(8))
        assert session.get(AuditLogHead, 1).tree_size == 3  # type: ignore[union-attr]
    assert logged.seq == 2
    assert [e.record_ref for e in _entries(engine)] == ["D-000000", "D-000001", "D-000008"]


@pytest.mark.parametrize(
    ("kind", "payload", "message"),
    [
        ("decision", {"record_id": "D-1"}, "invalid decision"),
        ("lottery", {"record_id": "X"}, "unknown audit entry kind"),
        ("decision", {**decision(1), "result": {}}, "invalid decision"),
        ("decision", {**decision(1), "parameters": {"rate": float("nan")}}, "invalid decision"),
        ("decision", {**decision(1), "parameters": {"holder": "440604195601011235"}},
         "personal data at payload.parameters.holder"),
        ("payment", {"record_id": "P", "grant_id": "G", "subject_key": "13812345678",
                     "period": "2025-11", "amount_fen": 1}, "personal data"),
        ("grant_state", {"record_id": "S", "grant_id": "G", "policy_id": "p", "subject_key": "k",
                         "to_state": "granted", "effective_date": "2025-11-22",
                         "name": "陈大文"}, "personal data at payload.name"),
    ],
)
def test_bad_payloads_are_refused_and_nothing_is_logged(
    engine: Engine, kind: str, payload: dict[str, object], message: str
) -> None:
    with session_scope(engine) as session, pytest.raises(ValidationFailed, match=message):
        service.append(session, kind, payload)
    assert _entries(engine) == []


def test_a_refusal_does_not_echo_the_payload(engine: Engine) -> None:
    """Error messages reach logs and the CLI: they name fields, never values."""
    payload = {**decision(1), "as_of": "陈大文 440604195601011235"}
    with session_scope(engine) as session, pytest.raises(ValidationFailed) as refused:
        service.append(session, "decision", payload)
    assert "as_of" in str(refused.value)
    assert "陈大文" not in str(refused.value) and "4406041956" not in str(refused.value)


def test_tree_heads_proofs_and_stored_subtrees_match_the_reference(engine: Engine) -> None:
    fill(engine, 37, publish_at=(1, 16, 21, 37))
    entries = _entries(engine)
    hasher = merkle.hasher_for("sha256")
    leaves = [hasher.leaf(entry.data.encode()) for entry in entries]
    with session_scope(engine) as session:
        heads = list(session.exec(select(AuditTreeHead).order_by(AuditTreeHead.id)))  # type: ignore[arg-type]
        node_count = session.exec(select(func.count()).select_from(AuditNode)).one()
        log_key = keys.trusted_keys(session)[heads[0].key_id]
    assert [h.tree_size for h in heads] == [1, 16, 21, 37]
    assert node_count == 37 - (37).bit_count()
    for tree_head in heads:
        expected = merkle.root_from_leaf_hashes(hasher, leaves[: tree_head.tree_size])
        assert tree_head.root_hash == expected.hex()
        message = sth_message("sha256", tree_head.tree_size, tree_head.root_hash,
                              tree_head.timestamp_ms, tree_head.key_id)
        assert log_key.verify(tree_head.signature, message)
        assert not log_key.verify(tree_head.signature, message.replace(b"size=", b"size=1"))

    with session_scope(engine) as session:
        for seq in (0, 15, 16, 20, 36):
            proof = service.inclusion_proof(session, str(seq))
            assert proof.tree_size == 37 and proof.leaf_index == seq
            path = [bytes.fromhex(h) for h in proof.inclusion_path]
            assert merkle.verify_inclusion(hasher, seq, 37, leaves[seq], path,
                                           bytes.fromhex(heads[-1].root_hash))
        by_record = service.inclusion_proof(session, "decision:D-000020")
        assert by_record.leaf_index == 20 and by_record.entry["payload"]["record_id"] == "D-000020"
        for old, new in [(1, 37), (16, 21), (21, 37), (16, 37), (37, 37)]:
            consistency = service.consistency_proof(session, old, new)
            assert consistency.verified, (old, new)
        with pytest.raises(NotFound):
            service.consistency_proof(session, 5, 37)
        with pytest.raises(NotFound):
            service.inclusion_proof(session, "decision:D-999999")


def test_an_entry_newer_than_the_latest_tree_head_has_no_proof_yet(engine: Engine) -> None:
    fill(engine, 3, publish_at=(2,))
    with session_scope(engine) as session, pytest.raises(NotFound, match="audit sth"):
        service.inclusion_proof(session, "2")


def test_the_periodic_publisher_signs_only_when_the_log_grew(engine: Engine) -> None:
    fill(engine, 2)
    with session_scope(engine) as session:
        first = service.publish_tree_head(session, only_if_grown=True)
        same = service.publish_tree_head(session, only_if_grown=True)
        forced = service.publish_tree_head(session)
    assert first.id == same.id and forced.id != first.id
    assert forced.tree_size == first.tree_size == 2
    assert forced.timestamp_ms >= first.timestamp_ms


def test_an_sm3_log(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert service.create_log(session, "sm3") == "sm3"
    fill(engine, 11, publish_at=(5, 11))
    entries = _entries(engine)
    sm3 = merkle.hasher_for("sm3")
    leaves = [sm3.leaf(entry.data.encode()) for entry in entries]
    assert [leaf.hex() for leaf in leaves] == [entry.leaf_hash for entry in entries]
    with session_scope(engine) as session:
        proof = service.inclusion_proof(session, "7")
        assert proof.hash_algorithm == "sm3"
        assert proof.tree_head.root_hash == merkle.root_from_leaf_hashes(sm3, leaves).hex()
        assert service.consistency_proof(session, 5, 11).verified
        with pytest.raises(service.Conflict):
            service.create_log(session, "sha256")


def test_log_tables_are_append_only(engine: Engine) -> None:
    fill(engine, 3, publish_at=(3,))
    for statement in ("UPDATE audit_entry SET kind = 'payment' WHERE seq = 1",
                      "DELETE FROM audit_entry WHERE seq = 2",
                      "DELETE FROM audit_tree_head",
                      "UPDATE audit_node SET hash = 'x'"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    assert len(_entries(engine)) == 3
