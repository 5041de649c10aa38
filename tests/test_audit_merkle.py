"""RFC 9162 Merkle arithmetic: the published certificate-transparency vectors, and properties over
random tree sizes and indices (proofs from stored perfect subtrees verify with the RFC's
algorithms, and any change to a proof, leaf or root is rejected)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.audit import merkle
from app.audit.merkle import CompactRange

SHA256 = merkle.hasher_for("sha256")
SM3 = merkle.hasher_for("sm3")

# Leaf inputs and roots of the RFC 6962 reference vectors (certificate-transparency
# merkle_tree_test.cc / python/ct/crypto/merkle_test.py, reused by RFC 9162 implementations).
VECTOR_LEAVES = [
    bytes.fromhex(h)
    for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f"]
]
VECTOR_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
VECTOR_INCLUSION = [
    (0, 1, []),
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
VECTOR_CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]


class MemoryTree:
    """Perfect subtrees kept the way the database keeps them: leaves plus completed nodes."""

    def __init__(self, hasher: merkle.TreeHasher, leaf_hashes: list[bytes]) -> None:
        self.nodes: dict[merkle.NodeKey, bytes] = {}
        self.compact = CompactRange(hasher)
        for index, leaf in enumerate(leaf_hashes):
            self.nodes[(0, index)] = leaf
            self.nodes.update(self.compact.append(leaf))
        self.fetches = 0

    def fetch(self, keys: Iterable[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
        self.fetches += 1
        return {key: self.nodes[key] for key in keys if key in self.nodes}


def _leaves(count: int, hasher: merkle.TreeHasher = SHA256) -> list[bytes]:
    return [hasher.leaf(i.to_bytes(8, "big")) for i in range(count)]


def test_published_roots() -> None:
    leaf_hashes = [SHA256.leaf(leaf) for leaf in VECTOR_LEAVES]
    tree = MemoryTree(SHA256, leaf_hashes)
    for size, expected in enumerate(VECTOR_ROOTS):
        assert merkle.root_from_leaf_hashes(SHA256, leaf_hashes[:size]).hex() == expected
        assert merkle.tree_root(SHA256, size, tree.fetch).hex() == expected
        assert CompactRange(SHA256, 0, []).root().hex() == VECTOR_ROOTS[0]
    assert tree.compact.root().hex() == VECTOR_ROOTS[8]


@pytest.mark.parametrize(("index", "size", "path"), VECTOR_INCLUSION)
def test_published_inclusion_proofs(index: int, size: int, path: list[str]) -> None:
    leaf_hashes = [SHA256.leaf(leaf) for leaf in VECTOR_LEAVES]
    tree = MemoryTree(SHA256, leaf_hashes[:size])
    proof = merkle.inclusion_proof(SHA256, index, size, tree.fetch)
    assert [p.hex() for p in proof] == path
    root = bytes.fromhex(VECTOR_ROOTS[size])
    assert merkle.verify_inclusion(SHA256, index, size, leaf_hashes[index], proof, root)


@pytest.mark.parametrize(("old", "new", "path"), VECTOR_CONSISTENCY)
def test_published_consistency_proofs(old: int, new: int, path: list[str]) -> None:
    tree = MemoryTree(SHA256, [SHA256.leaf(leaf) for leaf in VECTOR_LEAVES[:new]])
    proof = merkle.consistency_proof(SHA256, old, new, tree.fetch)
    assert [p.hex() for p in proof] == path
    old_root, new_root = bytes.fromhex(VECTOR_ROOTS[old]), bytes.fromhex(VECTOR_ROOTS[new])
    assert merkle.verify_consistency(SHA256, old, new, old_root, new_root, proof)


def test_published_proof_from_a_production_log() -> None:
    """An inclusion proof of leaf 848,049 in a 3,630,887-entry CT log (certificate-transparency
    python/ct/crypto/merkle_test.py): a deep, unbalanced path checked by our verifier."""
    path = [bytes.fromhex(h) for h in (
        "1a208aeebcd1b39fe2de247ee8db9454e1e93a312d206b87f6ca9cc6ec6f1ddd",
        "0a1b78b383f580856f433c01a5741e160d451c185910027f6cc9f828687a40c4",
        "3d1745789bc63f2da15850de1c12a5bf46ed81e1cc90f086148b1662e79aab3d",
        "9095b61e14d8990acf390905621e62b1714fb8e399fbb71de5510e0aef45affe",
        "0a332b91b8fab564e6afd1dd452449e04619b18accc0ff9aa8393cd4928451f2",
        "2336f0181d264aed6d8f3a6507ca14a8d3b3c3a23791ac263e845d208c1ee330",
        "b4ce56e300590500360c146c6452edbede25d4ed83919278749ee5dbe178e048",
        "933f6ddc848ea562e4f9c5cfb5f176941301dad0c6fdb9d1fbbe34fac1be6966",
        "b95a6222958a86f74c030be27c44f57dbe313e5e7c7f4ffb98bcbd3a03bb52f2",
        "daeeb3ce5923defd0faeb8e0c210b753b85b809445d7d3d3cd537a9aabaa9c45",
        "7fadd0a13e9138a2aa6c3fdec4e2275af233b94812784f66bcca9aa8e989f2bc",
        "1864e6ba3e32878610546539734fb5eeae2529991f130c575c73a7e25a2a7c56",
        "12842d1202b1dc6828a17ab253c02e7ce9409b5192430feba44189f39cc02d66",
        "29af64b16fa3053c13d02ac63aa75b23aa468506e44c3a2315edc85d2dc22b11",
        "b527b99934a0bd9edd154e449b0502e2c499bba783f3bc3dfe23364b6b532009",
        "4584db8ae8e351ace08e01f306378a92bfd43611714814f3d834a2842d69faa8",
        "86a9a41573b0d6e4292f01e93243d6cc65b30f06606fc6fa57390e7e90ed580f",
        "a88b98fbe84d4c6aae8db9d1605dfac059d9f03fe0fcb0d5dff1295dacba09e6",
        "06326dc617a6d1f7021dc536026dbfd5fffc6f7c5531d48ef6ccd1ed1569f2a1",
        "f41fe8fdc3a2e4e8345e30216e7ebecffee26ff266eeced208a6c2a3cf08f960",
        "40cf5bde8abb76983f3e98ba97aa36240402975674e120f234b3448911090f8d",
        "b3222dc8658538079883d980d7fdc2bef9285344ea34338968f736b04aeb387a",
    )]
    leaf = bytes.fromhex("7a395c866d5ecdb0cccb623e011dbc392cd348d1d1d72776174e127a24b09c78")
    root = bytes.fromhex("78316a05c9bcf14a3a4548f5b854a9adfcd46a4c034401b3ce7eb7ac2f1d0ecb")
    assert merkle.verify_inclusion(SHA256, 848049, 3630887, leaf, path, root)
    assert len(merkle.inclusion_path_ranges(848049, 3630887)) == len(path)
    assert not merkle.verify_inclusion(SHA256, 848050, 3630887, leaf, path, root)
    assert not merkle.verify_inclusion(SHA256, 848049, 3630887, leaf, path[:-1], root)


def test_sm3_is_the_gbt_32905_hash() -> None:
    # GB/T 32905-2016 example 1: SM3("abc").
    assert SM3.digest(b"abc").hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    assert SM3.leaf(b"x") == SM3.digest(b"\x00x")
    assert SM3.node(b"a", b"b") == SM3.digest(b"\x01ab")
    assert SM3.leaf(b"x") != SHA256.leaf(b"x")


def test_malformed_requests_are_rejected() -> None:
    h = b"\x01" * 32
    assert not merkle.verify_inclusion(SHA256, 3, 3, h, [], h)
    assert not merkle.verify_inclusion(SHA256, 0, 0, h, [], h)
    assert not merkle.verify_consistency(SHA256, 0, 3, h, h, [h])
    assert not merkle.verify_consistency(SHA256, 4, 3, h, h, [h])
    assert not merkle.verify_consistency(SHA256, 3, 3, h, h, [h])
    assert not merkle.verify_consistency(SHA256, 3, 3, h, b"\x02" * 32, [])
    assert not merkle.verify_consistency(SHA256, 2, 3, h, h, [])
    with pytest.raises(ValueError):
        merkle.inclusion_path_ranges(8, 8)
    with pytest.raises(ValueError):
        merkle.consistency_path_ranges(0, 8)
    with pytest.raises(ValueError):
        merkle.hasher_for("md5")


def _flip(value: bytes, byte: int) -> bytes:
    changed = bytearray(value)
    changed[byte % len(changed)] ^= 1
    return bytes(changed)


sizes = st.integers(min_value=1, max_value=3000)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), size=sizes, algorithm=st.sampled_from(["sha256", "sm3"]))
def test_proofs_from_stored_subtrees_verify_and_reject_changes(
    data: st.DataObject, size: int, algorithm: str
) -> None:
    hasher = merkle.hasher_for(algorithm)
    leaves = _leaves(size, hasher)
    tree = MemoryTree(hasher, leaves)
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(1, size), label="old size")
    root = merkle.root_from_leaf_hashes(hasher, leaves)
    old_root = merkle.root_from_leaf_hashes(hasher, leaves[:old])

    assert tree.compact.root() == root
    assert merkle.tree_root(hasher, old, tree.fetch) == old_root
    assert len(merkle.perfect_cover(0, size)) == size.bit_count()

    proof = merkle.inclusion_proof(hasher, index, size, tree.fetch)
    assert merkle.verify_inclusion(hasher, index, size, leaves[index], proof, root)
    assert not merkle.verify_inclusion(hasher, index, size, _flip(leaves[index], 0), proof, root)
    assert not merkle.verify_inclusion(hasher, index, size, leaves[index], proof, _flip(root, 3))
    assert not merkle.verify_inclusion(hasher, index, size, leaves[index], [*proof, root], root)
    if proof:
        which = data.draw(st.integers(0, len(proof) - 1), label="which hash")
        tampered = list(proof)
        tampered[which] = _flip(tampered[which], data.draw(st.integers(0, 31)))
        assert not merkle.verify_inclusion(hasher, index, size, leaves[index], tampered, root)
        assert not merkle.verify_inclusion(hasher, index, size, leaves[index], proof[:-1], root)
    if size > 1:
        other = (index + 1) % size
        assert not merkle.verify_inclusion(hasher, other, size, leaves[index], proof, root)

    consistency = merkle.consistency_proof(hasher, old, size, tree.fetch)
    assert merkle.verify_consistency(hasher, old, size, old_root, root, consistency)
    if old < size:
        assert not merkle.verify_consistency(hasher, old, size, _flip(old_root, 1), root,
                                             consistency)
        assert not merkle.verify_consistency(hasher, old, size, old_root, _flip(root, 1),
                                             consistency)
        which = data.draw(st.integers(0, len(consistency) - 1), label="which consistency hash")
        tampered = list(consistency)
        tampered[which] = _flip(tampered[which], 7)
        assert not merkle.verify_consistency(hasher, old, size, old_root, root, tampered)
        assert not merkle.verify_consistency(hasher, old, size, old_root, root, consistency[:-1])
        assert not merkle.verify_consistency(hasher, old, size, old_root, root,
                                             [*consistency, root])


def test_every_small_tree_against_the_reference() -> None:
    leaves = _leaves(130)
    tree = MemoryTree(SHA256, leaves)
    for size in range(1, 131):
        root = merkle.root_from_leaf_hashes(SHA256, leaves[:size])
        for index in range(size):
            proof = merkle.inclusion_proof(SHA256, index, size, tree.fetch)
            assert merkle.verify_inclusion(SHA256, index, size, leaves[index], proof, root)
        for old in range(1, size + 1):
            old_root = merkle.root_from_leaf_hashes(SHA256, leaves[:old])
            proof = merkle.consistency_proof(SHA256, old, size, tree.fetch)
            assert merkle.verify_consistency(SHA256, old, size, old_root, root, proof)


def test_a_proof_needs_one_fetch_of_logarithmically_many_nodes() -> None:
    size = 1_000_003
    keys: list[merkle.NodeKey] = []

    def fetch(wanted: Sequence[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
        keys.extend(wanted)
        return {key: hashlib.sha256(repr(key).encode()).digest() for key in keys}

    merkle.inclusion_proof(SHA256, 777_777, size, fetch)
    assert 0 < len(keys) <= 2 * size.bit_length()
    keys.clear()
    merkle.consistency_proof(SHA256, 654_321, size, fetch)
    assert 0 < len(keys) <= 3 * size.bit_length()


def test_compact_range_rejects_a_wrong_number_of_peaks() -> None:
    with pytest.raises(ValueError):
        CompactRange(SHA256, 3, [b"\x00" * 32])
