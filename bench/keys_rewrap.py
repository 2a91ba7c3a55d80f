"""Rotate the key-encryption key and rewrap N subjects' data keys; report time and rate.

    python bench/keys_rewrap.py --subjects 100000 [--batch 1000] [--database-url URL]

Builds a throwaway database (SQLite in a temp directory unless a URL is given), inserts N
subjects each with a sealed field, rotates, rewraps in batches, checks every data key moved to
the new version while every field ciphertext stayed byte for byte the same, then retires the
old version.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from caseshare import migrate
from caseshare.crypto.keyring import LocalKeyring
from caseshare.crypto.sealing import new_data_key, seal
from caseshare.db import make_engine, make_session_factory
from caseshare.identity.service import ensure_organisation
from caseshare.subjects.models import Subject
from caseshare.subjects.rewrap import retire_kek, rewrap_all, subjects_by_kek
from caseshare.subjects.service import field_ref


def field_digest(session: Session) -> str:
    digest = hashlib.sha256()
    for blob in session.scalars(select(Subject.given_name).order_by(Subject.id)):
        digest.update(blob or b"")
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="caseshare-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    migrate.upgrade(url)
    keyring = LocalKeyring.create_if_missing(workdir / "keyring.json")
    factory = make_session_factory(make_engine(url))
    now = datetime.now(UTC)

    started = time.perf_counter()
    with factory() as s:
        ensure_organisation(s, org_id="jcp-derby", name="Derby Jobcentre Plus",
                            sector="central_gov", now=now)
        s.commit()
        creator = uuid.uuid4()
        for offset in range(0, args.subjects, 5000):
            rows = []
            for _ in range(min(5000, args.subjects - offset)):
                sid, key = uuid.uuid4(), new_data_key()
                version, wrapped = keyring.wrap(key, context=b"subject|" + str(sid).encode())
                rows.append({"id": sid, "jurisdiction": "england", "lead_org_id": "jcp-derby",
                             "dek_wrapped": wrapped, "dek_version": 1, "kek_version": version,
                             "given_name": seal(key, 1, field_ref(sid, "given_name"), "Alex"),
                             "created_at": now, "created_by": creator})
            s.execute(insert(Subject), rows)
            s.commit()
        before = field_digest(s)
    print(f"seeded {args.subjects} subjects in {time.perf_counter() - started:.1f} s")

    keyring.rotate()
    started = time.perf_counter()
    with factory() as s:
        done = rewrap_all(s, keyring, batch=args.batch, now=now)
    elapsed = time.perf_counter() - started
    print(f"rewrapped {done} data keys in {elapsed:.1f} s ({done / elapsed:,.0f}/s, "
          f"batch {args.batch})")
    with factory() as s:
        assert subjects_by_kek(s) == {2: args.subjects}, subjects_by_kek(s)
        assert field_digest(s) == before, "field ciphertext changed"
        retire_kek(s, keyring, version=1, now=now)
    assert keyring.versions() == [2]
    print("every data key on version 2; field ciphertext unchanged; version 1 retired")


if __name__ == "__main__":
    main()
