"""``audit verify``: recompute the whole log from the stored entries and check it against every
signed tree head, naming the first bad entry.

One streaming pass over the entries in sequence order (bounded memory, keyset pages):

* each entry: its leaf data is canonical JSON naming this very sequence number, kind, record and
  time (a row moved to another position or with edited columns shows here), the stored leaf hash
  is the hash of the stored data (an edited payload shows here), and its seal (a MAC under the
  log key over position and leaf hash) matches, so even an entry whose leaf hash was recomputed
  by whoever edited it is named exactly; a missing sequence number is a deleted entry;
* the recomputed tree: at every size a tree head was signed for, the recomputed root must equal
  the signed root (signature checked with a trusted key, see ``keys``); the cached subtree
  hashes must equal the recomputed ones (proofs are built from them);
* afterwards: a head covering more entries than are stored means entries were deleted at the
  end; every earlier tree head must be consistent with the latest by an RFC 9162 consistency
  proof built from the stored tree.
"""

from __future__ import annotations

import json
from bisect import bisect_left, insort
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from app.audit import keys, merkle, repository
from app.audit.merkle import CompactRange, NodeKey, TreeHasher
from app.audit.models import AuditTreeHead
from app.audit.schemas import (
    Finding,
    VerifyReport,
    canonical_json,
    format_timestamp,
    seal_message,
    sth_message,
)
from app.audit.service import tree_head_view
from app.settings import Settings

PAGE = 5000


@dataclass
class _Check:
    hasher: TreeHasher
    trusted: dict[str, keys.LogKey]
    heads_by_size: dict[int, list[AuditTreeHead]]
    max_findings: int
    findings: list[Finding] = field(default_factory=list)
    total_findings: int = 0
    unsealed_keys: set[str] = field(default_factory=set)
    last_matching_size: int = 0
    last_bad_seq: int | None = None
    bad_entries: list[int] = field(default_factory=list)

    def found(self, seq: int | None, problem: str) -> None:
        self.total_findings += 1
        if seq is not None:
            self.last_bad_seq = seq
            insort(self.bad_entries, seq)
        if len(self.findings) < self.max_findings:
            self.findings.append(Finding(seq=seq, problem=problem))

    def any_bad_entry_in(self, start: int, end: int) -> bool:
        position = bisect_left(self.bad_entries, start)
        return position < len(self.bad_entries) and self.bad_entries[position] < end

    def entry(self, row: Any) -> bytes:
        """Check one stored entry; return its recomputed leaf hash."""
        seq = row.seq
        leaf = self.hasher.leaf(row.data.encode())
        try:
            envelope = json.loads(row.data)
            canonical = canonical_json(envelope) == row.data
        except ValueError:
            envelope, canonical = {}, False
        if not canonical:
            self.found(seq, "leaf data is not canonical JSON (entry altered)")
        elif envelope.get("seq") != seq:
            self.found(seq, f"leaf data belongs at sequence number {envelope.get('seq')} "
                            "(entries moved or reordered)")
        elif (envelope.get("kind"), envelope.get("ref")) != (row.kind, row.record_ref):
            self.found(seq, "kind or record columns differ from the leaf data (entry altered)")
        elif envelope.get("at") != format_timestamp(row.appended_at):
            self.found(seq, "appended_at differs from the leaf data (entry altered)")
        if leaf.hex() != row.leaf_hash:
            self.found(seq, "stored leaf hash is not the hash of the stored leaf data "
                            "(entry altered)")
        key = self.trusted.get(row.key_id)
        if key is None or key.seal_key is None:
            self.unsealed_keys.add(row.key_id)
        elif key.seal(seal_message(self.hasher.name, seq, leaf.hex())) != row.seal:
            self.found(seq, "seal does not match this position and content "
                            "(entry altered, moved or re-hashed)")
        return leaf

    def tree_heads_at(self, compact: CompactRange) -> None:
        for tree_head in self.heads_by_size.get(compact.size, []):
            if compact.root().hex() == tree_head.root_hash:
                self.last_matching_size = compact.size
            else:
                # Name the range's first entry only if no entry in it was named already.
                named = (self.last_bad_seq is not None
                         and self.last_bad_seq >= self.last_matching_size)
                self.found(None if named else self.last_matching_size,
                           f"entries {self.last_matching_size}..{compact.size - 1} do not "
                           f"reproduce the root signed in {_label(tree_head)}")


def _label(tree_head: AuditTreeHead) -> str:
    if tree_head.id is None:
        return f"the given tree head of size {tree_head.tree_size}"
    return f"tree head #{tree_head.id}"


def _signed_heads(session: Session, check: _Check, algorithm: str,
                  external: list[AuditTreeHead]) -> list[AuditTreeHead]:
    """Tree heads whose signature verifies under a trusted key: the stored ones in publication
    order, then those given from outside (kept by auditors, so a truncated log shows)."""
    good: list[AuditTreeHead] = []
    previous: AuditTreeHead | None = None
    for tree_head in [*repository.tree_heads(session), *external]:
        message = sth_message(tree_head.hash_algorithm, tree_head.tree_size,
                              tree_head.root_hash, tree_head.timestamp_ms, tree_head.key_id)
        key = check.trusted.get(tree_head.key_id)
        if key is None:
            check.found(None, f"{_label(tree_head)} is signed by key {tree_head.key_id}, "
                              "which is not trusted here (pin it with --public-key)")
            continue
        if not key.verify(tree_head.signature, message):
            check.found(None, f"{_label(tree_head)}: signature does not verify")
            continue
        if tree_head.hash_algorithm != algorithm:
            check.found(None, f"{_label(tree_head)} uses {tree_head.hash_algorithm}, "
                              f"the log {algorithm}")
            continue
        if tree_head.id is None:
            good.append(tree_head)
            continue
        if previous is not None and (tree_head.tree_size < previous.tree_size
                                     or tree_head.timestamp_ms < previous.timestamp_ms):
            check.found(None, f"{_label(tree_head)} is older or smaller than "
                              f"{_label(previous)} published before it")
        previous = tree_head
        good.append(tree_head)
    return good


def _check_nodes(session: Session, check: _Check, start: int, end: int,
                 computed: dict[NodeKey, bytes]) -> None:
    stored = repository.nodes_completed_by(session, start, end)
    for node_key in sorted(set(stored) | set(computed)):
        level, index = node_key
        if check.any_bad_entry_in(index << level, (index + 1) << level):
            continue  # a consequence of an entry already named
        value = computed.get(node_key)
        if value is None or stored.get(node_key) != value.hex():
            check.found(None, f"cached subtree hash {node_key} (level, index) differs from the "
                              "recomputed one (proofs built from it would fail)")


def verify_log(session: Session, *, pinned_public_keys: list[str] | None = None,
               known_tree_heads: list[dict[str, Any]] | None = None,
               max_findings: int = 50, settings: Settings | None = None) -> VerifyReport:
    """Check the log (see the module docstring); on PostgreSQL in one REPEATABLE READ snapshot
    when the session has not started its transaction yet. ``known_tree_heads`` are tree heads
    kept outside the database (the JSON of ``audit sth --json``), checked like stored ones."""
    if not session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    head = repository.head(session)
    algorithm = head.hash_algorithm if head else "sha256"
    problems = []
    if algorithm not in merkle.HASHERS:
        problems.append(f"log head names an unknown hash algorithm {algorithm!r}")
        algorithm = "sha256"
    trusted = keys.trusted_keys(session, pinned_public_keys, settings)
    check = _Check(merkle.hasher_for(algorithm), trusted, {}, max_findings)
    for problem in problems:
        check.found(None, problem)
    external = [AuditTreeHead(id=None, tree_size=int(t["tree_size"]), root_hash=t["root_hash"],
                              hash_algorithm=t["hash_algorithm"],
                              timestamp_ms=int(t["timestamp_ms"]), key_id=t["key_id"],
                              signature=t["signature"]) for t in known_tree_heads or []]
    signed = _signed_heads(session, check, algorithm, external)
    for tree_head in signed:
        check.heads_by_size.setdefault(tree_head.tree_size, []).append(tree_head)

    compact = CompactRange(check.hasher)
    check.tree_heads_at(compact)
    expected, gap = 0, False
    last_seq: int | None = None
    while rows := repository.entry_rows_after(session, last_seq, PAGE):
        last_seq = rows[-1].seq
        page_start = compact.size
        computed: dict[NodeKey, bytes] = {}
        for row in rows:
            if row.seq < expected:
                check.found(row.seq, "sequence number out of order")
                continue
            if row.seq > expected:
                check.found(expected, f"entry {expected} is missing (deleted); the next stored "
                                      f"entry is {row.seq}")
                gap, expected = True, row.seq
            leaf = check.entry(row)
            expected += 1
            if not gap:
                computed.update(compact.append(leaf))
                check.tree_heads_at(compact)
        if not gap or compact.size > page_start:
            _check_nodes(session, check, page_start, compact.size, computed)

    if not gap:
        for size in sorted(s for s in check.heads_by_size if s > compact.size):
            check.found(compact.size, f"entries {compact.size}..{size - 1} are missing: "
                                      f"{_label(check.heads_by_size[size][0])} covers {size}")
            break
        _check_head(session, check, compact, head)
    latest = _check_consistency(session, check, signed) if signed else None
    if latest is None and expected > 0:
        check.found(None, "no valid signed tree head covers the log; run `mianshen audit sth`")

    in_log = [seq for seq in check.bad_entries if seq >= 0] or check.bad_entries
    return VerifyReport(
        ok=check.total_findings == 0, hash_algorithm=head.hash_algorithm if head else None,
        entries_checked=expected, head_tree_size=head.tree_size if head else 0,
        recomputed_root=compact.root().hex() if not gap else None,
        latest_tree_head=tree_head_view(latest) if latest else None,
        tree_heads_checked=len(signed),
        entries_after_latest_tree_head=max(expected - latest.tree_size, 0) if latest else expected,
        seals_checked=not check.unsealed_keys, first_bad_entry=min(in_log) if in_log else None,
        findings=check.findings, findings_total=check.total_findings,
    )


def _check_head(session: Session, check: _Check, compact: CompactRange, head: Any) -> None:
    if head is None:
        if compact.size:
            check.found(None, "entries exist but the log head row is missing")
        return
    if head.tree_size != compact.size:
        check.found(None, f"log head says {head.tree_size} entries, {compact.size} are stored")
    elif (json.loads(head.compact_range) != [peak.hex() for peak in compact.peaks]
          and not check.bad_entries):
        check.found(None, "log head compact range differs from the recomputed tree")
    expected_nodes = compact.size - compact.size.bit_count()
    stored_nodes = repository.count_nodes(session)
    if stored_nodes != expected_nodes:
        check.found(None, f"{stored_nodes} cached subtree hashes stored, {expected_nodes} expected")


def _check_consistency(session: Session, check: _Check,
                       signed: list[AuditTreeHead]) -> AuditTreeHead | None:
    latest = max(signed, key=lambda t: (t.tree_size, t.timestamp_ms, t.id or 0))
    new_root = bytes.fromhex(latest.root_hash)

    def fetch(node_keys: Any) -> dict[NodeKey, bytes]:
        return repository.fetch_nodes(session, node_keys)

    earlier = {t.tree_size: t for t in signed if 0 < t.tree_size < latest.tree_size}
    for size, tree_head in sorted(earlier.items()):
        try:
            path = merkle.consistency_proof(check.hasher, size, latest.tree_size, fetch)
        except LookupError:
            check.found(None, f"no consistency proof from {_label(tree_head)}: "
                              "stored subtree hashes are missing")
            continue
        if not merkle.verify_consistency(check.hasher, size, latest.tree_size,
                                         bytes.fromhex(tree_head.root_hash), new_root, path):
            check.found(None, f"{_label(tree_head)} (size {size}) is not consistent with "
                              f"the latest {_label(latest)} (size {latest.tree_size})")
    return latest
