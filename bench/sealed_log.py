"""A past audit history written in bulk exactly as the sequencer and sealer would have left it.

Shared by the bulk loader (bench/load.py) and the audit benchmark (bench/audit_bench.py), so that
`audit verify` passes on what either builds: every event has its log position, the leaf hash of
its canonical bytes and the sequencer's leaf MAC binding that hash to that position (made in the
worker processes, `sealed_events`); the parent appends the leaves to a Merkle compact range,
storing every perfect node they complete, and signs a checkpoint every `every` events and at
the end (`TreeBuilder`). `audit seal` then resumes from the last checkpoint's stored edge nodes
instead of reading the whole log again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bench import dataset
from caseshare.audit import checkpoints as audit_checkpoints
from caseshare.audit import signer as audit_signer
from caseshare.audit.merkle import CompactRange, Node

NODE_BATCH = 50_000  # tree nodes held before they are written


def sealed_events(first: int, count: int, total: int, sizes: dataset.Sizes, now: datetime,
                  seed: int, mac_key: bytes) -> list[dict[str, Any]]:
    """Events at log positions first..first+count-1 with their leaf hashes and leaf MACs."""
    rows = dataset.audit_batch(first, count, total, sizes, now, seed)
    for row in rows:
        row["leaf_mac"] = audit_signer.leaf_mac(mac_key, row["seq"], row["leaf_hash"])
    return rows


class TreeBuilder:
    """The sealer's side: tree nodes and signed checkpoints over leaves appended in log order."""

    def __init__(self, signer: audit_signer.AuditSigner, total: int, every: int) -> None:
        self.signer, self.total, self.every = signer, total, every
        self.key_id = signer.key_id()
        self.compact = CompactRange()
        self.nodes: list[tuple[Node, bytes]] = []
        self.checkpoints: list[dict[str, Any]] = []

    def add(self, leaves: list[bytes], last_time: datetime) -> None:
        """The next leaves in log order; `last_time` is when the last of them happened (a
        checkpoint is never dated before an event it covers)."""
        compact, nodes = self.compact, self.nodes
        for leaf in leaves:
            nodes.extend(compact.append(leaf))
            if compact.size % self.every == 0 or compact.size == self.total:
                root = compact.root()
                stamp = last_time.astimezone(UTC)
                self.checkpoints.append({
                    "tree_size": compact.size, "root_hash": root, "timestamp": stamp,
                    "signature": self.signer.sign(audit_checkpoints.checkpoint_message(
                        compact.size, root, stamp)),
                    "key_id": self.key_id})

    def take_nodes(self, at_least: int = NODE_BATCH) -> list[dict[str, Any]]:
        """Completed tree nodes as rows, once `at_least` have gathered (all if 0)."""
        if len(self.nodes) < max(at_least, 1):
            return []
        rows = [{"level": level, "idx": idx, "hash": h} for (level, idx), h in self.nodes]
        self.nodes = []
        return rows

    def take_checkpoints(self) -> list[dict[str, Any]]:
        rows, self.checkpoints = self.checkpoints, []
        return rows
