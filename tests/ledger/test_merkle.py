"""RFC 9162 Merkle trees: published test vectors, and every size up to 70 against the RFC's recursion.

Vectors: https://github.com/transparency-dev/merkle, proof/verify_test.go (the same set as
google/certificate-transparency's merkle_tree_test.cc). Their inclusion vectors number leaves from 1;
here indexes are 0-based.
"""

from __future__ import annotations

import functools
import hashlib

import pytest

from governance.ledger.merkle import (
    EMPTY_ROOT,
    TreeBuilder,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    perfect_from_leaves,
    root_of,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

VECTOR_INPUTS = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
VECTOR_LEAVES = [leaf_hash(d) for d in VECTOR_INPUTS]
VECTOR_ROOTS = [  # Root of the first 1, 2, ..., 8 leaves.
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
VECTOR_INCLUSION = [  # (index, size, proof)
    (0, 1, []),
    (
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (2, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]
VECTOR_CONSISTENCY = [  # (old_size, new_size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


def flip(value: bytes, bit: int = 3) -> bytes:
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


# --- The reference: RFC 9162 section 2.1's recursive definitions, transcribed over leaf inputs. ---

MAX = 70
INPUTS = [f"entry {i}".encode() for i in range(MAX)]
LEAVES = [leaf_hash(d) for d in INPUTS]
PERFECT = perfect_from_leaves(LEAVES)


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@functools.cache
def ref_mth(start: int, end: int) -> bytes:
    n = end - start
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + INPUTS[start]).digest()
    k = _k(n)
    return hashlib.sha256(b"\x01" + ref_mth(start, start + k) + ref_mth(start + k, end)).digest()


def ref_path(m: int, start: int, end: int) -> list[bytes]:
    n = end - start
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return ref_path(m, start, start + k) + [ref_mth(start + k, end)]
    return ref_path(m - k, start + k, end) + [ref_mth(start, start + k)]


def ref_subproof(m: int, start: int, end: int, b: bool) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if b else [ref_mth(start, end)]
    k = _k(n)
    if m <= k:
        return ref_subproof(m, start, start + k, b) + [ref_mth(start + k, end)]
    return ref_subproof(m - k, start + k, end, False) + [ref_mth(start, start + k)]


# --- Published vectors. ---


def test_hashing_primitives() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_of([]) == EMPTY_ROOT
    assert leaf_hash(b"") == VECTOR_ROOTS[0]
    assert node_hash(VECTOR_LEAVES[0], VECTOR_LEAVES[1]) == VECTOR_ROOTS[1]


def test_vector_roots() -> None:
    builder = TreeBuilder()
    for size, (leaf, expected) in enumerate(zip(VECTOR_LEAVES, VECTOR_ROOTS, strict=True), start=1):
        builder.append(leaf)
        assert builder.root() == expected
        assert root_of(VECTOR_LEAVES[:size]) == expected
        assert subtree_hash(0, size, perfect_from_leaves(VECTOR_LEAVES[:size])) == expected


@pytest.mark.parametrize(("index", "size", "proof"), VECTOR_INCLUSION)
def test_vector_inclusion(index: int, size: int, proof: list[bytes]) -> None:
    leaf, root = VECTOR_LEAVES[index], VECTOR_ROOTS[size - 1]
    assert inclusion_proof(index, size, perfect_from_leaves(VECTOR_LEAVES[:size])) == proof
    assert verify_inclusion(leaf, index, size, proof, root)
    # The corruptions transparency-dev applies to each vector; none may verify.
    probes = [
        (leaf, index - 1, size, proof, root),
        (leaf, index + 1, size, proof, root),
        (leaf, index ^ 2, size, proof, root),
        (leaf, index, size * 2, proof, root),
        (leaf, index, size // 2, proof, root),
        (b"WrongLeaf", index, size, proof, root),
        (leaf, index, size, proof, EMPTY_ROOT),
        (leaf, index, size, proof, SOME_HASH),
        (leaf, index, size, [*proof, b""], root),
        (leaf, index, size, [*proof, root], root),
        (leaf, index, size, [b"", *proof], root),
        (leaf, index, size, [root, *proof], root),
        *((leaf, index, size, [*proof[:i], flip(p), *proof[i + 1 :]], root) for i, p in enumerate(proof)),
    ]
    if proof:
        probes.append((leaf, index, size, proof[:-1], root))
    if len(proof) > 1:
        probes.append((leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], root))
    for probe in probes:
        assert not verify_inclusion(*probe), probe


@pytest.mark.parametrize(("old", "new", "proof"), VECTOR_CONSISTENCY)
def test_vector_consistency(old: int, new: int, proof: list[bytes]) -> None:
    old_root, new_root = VECTOR_ROOTS[old - 1], VECTOR_ROOTS[new - 1]
    assert consistency_proof(old, new, perfect_from_leaves(VECTOR_LEAVES[:new])) == proof
    assert verify_consistency(old, new, old_root, new_root, proof)
    if not proof:
        return
    probes = [
        (old - 1, new, old_root, new_root, proof),
        (old + 1, new, old_root, new_root, proof),
        (old ^ 2, new, old_root, new_root, proof),
        (old, new * 2, old_root, new_root, proof),
        (old, new // 2, old_root, new_root, proof),
        (old, new, b"WrongRoot", new_root, proof),
        (old, new, old_root, b"WrongRoot", proof),
        (old, new, new_root, old_root, proof),
        (old, new, old_root, new_root, []),
        (old, new, old_root, new_root, [*proof, b""]),
        (old, new, old_root, new_root, [*proof, old_root]),
        (old, new, old_root, new_root, [*proof, new_root]),
        (old, new, old_root, new_root, [b"", *proof]),
        (old, new, old_root, new_root, [old_root, *proof]),
        (old, new, old_root, new_root, [new_root, *proof]),
        (old, new, old_root, new_root, [proof[0], *proof]),
        (old, new, old_root, new_root, proof[:-1]),
        *(
            (old, new, old_root, new_root, [*proof[:i], flip(p, 4), *proof[i + 1 :]])
            for i, p in enumerate(proof)
        ),
    ]
    for probe in probes:
        assert not verify_consistency(*probe), probe


def test_verify_edge_cases() -> None:
    r1, r2 = b"don't care 1", b"don't care 2"
    # Same size: only an empty proof between equal roots.
    assert verify_consistency(0, 0, r1, r1, [])
    assert verify_consistency(1, 1, r2, r2, [])
    assert not verify_consistency(0, 0, r1, r2, [])
    assert not verify_consistency(1, 1, r1, r2, [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    assert not verify_consistency(1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    # From the empty tree: trivially consistent, with an empty proof only.
    assert verify_consistency(0, 1, r1, r2, [])
    assert not verify_consistency(0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    # Shrinking, and growth without a proof.
    assert not verify_consistency(1, 0, r1, r2, [])
    assert not verify_consistency(2, 1, r1, r2, [])
    assert not verify_consistency(1, 2, r1, r2, [])
    assert not verify_consistency(-1, 2, r1, r2, [])
    # Inclusion: out-of-range index or size, wrong-sized hashes.
    for index, size in [(0, 0), (1, 0), (2, 1), (-1, 1)]:
        assert not verify_inclusion(SOME_HASH, index, size, [], SOME_HASH)
    data_hash = leaf_hash(b"data")
    assert verify_inclusion(data_hash, 0, 1, [], data_hash)
    assert not verify_inclusion(data_hash, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], data_hash)
    assert not verify_inclusion(b"", 0, 1, [], b"")


def test_generation_rejects_bad_arguments() -> None:
    for index, size in [(0, 0), (3, 3), (-1, 3)]:
        with pytest.raises(ValueError):
            inclusion_proof(index, size, PERFECT)
    for old, new in [(2, 1), (-1, 3)]:
        with pytest.raises(ValueError):
            consistency_proof(old, new, PERFECT)
    assert consistency_proof(0, 5, PERFECT) == []
    assert consistency_proof(5, 5, PERFECT) == []
    with pytest.raises(ValueError):
        subtree_hash(1, 3, PERFECT)  # Perfect size but not aligned: RFC recursion never asks for it.
    with pytest.raises(ValueError):
        PERFECT(0, MAX)


# --- Every size up to MAX against the reference. ---


def test_inclusion_every_size_and_index() -> None:
    for size in range(1, MAX + 1):
        root = ref_mth(0, size)
        for index in range(size):
            proof = inclusion_proof(index, size, PERFECT)
            assert proof == ref_path(index, 0, size)
            leaf = LEAVES[index]
            assert verify_inclusion(leaf, index, size, proof, root)
            other = LEAVES[(index + 1) % size] if size > 1 else leaf_hash(b"other")
            assert not verify_inclusion(other, index, size, proof, root)
            assert not verify_inclusion(flip(leaf), index, size, proof, root)
            assert not verify_inclusion(leaf, index, size, proof, flip(root))
            for wrong in {index - 1, index + 1, index ^ 2, size} - {index}:
                assert not verify_inclusion(leaf, wrong, size, proof, root)
            if proof:
                assert not verify_inclusion(leaf, index, size, proof[:-1], root)
                assert not verify_inclusion(leaf, index, size, [*proof[:-1], flip(proof[-1])], root)
            assert not verify_inclusion(leaf, index, size, [*proof, EMPTY_ROOT], root)


def test_consistency_every_pair() -> None:
    for new in range(1, MAX + 1):
        new_root = ref_mth(0, new)
        for old in range(1, new + 1):
            old_root = ref_mth(0, old)
            proof = consistency_proof(old, new, PERFECT)
            assert proof == ref_subproof(old, 0, new, True)
            assert verify_consistency(old, new, old_root, new_root, proof)
            if old == new:
                assert proof == []
                continue
            assert not verify_consistency(old, new, flip(old_root), new_root, proof)
            assert not verify_consistency(old, new, old_root, flip(new_root), proof)
            assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
            for i in range(len(proof)):
                bad = [*proof[:i], flip(proof[i], 4), *proof[i + 1 :]]
                assert not verify_consistency(old, new, old_root, new_root, bad)


def test_builder_roots_and_completed_nodes() -> None:
    builder = TreeBuilder()
    returned = []
    for size, leaf in enumerate(LEAVES, start=1):
        nodes = builder.append(leaf)
        assert nodes[0] == (0, size - 1, leaf)
        assert [level for level, _, _ in nodes] == list(range(len(nodes)))
        for level, index, value in nodes:
            assert (index + 1) << level == size  # Completed by exactly this append.
            assert value == PERFECT(level, index)
        returned += [(level, index) for level, index, _ in nodes]
        assert builder.size == size
        assert builder.root() == ref_mth(0, size) == subtree_hash(0, size, PERFECT)
        positions = TreeBuilder.frontier_positions(size)
        assert builder.frontier == [(level, PERFECT(level, index)) for level, index in positions]
        assert sum(1 << level for level, _ in positions) == size
    # Every perfect node of the final tree is reported once, so storing them all is enough for proofs.
    expected = [(lv, i) for lv in range(MAX.bit_length()) for i in range(MAX >> lv)]
    assert sorted(returned) == sorted(expected)


def test_builder_resumes_from_stored_frontier() -> None:
    for start in range(MAX + 1):
        frontier = [(lv, PERFECT(lv, i)) for lv, i in TreeBuilder.frontier_positions(start)]
        builder = TreeBuilder(frontier=frontier, size=start)
        assert builder.root() == ref_mth(0, start)
        for size in range(start + 1, MAX + 1):
            builder.append(LEAVES[size - 1])
            assert builder.root() == ref_mth(0, size)


def test_builder_rejects_bad_state() -> None:
    with pytest.raises(ValueError):
        TreeBuilder(frontier=[(0, LEAVES[0])], size=2)
    with pytest.raises(ValueError):
        TreeBuilder(size=3)
    with pytest.raises(ValueError):
        TreeBuilder(frontier=[(0, b"short")], size=1)
    with pytest.raises(ValueError):
        TreeBuilder().append(b"raw input, not a hash")
    assert TreeBuilder.frontier_positions(0) == []
    assert TreeBuilder.frontier_positions(11) == [(3, 0), (1, 4), (0, 10)]


# --- A million leaves, through a sparse oracle: correctness of shape and hashes, not speed. ---

BIG = 1_000_000
SPECIAL = frozenset({0, 123_456, 123_457, 524_288, 999_000, 999_999})
FILLER = leaf_hash(b"filler")


def big_leaf(i: int) -> bytes:
    return leaf_hash(b"big %d" % i) if i in SPECIAL else FILLER


@functools.cache
def filler_node(level: int) -> bytes:
    return FILLER if level == 0 else node_hash(filler_node(level - 1), filler_node(level - 1))


@functools.cache
def big_perfect(level: int, index: int) -> bytes:
    """A genuine tree of BIG leaves: subtrees with no SPECIAL leaf are filler, the rest are hashed."""
    lo, hi = index << level, (index + 1) << level
    if not any(lo <= s < hi for s in SPECIAL):
        return filler_node(level)
    if level == 0:
        return big_leaf(index)
    return node_hash(big_perfect(level - 1, 2 * index), big_perfect(level - 1, 2 * index + 1))


def test_sparse_oracle_is_a_real_tree() -> None:
    # Checked against explicit leaves over the first 2**17 positions (which hold two SPECIAL leaves).
    small = perfect_from_leaves([big_leaf(i) for i in range(1 << 17)])
    for level, index in [(17, 0), (16, 1), (10, 100), (3, 123_456 >> 3), (0, 123_456), (0, 5)]:
        assert big_perfect(level, index) == small(level, index)


def test_million_leaf_inclusion_and_consistency() -> None:
    root = subtree_hash(0, BIG, big_perfect)
    # Depths from PATH's recursion by hand: 1,000,000 = 2**19 + 475,712, and the last leaf sits where
    # the right edge's perfect subtrees (binary 11110100001001000000) leave it 12 levels down.
    for index, depth in [(0, 20), (123_456, 20), (524_288, 20), (999_999, 12)]:
        proof = inclusion_proof(index, BIG, big_perfect)
        assert len(proof) == depth
        assert verify_inclusion(big_leaf(index), index, BIG, proof, root)
        assert not verify_inclusion(FILLER, index, BIG, proof, root)
        assert not verify_inclusion(big_leaf(index), index ^ 1, BIG, proof, root)
    old_root = subtree_hash(0, 999_000, big_perfect)
    proof = consistency_proof(999_000, BIG, big_perfect)
    assert verify_consistency(999_000, BIG, old_root, root, proof)
    assert not verify_consistency(999_000, BIG, old_root, root, [flip(proof[0]), *proof[1:]])
