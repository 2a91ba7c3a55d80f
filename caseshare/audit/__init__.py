"""The verifiable audit log.

    service.py   record an event in the caller's transaction (leaf hash fixed at insert)
    log.py       the sequencer (log positions + leaf MACs), sealing signed checkpoints,
                 full verification, witnessed checkpoints
    merkle.py    RFC 9162 tree geometry: roots, compact ranges, which subtrees make a proof
    proofs.py    the standalone verifier a partner can copy (inclusion, consistency, signature)
    queries.py   reading the log for IG officers: events, access history, proofs
"""
