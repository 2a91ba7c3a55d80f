"""The audit log: events, their hash chain into a Merkle log, checkpoints, verification."""
