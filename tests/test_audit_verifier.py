"""The standalone verifier (``docs/audit-verifier.py``) run as a subprocess on the JSON that
``mianshen audit prove ENTRY --json`` prints: it accepts real proofs from both databases and
both hash algorithms, and rejects every kind of tampering."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from app.audit import service
from app.db import session_scope
from tests.audit_helpers import fill

VERIFIER = Path(__file__).resolve().parent.parent / "docs" / "audit-verifier.py"


def _run(proof: dict[str, Any], tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(proof, ensure_ascii=False), encoding="utf-8")
    return subprocess.run([sys.executable, str(VERIFIER), str(path), *extra],
                          capture_output=True, text=True, timeout=60, check=False)


def _proof(engine: Engine, entry: str) -> dict[str, Any]:
    with session_scope(engine) as session:
        return service.inclusion_proof(session, entry).model_dump(mode="json")


def _flip_hex(value: str) -> str:
    return ("1" if value[0] == "0" else "0") + value[1:]


def _change_payload(proof: dict[str, Any]) -> None:
    proof["leaf_data"] = proof["leaf_data"].replace('"amount_fen":7500', '"amount_fen":9900')


def _change_payload_and_leaf_hash(proof: dict[str, Any]) -> None:
    _change_payload(proof)
    proof["leaf_hash"] = hashlib.sha256(b"\x00" + proof["leaf_data"].encode()).hexdigest()


def _flip_path_hash(proof: dict[str, Any]) -> None:
    proof["inclusion_path"][1] = _flip_hex(proof["inclusion_path"][1])


def _shorten_path(proof: dict[str, Any]) -> None:
    proof["inclusion_path"].pop()


def _flip_root(proof: dict[str, Any]) -> None:
    proof["tree_head"]["root_hash"] = _flip_hex(proof["tree_head"]["root_hash"])


def _flip_signature(proof: dict[str, Any]) -> None:
    proof["tree_head"]["signature"] = _flip_hex(proof["tree_head"]["signature"])


def _change_timestamp(proof: dict[str, Any]) -> None:
    proof["tree_head"]["timestamp_ms"] += 1


def _change_leaf_index(proof: dict[str, Any]) -> None:
    proof["leaf_index"] += 1


def _change_tree_size(proof: dict[str, Any]) -> None:
    proof["tree_size"] += 1
    proof["tree_head"]["tree_size"] = proof["tree_size"]


def _drop_path(proof: dict[str, Any]) -> None:
    del proof["inclusion_path"]


TAMPERINGS: dict[str, Callable[[dict[str, Any]], None]] = {
    "payload": _change_payload,
    "payload and leaf hash": _change_payload_and_leaf_hash,
    "path hash": _flip_path_hash,
    "path shortened": _shorten_path,
    "root": _flip_root,
    "signature": _flip_signature,
    "timestamp": _change_timestamp,
    "leaf index": _change_leaf_index,
    "tree size": _change_tree_size,
    "missing field": _drop_path,
}


def test_the_verifier_accepts_real_proofs(engine: Engine, tmp_path: Path) -> None:
    fill(engine, 13, publish_at=(13,))
    for entry in ("0", "6", "12", "decision:D-000009"):
        proof = _proof(engine, entry)
        result = _run(proof, tmp_path, "--public-key", proof["public_key"])
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.startswith("ACCEPTED: entry")


@pytest.mark.parametrize("tampering", sorted(TAMPERINGS))
def test_the_verifier_rejects_tampered_proofs(engine: Engine, tmp_path: Path,
                                              tampering: str) -> None:
    fill(engine, 13, publish_at=(13,))
    proof = _proof(engine, "9")
    TAMPERINGS[tampering](proof)
    result = _run(proof, tmp_path)
    assert result.returncode == 1, result.stdout
    assert result.stdout.startswith("REJECTED")


def test_the_verifier_rejects_a_key_other_than_the_pinned_one(engine: Engine,
                                                                tmp_path: Path) -> None:
    fill(engine, 3, publish_at=(3,))
    proof = _proof(engine, "1")
    result = _run(proof, tmp_path, "--public-key", _flip_hex(proof["public_key"]))
    assert result.returncode == 1 and "pinned" in result.stdout


def test_the_verifier_accepts_an_sm3_proof(engine: Engine, tmp_path: Path) -> None:
    with session_scope(engine) as session:
        service.create_log(session, "sm3")
    fill(engine, 6, publish_at=(6,))
    proof = _proof(engine, "4")
    assert proof["hash_algorithm"] == "sm3"
    assert _run(proof, tmp_path).returncode == 0
    proof["hash_algorithm"] = "sha256"
    proof["tree_head"]["hash_algorithm"] = "sha256"
    assert _run(proof, tmp_path).returncode == 1
