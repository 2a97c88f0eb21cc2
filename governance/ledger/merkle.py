"""RFC 9162 (Certificate Transparency v2, section 2.1) Merkle tree hashing, proofs and verification.

Leaf hash = SHA-256(0x00 || input), node hash = SHA-256(0x01 || left || right): the prefixes keep a
leaf from ever being passed off as an interior node. The empty tree's root is SHA-256(b"").

Written by hand because no maintained Python library implements RFC 9162 proofs with a stable API:
of the ~80 Merkle packages on PyPI, the closest, pymerkle, has broken its API across seven major
releases and wants to own the storage, and the rest are abandoned, blockchain-specific or
single-author packages a few months old. The algorithm is small and pinned down by published test
vectors (transparency-dev/merkle), which tests/ledger/test_merkle.py replays.

Hashes are 32-byte ``bytes`` everywhere. Proofs are generated from a *perfect-subtree oracle*,
``perfect(level, index)``: the node covering leaves [index * 2**level, (index + 1) * 2**level).
Storing every node a ``TreeBuilder.append`` completes lets a caller answer any proof with
O(log n) lookups and never rehash the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()

Perfect = Callable[[int, int], bytes]


def leaf_hash(leaf_input: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf_input).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly less than n (n > 1): where RFC 9162 splits D[n]."""
    return 1 << ((n - 1).bit_length() - 1)


class TreeBuilder:
    """Streaming root computation: keeps only the perfect subtrees of the size's binary decomposition."""

    def __init__(self, frontier: list[tuple[int, bytes]] | None = None, size: int = 0) -> None:
        self._frontier = list(frontier or [])
        self._size = size
        # A frontier that doesn't match the size would silently produce wrong roots forever after.
        expected = [level for level, _ in self.frontier_positions(size)]
        if [level for level, _ in self._frontier] != expected:
            raise ValueError(f"frontier levels do not match size {size}: expected {expected}")
        if any(len(h) != HASH_SIZE for _, h in self._frontier):
            raise ValueError("frontier hashes must be 32 bytes")

    @staticmethod
    def frontier_positions(size: int) -> list[tuple[int, int]]:
        """(level, index) of the perfect subtrees making up a tree of ``size`` leaves, largest first."""
        if size < 0:
            raise ValueError("size must be >= 0")
        positions, start = [], 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                positions.append((level, start >> level))
                start += 1 << level
        return positions

    @property
    def size(self) -> int:
        return self._size

    @property
    def frontier(self) -> list[tuple[int, bytes]]:
        return list(self._frontier)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf *hash*; return the (level, index, hash) nodes this completes, the leaf first."""
        if len(leaf) != HASH_SIZE:
            raise ValueError("append takes a 32-byte leaf hash (use leaf_hash on the input first)")
        level, index, current = 0, self._size, leaf
        completed = [(level, index, current)]
        # Like a binary counter's carry: equal-sized neighbours merge into their parent.
        while self._frontier and self._frontier[-1][0] == level:
            _, left = self._frontier.pop()
            current = node_hash(left, current)
            level, index = level + 1, index >> 1
            completed.append((level, index, current))
        self._frontier.append((level, current))
        self._size += 1
        return completed

    def root(self) -> bytes:
        if not self._frontier:
            return EMPTY_ROOT
        # MTH splits at the largest power of two, so the smaller subtrees nest on the right.
        root = self._frontier[-1][1]
        for _, h in reversed(self._frontier[:-1]):
            root = node_hash(h, root)
        return root


def root_of(leaves: Iterable[bytes]) -> bytes:
    builder = TreeBuilder()
    for leaf in leaves:
        builder.append(leaf)
    return builder.root()


def perfect_from_leaves(leaves: Sequence[bytes]) -> Perfect:
    """An oracle over an in-memory list of leaf hashes (tests and small trees)."""
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])

    def perfect(level: int, index: int) -> bytes:
        if not (0 <= level < len(levels) and 0 <= index < len(levels[level])):
            raise ValueError(f"no perfect subtree ({level}, {index}) in a tree of {len(leaves)} leaves")
        return levels[level][index]

    return perfect


def subtree_hash(start: int, end: int, perfect: Perfect) -> bytes:
    """MTH(D[start:end]) for a subtree RFC 9162's recursion reaches, from O(log n) perfect nodes."""
    n = end - start
    if n <= 0:
        if n == 0 and start == 0:
            return EMPTY_ROOT
        raise ValueError(f"empty or inverted range [{start}, {end})")
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        # The RFC's splits only ever reach aligned perfect subtrees; anything else is a caller bug.
        if start % n:
            raise ValueError(f"[{start}, {end}) is not an aligned perfect subtree")
        return perfect(level, start >> level)
    k = _split(n)
    return node_hash(subtree_hash(start, start + k, perfect), subtree_hash(start + k, end, perfect))


def inclusion_proof(index: int, size: int, perfect: Perfect) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 section 2.1.3.1, siblings from the leaf upwards."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} out of range for size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:  # Walk down from the root, then reverse: the proof lists the leaf end first.
        k = _split(end - start)
        if index < start + k:
            path.append(subtree_hash(start + k, end, perfect))
            end = start + k
        else:
            path.append(subtree_hash(start, start + k, perfect))
            start += k
    return path[::-1]


def consistency_proof(old_size: int, new_size: int, perfect: Perfect) -> list[bytes]:
    """PROOF(old_size, D[new_size]) = SUBPROOF(old_size, D[new_size], true), RFC 9162 section 2.1.4.1."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"need 0 <= old_size <= new_size, got {old_size}, {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    m, start, end, complete = old_size, 0, new_size, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append(subtree_hash(start + k, end, perfect))
            end = start + k
        else:
            proof.append(subtree_hash(start, start + k, perfect))
            m, start, complete = m - k, start + k, False
    if not complete:  # The old tree's subtree here is not a prefix the verifier already knows.
        proof.append(subtree_hash(start, end, perfect))
    return proof[::-1]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size or len(leaf) != HASH_SIZE or any(len(p) != HASH_SIZE for p in proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:  # Proof longer than the tree is tall.
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # On the right edge of an unbalanced tree, skip the levels where we have no sibling.
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:  # The empty tree is a prefix of every tree.
        return not proof
    if not proof or any(len(p) != HASH_SIZE for p in proof):
        return False
    # When the old tree is perfect its root is a node of the new tree, so the proof omits it.
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root
