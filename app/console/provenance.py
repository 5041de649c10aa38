"""What the auditor console shows about one decision beyond its row: whether its records are in
the tamper-evident audit log, each inclusion proof re-checked here against the signed tree head
(path → root, and the tree head's Ed25519 signature)."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session

from app.audit import merkle
from app.audit import service as audit
from app.audit.schemas import InclusionProofView
from app.errors import MianshenError
from eligibility.grants.models import Decision

WHAT_ZH = {"decision": "该决定本身", "policy_approved": "作出决定所用政策版本的审批记录"}


@dataclass(frozen=True)
class Inclusion:
    reference: str
    what: str
    proof: InclusionProofView | None
    path_verified: bool
    signature_verified: bool
    problem: str  # why there is no proof, in Chinese; empty when there is one

    @property
    def verified(self) -> bool:
        return self.proof is not None and self.path_verified and self.signature_verified


def check_proof(proof: InclusionProofView) -> tuple[bool, bool]:
    """(the path leads from the leaf to the signed root, the tree head's signature is good)."""
    hasher = merkle.hasher_for(proof.hash_algorithm)
    leaf = hasher.leaf(proof.leaf_data.encode())
    path_ok = leaf.hex() == proof.leaf_hash and merkle.verify_inclusion(
        hasher, proof.leaf_index, proof.tree_size, leaf,
        [bytes.fromhex(p) for p in proof.inclusion_path], bytes.fromhex(proof.tree_head.root_hash))
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(proof.public_key)).verify(
            bytes.fromhex(proof.tree_head.signature), proof.tree_head.signed_message.encode())
        signature_ok = True
    except (InvalidSignature, ValueError):
        signature_ok = False
    return path_ok, signature_ok


def _problem_zh(error: MianshenError) -> str:
    if "not yet covered" in str(error):
        return "该记录已写入审计日志,但尚未被已签名的树头覆盖(等待下一次发布树头)"
    if error.status_code == 404:
        return "审计日志中没有该记录"
    return "审计日志校验失败,请运行 mianshen audit verify 检查"


def inclusion(session: Session, kind: str, record_ref: str) -> Inclusion:
    reference = f"{kind}:{record_ref}"
    try:
        proof = audit.inclusion_proof(session, reference)
    except MianshenError as error:
        problem = _problem_zh(error)
        return Inclusion(reference, WHAT_ZH.get(kind, kind), None, False, False, problem)
    path_ok, signature_ok = check_proof(proof)
    return Inclusion(reference, WHAT_ZH.get(kind, kind), proof, path_ok, signature_ok, "")


def inclusions(session: Session, decision: Decision) -> list[Inclusion]:
    return [inclusion(session, "decision", str(decision.id)),
            inclusion(session, "policy_approved", decision.policy_version)]
