"""``audit verify`` on both databases: a clean log passes; altering, deleting or reordering
stored rows (past the append-only triggers, as an attacker with database rights would) fails and
names the first bad entry; so do forged tree heads, re-signing with a foreign key, and damaged
cached subtrees."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.audit import keys, merkle, service
from app.audit.schemas import VerifyReport, sth_message
from app.audit.verification import verify_log
from app.db import session_scope
from app.settings import Settings
from tests.audit_helpers import decision, fill, tampering

SIZE = 20
PUBLISHED = (7, 13, SIZE)


def _verify(engine: Engine, **options: object) -> VerifyReport:
    with session_scope(engine) as session:
        return verify_log(session, **options)  # type: ignore[arg-type]


def _problems(report: VerifyReport) -> str:
    return " | ".join(f"{f.seq}: {f.problem}" for f in report.findings)


def test_a_clean_log_verifies(engine: Engine) -> None:
    fill(engine, SIZE, publish_at=PUBLISHED)
    fill_more = 3
    with session_scope(engine) as session:
        for number in range(SIZE, SIZE + fill_more):
            service.append(session, "decision", decision(number))
    report = _verify(engine)
    assert report.ok, _problems(report)
    assert report.entries_checked == SIZE + fill_more
    assert report.tree_heads_checked == len(PUBLISHED)
    assert report.latest_tree_head is not None and report.latest_tree_head.tree_size == SIZE
    assert report.entries_after_latest_tree_head == fill_more
    assert report.seals_checked and report.first_bad_entry is None


def test_an_empty_log_verifies_and_an_unsigned_one_does_not(engine: Engine) -> None:
    assert _verify(engine).ok
    fill(engine, 2)
    report = _verify(engine)
    assert not report.ok and "no valid signed tree head" in _problems(report)


def test_an_altered_payload_is_named(engine: Engine) -> None:
    fill(engine, SIZE, publish_at=PUBLISHED)
    with tampering(engine) as connection:
        connection.execute(text("UPDATE audit_entry SET data = REPLACE(data, :old, :new) "
                                "WHERE seq = 9"),
                           {"old": '"amount_fen":7500', "new": '"amount_fen":9900'})
    report = _verify(engine)
    assert not report.ok
    assert report.first_bad_entry == 9, _problems(report)
    assert "not the hash of the stored leaf data" in _problems(report)


def test_an_altered_entry_with_a_recomputed_leaf_hash_is_named_by_its_seal(engine: Engine) -> None:
    fill(engine, SIZE, publish_at=PUBLISHED)
    _alter_consistently(engine, seq=9)
    report = _verify(engine)
    assert not report.ok
    assert report.first_bad_entry == 9, _problems(report)
    assert "seal does not match" in _problems(report)
    assert "do not reproduce the root signed in tree head" in _problems(report)


def test_without_the_log_key_a_consistent_alteration_is_bounded_by_tree_heads(
    engine: Engine,
) -> None:
    """A verifier that only has the published public key cannot check seals: it still fails
    the log and names the first entry after the last tree head that still matches."""
    fill(engine, SIZE, publish_at=PUBLISHED)
    with session_scope(engine) as session:
        public_key = next(iter(keys.trusted_keys(session).values())).public_hex
    _alter_consistently(engine, seq=9)
    other_data_key = "x:" + base64.b64encode(b"k" * 32).decode()
    outsider = Settings(data_keys=other_data_key)  # type: ignore[arg-type]
    report = _verify(engine, pinned_public_keys=[public_key], settings=outsider)
    assert not report.ok and not report.seals_checked
    assert report.first_bad_entry == 7, _problems(report)
    assert "entries 7..12 do not reproduce" in _problems(report)


def test_a_deleted_entry_is_named(engine: Engine) -> None:
    fill(engine, SIZE, publish_at=PUBLISHED)
    with tampering(engine) as connection:
        connection.execute(text("DELETE FROM audit_entry WHERE seq = 11"))
    report = _verify(engine)
    assert not report.ok
    assert report.first_bad_entry == 11, _problems(report)
    assert "entry 11 is missing" in _problems(report)


def test_a_deleted_last_entry_is_named(engine: Engine) -> None:
    fill(engine, SIZE, publish_at=PUBLISHED)
    with tampering(engine) as connection:
        connection.execute(text(f"DELETE FROM audit_entry WHERE seq = {SIZE - 1}"))
    report = _verify(engine)
    assert not report.ok
    assert report.first_bad_entry == SIZE - 1, _problems(report)


def test_two_reordered_entries_are_named(engine: Engine) -> None:
    fill(engine, SIZE, publish_at=PUBLISHED)
    with tampering(engine) as connection:
        for statement in ("UPDATE audit_entry SET seq = -1 WHERE seq = 5",
                          "UPDATE audit_entry SET seq = 5 WHERE seq = 14",
                          "UPDATE audit_entry SET seq = 14 WHERE seq = -1"):
            connection.execute(text(statement))
    report = _verify(engine)
    assert not report.ok
    assert report.first_bad_entry == 5, _problems(report)
    assert "belongs at sequence number 14" in _problems(report)


def test_a_forged_tree_head_signature_fails(engine: Engine) -> None:
    fill(engine, SIZE, publish_at=PUBLISHED)
    with tampering(engine) as connection:
        connection.execute(text("UPDATE audit_tree_head SET tree_size = tree_size - 1 "
                                f"WHERE tree_size = {SIZE}"))
    report = _verify(engine)
    assert not report.ok and "signature does not verify" in _problems(report)


def test_a_log_re_signed_with_a_foreign_key_is_not_trusted(engine: Engine) -> None:
    """Whoever rewrites rows can store their own public key and sign with it; the verifier
    trusts only keys it can reproduce or was given."""
    fill(engine, SIZE, publish_at=PUBLISHED)
    forger = Ed25519PrivateKey.generate()
    public_hex = keys.public_key_hex(forger.public_key())
    key_id = keys.key_id_of(public_hex)
    hasher = merkle.hasher_for("sha256")
    with session_scope(engine) as session:
        root = service.publish_tree_head(session).root_hash
    message = sth_message(hasher.name, SIZE, root, 2_000_000_000_000, key_id)
    with tampering(engine) as connection:
        connection.execute(text(
            "INSERT INTO audit_log_key (key_id, public_key, private_key, origin, created_at) "
            "VALUES (:k, :p, NULL, 'settings', CURRENT_TIMESTAMP)"), {"k": key_id, "p": public_hex})
        connection.execute(text(
            "INSERT INTO audit_tree_head (tree_size, root_hash, hash_algorithm, timestamp_ms, "
            "key_id, signature) VALUES (:n, :r, 'sha256', 2000000000000, :k, :s)"),
            {"n": SIZE, "r": root, "k": key_id, "s": forger.sign(message).hex()})
    report = _verify(engine)
    assert not report.ok and "not trusted here" in _problems(report)
    assert _verify(engine, pinned_public_keys=[public_hex]).ok  # an explicit pin is trusted


def test_a_damaged_cached_subtree_is_found(engine: Engine) -> None:
    fill(engine, SIZE, publish_at=PUBLISHED)
    with tampering(engine) as connection:
        connection.execute(text("UPDATE audit_node SET hash = :h WHERE level = 2 AND "
                                "node_index = 1"), {"h": "00" * 32})
    report = _verify(engine)
    assert not report.ok
    assert "cached subtree hash (2, 1)" in _problems(report)
    assert report.first_bad_entry is None  # no entry is bad, the cache is


def _alter_consistently(engine: Engine, seq: int) -> None:
    """Change an entry's amount and recompute its leaf hash, as a careful attacker would."""
    hasher = merkle.hasher_for("sha256")
    with engine.connect() as connection:
        data = connection.execute(text("SELECT data FROM audit_entry WHERE seq = :s"),
                                  {"s": seq}).scalar_one()
    forged = data.replace('"amount_fen":7500', '"amount_fen":9900')
    assert forged != data
    with tampering(engine) as connection:
        connection.execute(text("UPDATE audit_entry SET data = :d, leaf_hash = :h WHERE seq = :s"),
                           {"d": forged, "h": hasher.leaf(forged.encode()).hex(), "s": seq})


def test_a_truncated_log_is_caught_only_by_a_tree_head_kept_outside(engine: Engine) -> None:
    """An attacker with database rights deletes the newest entries together with the tree
    heads, cached subtrees and head state that mention them: the database alone is then
    self-consistent. A tree head an auditor kept (``audit verify --tree-head``) exposes it."""
    fill(engine, SIZE, publish_at=(13,))
    with session_scope(engine) as session:
        kept = service.publish_tree_head(session).model_dump(mode="json")
    hasher = merkle.hasher_for("sha256")
    with tampering(engine) as connection:
        leaves = [bytes.fromhex(h) for h in connection.execute(
            text("SELECT leaf_hash FROM audit_entry WHERE seq < 17 ORDER BY seq")).scalars()]
        compact = merkle.CompactRange(hasher)
        for leaf in leaves:
            compact.append(leaf)
        connection.execute(text("DELETE FROM audit_entry WHERE seq >= 17"))
        connection.execute(text(f"DELETE FROM audit_tree_head WHERE tree_size = {SIZE}"))
        for level in range(1, 6):  # nodes whose last leaf is 17..19
            connection.execute(text("DELETE FROM audit_node WHERE level = :l AND "
                                    "(node_index + 1) * :w - 1 >= 17"), {"l": level, "w": 2**level})
        connection.execute(text("UPDATE audit_log_head SET tree_size = 17, compact_range = :c"),
                           {"c": json.dumps([peak.hex() for peak in compact.peaks])})
    assert _verify(engine).ok  # the limitation: nothing inside the database shows it
    report = _verify(engine, known_tree_heads=[kept])
    assert not report.ok
    assert report.first_bad_entry == 17, _problems(report)
    assert "entries 17..19 are missing" in _problems(report)


def test_an_entry_moved_out_of_the_sequence_is_named_where_it_is_missing(engine: Engine) -> None:
    fill(engine, SIZE, publish_at=PUBLISHED)
    with tampering(engine) as connection:
        connection.execute(text("UPDATE audit_entry SET seq = -5 WHERE seq = 4"))
    report = _verify(engine)
    assert not report.ok
    assert report.first_bad_entry == 4, _problems(report)
    assert "-5: sequence number out of order" in _problems(report)
