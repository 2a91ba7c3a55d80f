"""The verifiable audit log (docs/audit.md).

    event_types.py  every event type (`EventType`), and the renamed ones (`RENAMED`)
    models.py       the tables, and `NewEvent`: an event as written (the one field list)
    service.py      record an event in the caller's transaction (leaf hash fixed at insert)
    canonical.py    the exact bytes an event's leaf hash covers
    signer.py       the audit key (Ed25519) and the MAC keys derived from it
    sequencer.py    log positions + leaf MACs, one sequencer at a time
    checkpoints.py  sealing: tree nodes, signed checkpoints (JSON and C2SP signed note)
    verify.py       full verification (`audit verify`), with scan.py for one chunk of the log
    merkle.py       RFC 9162 tree geometry: roots, compact ranges, which subtrees make a proof
    proofs.py       the standalone verifier a partner can copy (inclusion, consistency,
                    checkpoint and note parsing), standard library only
    signed_note.py  Ed25519 signing and checking of C2SP signed notes
    queries.py      reading the log for IG officers: events, access history, proofs
    scope.py        which events an IG officer sees, and what of each (`EventView`)
    unusual.py      the unusual access rules; stats.py the dashboard counts
"""
