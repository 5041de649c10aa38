"""RFC 9162 Merkle tree arithmetic: hashing, tree shape, inclusion and consistency proofs.

Pure functions, no database. The tree over ``n`` leaf hashes is the RFC's Merkle Tree Hash:
``MTH({}) = HASH()``, ``MTH({d0}) = HASH(0x00 || d0)``, and for ``n > 1`` with ``k`` the largest
power of two smaller than ``n``: ``MTH(D[n]) = HASH(0x01 || MTH(D[0:k]) || MTH(D[k:n]))``.
The hash is pluggable (:data:`HASHERS`: SHA-256, SM3).

Storage never rehashes the whole log: a tree is described by the hashes of its *perfect*
subtrees, a node ``(level, index)`` covering leaves ``[index * 2**level, (index + 1) * 2**level)``.
Level 0 is the leaf hashes. :class:`CompactRange` keeps the perfect subtrees of the current tree
(one per set bit of its size) and reports the nodes each append completes; any subtree hash a
proof needs is then a handful of stored nodes (:func:`perfect_cover`). Proof generation is
two-phase so callers can fetch every node a proof needs in one query: the ranges come from
:func:`inclusion_path_ranges` / :func:`consistency_path_ranges`, the nodes from ``fetch``.

Verification (:func:`verify_inclusion`, :func:`verify_consistency`) follows RFC 9162 sections
2.1.3.2 and 2.1.4.2 step by step. The database-facing code is in ``repository``/``service``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes

NodeKey = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # leaves [start, end)
NodeFetch = Callable[[Sequence[NodeKey]], Mapping[NodeKey, bytes]]

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


@dataclass(frozen=True)
class TreeHasher:
    """One hash algorithm, with the RFC 9162 domain separation for leaves and nodes."""

    name: str
    digest: Callable[[bytes], bytes]
    size: int = 32

    def leaf(self, data: bytes) -> bytes:
        return self.digest(LEAF_PREFIX + data)

    def node(self, left: bytes, right: bytes) -> bytes:
        return self.digest(NODE_PREFIX + left + right)

    def empty_root(self) -> bytes:
        return self.digest(b"")


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _sm3(data: bytes) -> bytes:
    hasher = hashes.Hash(hashes.SM3())
    hasher.update(data)
    return hasher.finalize()


HASHERS: dict[str, TreeHasher] = {
    "sha256": TreeHasher("sha256", _sha256),
    "sm3": TreeHasher("sm3", _sm3),
}


def hasher_for(name: str) -> TreeHasher:
    try:
        return HASHERS[name]
    except KeyError:
        raise ValueError(f"unknown hash algorithm {name!r}; known: {sorted(HASHERS)}") from None


def largest_power_of_two_below(n: int) -> int:
    """The RFC's split point ``k``: the largest power of two strictly smaller than ``n >= 2``."""
    if n < 2:
        raise ValueError("a split needs at least two leaves")
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hasher: TreeHasher, leaves: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash straight from the RFC's recursive definition (reference, O(n))."""
    if not leaves:
        return hasher.empty_root()
    if len(leaves) == 1:
        return leaves[0]
    k = largest_power_of_two_below(len(leaves))
    return hasher.node(
        root_from_leaf_hashes(hasher, leaves[:k]), root_from_leaf_hashes(hasher, leaves[k:])
    )


# --- proof shapes ------------------------------------------------------------------------------


def inclusion_path_ranges(index: int, size: int) -> list[Range]:
    """Leaf ranges whose subtree hashes form ``PATH(index, D[size])`` (RFC 9162 2.1.3.1),
    in proof order (from the leaf's sibling up to the root's other child)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = largest_power_of_two_below(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return ranges[::-1]


def consistency_path_ranges(old_size: int, new_size: int) -> list[Range]:
    """Leaf ranges whose subtree hashes form ``PROOF(old_size, D[new_size])``
    (RFC 9162 2.1.4.1, ``SUBPROOF`` unrolled), in proof order."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    ranges: list[Range] = []
    start, end, m, whole_old_tree = 0, new_size, old_size, True
    while m != end - start:
        k = largest_power_of_two_below(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            whole_old_tree = False
    if not whole_old_tree:
        ranges.append((start, end))
    return ranges[::-1]


def perfect_cover(start: int, end: int) -> list[NodeKey]:
    """The stored perfect subtrees whose hashes give ``MTH(D[start:end])``."""
    size = end - start
    if size <= 0:
        raise ValueError("empty range")
    if size & (size - 1) == 0 and start % size == 0:
        level = size.bit_length() - 1
        return [(level, start >> level)]
    k = largest_power_of_two_below(size)
    return perfect_cover(start, start + k) + perfect_cover(start + k, end)


def range_hash(hasher: TreeHasher, start: int, end: int, nodes: Mapping[NodeKey, bytes]) -> bytes:
    """``MTH(D[start:end])`` from the perfect subtrees listed by :func:`perfect_cover`."""
    size = end - start
    if size & (size - 1) == 0 and start % size == 0:
        level = size.bit_length() - 1
        return nodes[(level, start >> level)]
    k = largest_power_of_two_below(size)
    return hasher.node(
        range_hash(hasher, start, start + k, nodes), range_hash(hasher, start + k, end, nodes)
    )


def hash_ranges(hasher: TreeHasher, ranges: Iterable[Range], fetch: NodeFetch) -> list[bytes]:
    """Subtree hashes of ``ranges``, fetching every stored node they need in one call."""
    ranges = list(ranges)
    wanted = sorted({key for start, end in ranges for key in perfect_cover(start, end)})
    nodes = fetch(wanted)
    missing = [key for key in wanted if key not in nodes]
    if missing:
        raise LookupError(f"stored tree is missing nodes {missing[:5]}")
    return [range_hash(hasher, start, end, nodes) for start, end in ranges]


def tree_root(hasher: TreeHasher, size: int, fetch: NodeFetch) -> bytes:
    if size == 0:
        return hasher.empty_root()
    return hash_ranges(hasher, [(0, size)], fetch)[0]


def inclusion_proof(hasher: TreeHasher, index: int, size: int, fetch: NodeFetch) -> list[bytes]:
    return hash_ranges(hasher, inclusion_path_ranges(index, size), fetch)


def consistency_proof(
    hasher: TreeHasher, old_size: int, new_size: int, fetch: NodeFetch
) -> list[bytes]:
    return hash_ranges(hasher, consistency_path_ranges(old_size, new_size), fetch)


# --- verification (RFC 9162 2.1.3.2 and 2.1.4.2) ----------------------------------------------


def verify_inclusion(
    hasher: TreeHasher,
    index: int,
    size: int,
    leaf_hash: bytes,
    path: Sequence[bytes],
    root: bytes,
) -> bool:
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hasher.node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = hasher.node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(
    hasher: TreeHasher,
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    path: Sequence[bytes],
) -> bool:
    if not 0 < old_size <= new_size:
        return False
    if old_size == new_size:
        return not path and hmac.compare_digest(old_root, new_root)
    if not path:
        return False
    proof = list(path)
    if old_size & (old_size - 1) == 0:
        proof.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hasher.node(c, fr)
            sr = hasher.node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = hasher.node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)


# --- the right edge of a growing tree ---------------------------------------------------------


@dataclass
class CompactRange:
    """The perfect subtrees of a tree of ``size`` leaves, largest first (one per set bit of
    ``size``): enough to append a leaf and to compute the root without any other node."""

    hasher: TreeHasher
    size: int = 0
    peaks: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.peaks) != bin(self.size).count("1"):
            raise ValueError(f"a tree of size {self.size} has {self.size.bit_count()} peaks")

    def append(self, leaf_hash: bytes) -> list[tuple[NodeKey, bytes]]:
        """Add a leaf; return the nodes above level 0 that it completes, lowest first."""
        index = self.size
        carry, level = leaf_hash, 0
        completed: list[tuple[NodeKey, bytes]] = []
        while (index >> level) & 1:
            carry = self.hasher.node(self.peaks.pop(), carry)
            level += 1
            completed.append(((level, index >> level), carry))
        self.peaks.append(carry)
        self.size += 1
        return completed

    def root(self) -> bytes:
        if not self.peaks:
            return self.hasher.empty_root()
        root = self.peaks[-1]
        for peak in reversed(self.peaks[:-1]):
            root = self.hasher.node(peak, root)
        return root

    def peak_keys(self) -> list[NodeKey]:
        """Node keys of ``peaks`` (the same as ``perfect_cover(0, size)``)."""
        return perfect_cover(0, self.size) if self.size else []
