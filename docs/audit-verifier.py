#!/usr/bin/env python3
"""Standalone verifier of a Mianshen audit-log inclusion proof.

    mianshen audit prove 42 --json > proof.json
    python3 audit-verifier.py proof.json --public-key <the log's published key, hex>

Checks that the leaf data hashes to the leaf hash and names this leaf index, that the RFC 9162
inclusion path leads from it to the root of the signed tree head, and that the tree head is
signed (Ed25519) by the public key. Prints ACCEPTED and exits 0, or REJECTED and exits 1.
Without --public-key it trusts the key inside the proof: pin the published key for real use.
Needs only the Python standard library and `cryptography`. Format: docs/audit.md.
"""

import argparse
import hashlib
import json
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def digest(algorithm, data):
    if algorithm == "sha256":
        return hashlib.sha256(data).digest()
    if algorithm == "sm3":
        sm3 = hashes.Hash(hashes.SM3())
        sm3.update(data)
        return sm3.finalize()
    raise ValueError(f"unknown hash algorithm {algorithm!r}")


def root_from_inclusion_path(algorithm, index, size, leaf_hash, path):
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        raise ValueError("leaf index outside the tree")
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            raise ValueError("inclusion path too long")
        if fn & 1 or fn == sn:
            r = digest(algorithm, b"\x01" + p + r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = digest(algorithm, b"\x01" + r + p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("inclusion path too short")
    return r


def verify(proof, pinned_key=None):
    """Return the verified leaf (its canonical JSON decoded); raise ValueError if not valid."""
    algorithm, head = proof["hash_algorithm"], proof["tree_head"]
    index, size = proof["leaf_index"], proof["tree_size"]
    data = proof["leaf_data"].encode()
    leaf_hash = digest(algorithm, b"\x00" + data)
    if leaf_hash.hex() != proof["leaf_hash"]:
        raise ValueError("leaf data does not hash to the leaf hash")
    leaf = json.loads(data)
    if leaf["seq"] != index:
        raise ValueError("leaf data names another position in the log")
    if (head["tree_size"], head["hash_algorithm"]) != (size, algorithm):
        raise ValueError("proof and tree head disagree on the tree")
    path = [bytes.fromhex(h) for h in proof["inclusion_path"]]
    if root_from_inclusion_path(algorithm, index, size, leaf_hash, path).hex() != head["root_hash"]:
        raise ValueError("inclusion path does not lead to the signed root")
    public_key = (pinned_key or proof["public_key"]).lower()
    if public_key != proof["public_key"].lower():
        raise ValueError("tree head names another key than the pinned public key")
    if hashlib.sha256(bytes.fromhex(public_key)).hexdigest()[:16] != head["key_id"]:
        raise ValueError("tree head key id is not the id of the public key")
    lines = ["mianshen-audit-sth/v1", f"hash={algorithm}", f"size={size}",
             f"root={head['root_hash']}", f"time={head['timestamp_ms']}", f"key={head['key_id']}"]
    message = "".join(line + "\n" for line in lines).encode()
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
            bytes.fromhex(head["signature"]), message)
    except Exception:
        raise ValueError("tree head signature does not verify") from None
    return leaf


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("proof", help="JSON of `mianshen audit prove ENTRY --json`, - for stdin")
    parser.add_argument("--public-key", help="the log's published Ed25519 public key (hex)")
    args = parser.parse_args(argv)
    try:
        if args.proof == "-":
            text = sys.stdin.read()
        else:
            with open(args.proof, encoding="utf-8") as source:
                text = source.read()
        leaf = verify(json.loads(text), args.public_key)
    except (ValueError, KeyError, TypeError, OSError) as error:
        print(f"REJECTED: {error}")
        return 1
    print(f"ACCEPTED: entry {leaf['seq']} ({leaf['kind']} {leaf['ref']}, appended {leaf['at']}) "
          "is in the signed log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
