"""The Merkle tree's geometry (RFC 9162 section 2.1): roots, and which subtree hashes make up an
inclusion or consistency proof. Pure: subtree hashes come from a mapping the caller fills.

A node is (level, index): the perfect subtree over leaves [index * 2**level, (index+1) * 2**level).
Level 0 nodes are the leaf hashes. The log stores every perfect node once it is complete, so a
proof needs only O(log n) lookups and sealing never re-reads old leaves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from caseshare.audit.proofs import EMPTY_ROOT, leaf_hash, node_hash

__all__ = [
    "EMPTY_ROOT", "CompactRange", "Node", "consistency_ranges", "fold", "inclusion_ranges",
    "leaf_hash",
    "node_hash", "nodes_for", "perfect_nodes", "range_hash", "root_of",
]

Node = tuple[int, int]


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than n (n > 1): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_nodes(lo: int, hi: int) -> list[Node]:
    """The perfect subtrees that tile leaves [lo, hi), left to right, largest first."""
    out: list[Node] = []
    while lo < hi:
        level = (lo & -lo).bit_length() - 1 if lo else (hi - lo).bit_length() - 1
        while (1 << level) > hi - lo:
            level -= 1
        out.append((level, lo >> level))
        lo += 1 << level
    return out


def range_hash(lo: int, hi: int, nodes: Mapping[Node, bytes]) -> bytes:
    """MTH(D[lo:hi]) from perfect-node hashes. `lo` must be where the RFC's recursion puts a
    subtree (a multiple of the split size), which holds for every range a proof asks for."""
    return fold([nodes[n] for n in perfect_nodes(lo, hi)])


def fold(tiles: Sequence[bytes]) -> bytes:
    """The root over consecutive perfect subtrees given largest first (a compact range)."""
    if not tiles:
        return EMPTY_ROOT
    h = tiles[-1]
    for left in reversed(tiles[:-1]):
        h = node_hash(left, h)
    return h


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PATH(index, D[size]), in proof order (leaf upwards)."""
    if not 0 <= index < size:
        raise ValueError("leaf index outside the tree")
    lo, hi, top_down = 0, size, []
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            top_down.append((lo + k, hi))
            hi = lo + k
        else:
            top_down.append((lo, lo + k))
            lo += k
    return top_down[::-1]


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PROOF(first, D[second]) (RFC 9162 2.1.4.1)."""
    if not 0 <= first <= second:
        raise ValueError("first must not exceed second")
    if first in (0, second):
        return []
    lo, hi, m, whole = 0, second, first, True
    top_down: list[tuple[int, int]] = []
    while m != hi - lo:
        k = split_point(hi - lo)
        if m <= k:
            top_down.append((lo + k, hi))
            hi = lo + k
        else:
            top_down.append((lo, lo + k))
            m, lo, whole = m - k, lo + k, False
    head = [] if whole else [(lo, hi)]
    return head + top_down[::-1]


def nodes_for(ranges: Iterable[tuple[int, int]]) -> set[Node]:
    return {node for lo, hi in ranges for node in perfect_nodes(lo, hi)}


def root_of(leaves: list[bytes]) -> bytes:
    """Merkle tree head of leaf hashes (RFC 9162 section 2.1.1), in one pass."""
    compact = CompactRange()
    for leaf in leaves:
        compact.append(leaf)
    return compact.root()


class CompactRange:
    """The right edge of a growing tree: the perfect subtrees tiling [0, size), largest first.

    Appending a leaf merges equal-sized neighbours; every merge completes a perfect node, which
    `append` returns so the sealer can store it. The root is a fold of at most log2(size) hashes.
    """

    def __init__(self, size: int = 0, hashes: list[bytes] | None = None) -> None:
        self.size = size
        self.stack: list[tuple[Node, bytes]] = []
        if hashes is not None:
            tiles = perfect_nodes(0, size)
            if len(tiles) != len(hashes):
                raise ValueError("compact range does not match the tree size")
            self.stack = list(zip(tiles, hashes, strict=True))

    def append(self, leaf: bytes) -> list[tuple[Node, bytes]]:
        return self.append_subtree(0, leaf)

    def append_subtree(self, level: int, h: bytes) -> list[tuple[Node, bytes]]:
        """Append a whole perfect subtree of 2**level leaves (its hash); the size must be a
        multiple of its width, as it is for chunks of the log scanned separately."""
        if self.size & ((1 << level) - 1):
            raise ValueError("a subtree must start at a multiple of its width")
        completed: list[tuple[Node, bytes]] = []
        node = (level, self.size >> level)
        while self.stack and self.stack[-1][0][0] == node[0]:
            (below, index), left = self.stack.pop()
            node, h = (below + 1, index >> 1), node_hash(left, h)
            completed.append((node, h))
        self.stack.append((node, h))
        self.size += 1 << level
        return completed

    def hashes(self) -> list[bytes]:
        return [h for _node, h in self.stack]

    def root(self) -> bytes:
        return fold(self.hashes())
