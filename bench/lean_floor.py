"""The floor under `read_vs_hello`: how close to the minimal endpoint an audited read can get in
this stack (Flask under gunicorn, 2 sync workers, SQLite with a durable commit) when everything
that is not essential is gone. Not product code: a throwaway measuring stick, served next to the
minimal endpoint and Caseshare itself and driven in interleaved rounds.

    python -m bench.lean_floor [--engines sqlite,postgresql --scale 0.01 --rounds 3
                                --duration 4 --connections 8 --out bench/results-floor.json]

It loads its own data sets (PostgreSQL: a throwaway server with fsync on, as `make bench`) and
takes about 3 minutes for both engines (`make bench-floor`). Figures and what they mean:
docs/performance.md, "Sixth pass: the floor".

Four endpoints on one minimal Flask app, next to Caseshare's own read:

- `/hello`: the minimal endpoint, as bench.hello.
- `/commit`: the minimal endpoint plus one durable audit commit (SQLite: BEGIN IMMEDIATE, an
  INSERT of an audit row, COMMIT with `synchronous=FULL`; PostgreSQL: the same with fsync and
  synchronous commit on): the part of an audited read that no code can remove under the rule
  "every read's audit event durably committed before the response".
- `/lean/<subject>`: the whole audited read, written as leanly as it goes: the caller from a
  per-process dict of verified tokens, three statements on the raw driver connection in one
  transaction (subject and case members, current consents with withdrawals, plan entries),
  Caseshare's own decision (`evaluate`) and entry visibility, the data key unwrapped and the
  sealed fields opened with one AESGCM object, the audit event built and hashed by Caseshare's
  own `new_event`, one INSERT and a durable COMMIT, then `json.dumps`.
- `/unaudited/<subject>`: the lean read without its audit event (not a valid read: it shows
  what the rest of the work costs).

What the lean read leaves out: rate limiting, revocation and directory checks on the token,
request ids, problem+json errors, the ETag and security headers. So it is a floor, not a design;
tests/bench/test_lean_floor.py checks that it shows what Caseshare's read shows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, Response, jsonify, request

from caseshare import create_app
from caseshare.access.decision import evaluate
from caseshare.audit.event_types import EventType
from caseshare.audit.service import new_event
from caseshare.crypto.sealing import FieldRef, open_sealed
from caseshare.facts import ConsentFacts, Principal, SubjectFacts
from caseshare.identity import tokens
from caseshare.subjects.models import Subject
from caseshare.subjects.service import data_key

app = Flask(__name__)
_state: dict[str, Any] = {}

_SUBJECT = ("SELECT s.lead_org_id, s.dek_wrapped, s.kek_version, m.org_id FROM subjects s "
            "LEFT JOIN case_members m ON m.subject_id = s.id WHERE s.id = ?")
_CONSENTS = ("SELECT c.id, c.recipients, c.purposes, c.categories, c.excluded_categories, "
             "c.explicit_statement, c.verified, c.valid_from, c.expires_at, w.withdrawn_at, "
             "w.scope FROM consents c "
             "LEFT JOIN consent_withdrawals w ON w.consent_id = c.id "
             "WHERE c.subject_id = ? AND c.decision = 'granted' AND NOT EXISTS "
             "(SELECT 1 FROM consents n WHERE n.subject_id = c.subject_id "
             "AND n.supersedes_id = c.id)")
_ENTRIES = ("SELECT e.id, e.kind, e.category, e.owner_org, e.status, e.due_on, e.service, "
            "e.version, e.updated_at, e.created_org, e.title, e.detail, e.owner_name, e.outcome "
            "FROM case_plans p JOIN plan_entries e ON e.plan_id = p.id "
            "WHERE p.subject_id = ? ORDER BY e.created_at, e.id")
_INSERT = ("INSERT INTO audit_events (event_uuid, occurred_at, type, actor, org, role, purpose, "
           "subject_id, categories, decision, reasons, consent_id, protocol, override_id, "
           "request_id, details, leaf_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")


def _setup() -> dict[str, Any]:
    """Per worker: Caseshare's runtime for the token keys and the keyring, and a raw driver
    connection set up as Caseshare sets its own (SQLite: WAL, synchronous=FULL, busy timeout;
    PostgreSQL: psycopg, autocommit so that BEGIN and COMMIT are ours)."""
    if not _state:
        rt = create_app().extensions["caseshare"]
        url = os.environ["CASESHARE_DATABASE_URL"]
        conn: Any
        if url.startswith("sqlite:///"):
            conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=5000")
            _state.update(mark="?", write_begin="BEGIN IMMEDIATE")
        else:
            import psycopg
            conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                                   autocommit=True)
            _state.update(mark="%s", write_begin="BEGIN")
        _state.update(rt=rt, conn=conn, tokens={})
    return _state


def _sql(state: dict[str, Any], statement: str) -> str:
    return statement.replace("?", state["mark"])


def _json(value: Any) -> Any:
    """A JSON column: text on SQLite, already decoded (jsonb) on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def _text(value: Any) -> Any:
    """A date or time as SQLite returns it (text); PostgreSQL's driver returns objects."""
    if isinstance(value, datetime):
        return value.isoformat(" ")
    return value.isoformat() if isinstance(value, date) else value


def _principal(state: dict[str, Any]) -> Any:
    """The caller, from a per-process dict of verified tokens (the first use verifies)."""
    token = request.headers.get("Authorization", "")[7:]
    cached = state["tokens"].get(token)
    if cached is None:
        rt = state["rt"]
        claims = tokens.validate(token, rt.token_keys.key_set(), issuer=rt.settings.issuer,
                                 audience=rt.settings.audience, now=datetime.now(UTC))
        cached = state["tokens"][token] = (claims.expires_at, Principal(
            actor_id=claims.subject, actor_type=claims.actor_type, org=claims.org,
            roles=frozenset(claims.roles), scopes=frozenset(claims.scopes),
            purposes=frozenset(claims.purposes), token_id=claims.jti))
    if cached[0] <= datetime.now(UTC).timestamp():
        raise PermissionError("expired")
    return cached[1]


def _consent_facts(rows: list[Any]) -> tuple[Any, ...]:
    """Current granted consents with their withdrawals, as the decision takes them."""
    grouped: dict[Any, tuple[Any, list[Any]]] = {}
    for row in rows:
        _first, withdrawals = grouped.setdefault(row[0], (row, []))
        if row[9] is not None:
            scope = _json(row[10])
            withdrawals.append((_when(row[9]), frozenset(scope.get("recipients", [])),
                                frozenset(scope.get("purposes", [])),
                                frozenset(scope.get("categories", []))))
    return tuple(
        ConsentFacts(id=_uuid(c[0]), recipients=frozenset(_json(c[1])),
                     purposes=frozenset(_json(c[2])), categories=frozenset(_json(c[3])),
                     excluded=frozenset(_json(c[4]) or ()), explicit=bool(c[5]),
                     verified=bool(c[6]), valid_from=_when(c[7]), expires_at=_when(c[8]),
                     withdrawals=tuple(withdrawals))
        for c, withdrawals in grouped.values())


def _when(value: Any) -> datetime:
    """A stored time: text on SQLite (UTC), an aware datetime on PostgreSQL."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value  # type: ignore[no-any-return]


def _insert(state: dict[str, Any], event: Any) -> None:
    def hex_or_none(value: uuid.UUID | None) -> str | None:
        return None if value is None else value.hex
    conn = state["conn"]
    conn.execute(state["write_begin"])
    conn.execute(_sql(state, _INSERT), (
        event.event_uuid.hex, event.occurred_at.replace(tzinfo=None).isoformat(" "), event.type,
        event.actor, event.org, event.role, event.purpose, hex_or_none(event.subject_id),
        json.dumps(event.categories), event.decision, json.dumps(event.reasons),
        hex_or_none(event.consent_id), event.protocol, hex_or_none(event.override_id),
        event.request_id, json.dumps(event.details), event.leaf_hash))
    conn.execute("COMMIT")


@app.get("/hello")
def hello() -> Response:
    return jsonify({"status": "ok"})


@app.get("/commit")
def commit_only() -> Response:
    state = _setup()
    _insert(state, new_event(type=EventType.CASE_PLAN_PLAN_READ, now=datetime.now(UTC)))
    return jsonify({"status": "ok"})


@app.get("/lean/<subject>")
def lean_read(subject: str) -> Response:
    return _read(subject, audited=True)


@app.get("/unaudited/<subject>")
def unaudited_read(subject: str) -> Response:
    """The lean read without its audit event: what the work alone costs (not a valid read)."""
    return _read(subject, audited=False)


def _read(subject: str, *, audited: bool) -> Response:
    state = _setup()
    principal = _principal(state)
    purpose = request.args["purpose"]
    subject_id = uuid.UUID(subject)
    conn = state["conn"]
    conn.execute("BEGIN")
    try:
        people = conn.execute(_sql(state, _SUBJECT), (subject_id.hex,)).fetchall()
        consents = conn.execute(_sql(state, _CONSENTS), (subject_id.hex,)).fetchall()
        entries = conn.execute(_sql(state, _ENTRIES), (subject_id.hex,)).fetchall()
    finally:
        conn.execute("COMMIT")
    now = datetime.now(UTC)
    facts = SubjectFacts(subject_id, frozenset(row[3] for row in people if row[3]),
                         _consent_facts(consents))
    protocols = state["rt"].protocols
    decision = evaluate(principal, purpose, "read", sorted(protocols.categories), facts,
                        protocols, now)
    # As Caseshare's plan read: a 403 only when nothing at all may be read; otherwise the
    # withheld categories are left out (a protocol may declare categories this caller never
    # reads, such as the triage protocol's health_wellbeing).
    if not decision.permitted:
        _insert(state, new_event(type=EventType.CASE_PLAN_PLAN_READ, now=now, principal=principal,
                                 purpose=purpose, subject_id=subject_id, decision="deny",
                                 reasons=decision.reasons))
        return Response(json.dumps({"title": "Forbidden", "reasons": decision.reasons}), status=403,
                        mimetype="application/problem+json")
    stored = Subject(id=subject_id, lead_org_id=people[0][0], dek_wrapped=people[0][1],
                     kek_version=people[0][2])
    key = AESGCM(data_key(stored, state["rt"].keyring))
    shown = []
    permitted = decision.permitted
    for row in entries:
        if row[2] not in permitted or row[9] not in permitted[row[2]].sources:
            continue
        opened = dict(zip(("id", "kind", "category", "owner_org", "status", "due_on", "service",
                           "version", "updated_at"), map(_text, row[:9]), strict=True))
        opened["id"] = str(_uuid(row[0]))
        for name, sealed in zip(("title", "detail", "owner_name", "outcome"), row[10:],
                                strict=True):
            opened[name] = None if sealed is None else open_sealed(
                key, FieldRef(subject_id, "plan_entry", opened["id"], name, row[2]),
                sealed)
        shown.append(opened)
    if audited:
        _insert(state, new_event(type=EventType.CASE_PLAN_PLAN_READ, now=now, principal=principal,
                                 purpose=purpose, subject_id=subject_id,
                                 categories=sorted({e["category"] for e in shown}),
                                 decision="allow", reasons=decision.reasons,
                                 consent_id=next(iter(decision.consent_ids), None),
                                 protocol=",".join(decision.protocols) or None,
                                 details={"entries": [e["id"] for e in shown]}))
    return Response(json.dumps({"subject_id": subject, "entries": shown}),
                    mimetype="application/json")


# Served by gunicorn (measure() sets this): each worker sets itself up as it boots, as wsgi:app
# does, so no request waits for it (with 8 workers on 2 cores, first requests did).
if os.environ.get("CASESHARE_FLOOR_SERVED"):
    _setup()


def main(argv: list[str] | None = None) -> int:
    from bench.load import load
    from bench.run import machine, setup_engine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--tree", type=Path, default=Path("."), help="Caseshare's source tree")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn sync workers for every server (the benchmark's rule: 2)")
    parser.add_argument("--out", type=Path, default=Path("bench/results-floor.json"))
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
                               "machine": machine(), "scale": args.scale,
                               "connections": args.connections, "workers": args.workers,
                               "rounds": args.rounds,
                               "duration_s": args.duration}
    with tempfile.TemporaryDirectory(prefix="caseshare-floor-") as tmp:
        for engine in args.engines.split(","):
            setup = setup_engine(engine, Path(tmp))
            try:
                load(setup.workdir, setup.url, args.scale)
                results[engine] = measure(setup.workdir, setup.url, args)
            finally:
                setup.stop(keep=False)
            print(f"{engine}: " + ", ".join(
                f"{name} {row['rps']:.0f} req/s ({row['vs_hello']:.3f})"
                for name, row in results[engine].items() if isinstance(row, dict)),
                file=sys.stderr)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


def measure(workdir: Any, url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Interleaved rounds of the minimal endpoint, the floor's three and Caseshare's read on
    one loaded data set (SQLite: a copy of the file for each app; PostgreSQL: one database)."""
    from bench.ab_read import interleaved_rounds, measured_wrk, serve, stop_all, workers_of
    from bench.run import PURPOSE, issue_tokens, wrk_script

    samples = json.loads(workdir.manifest.read_text())["samples"][:1000]
    scratch = Path(tempfile.mkdtemp(prefix="caseshare-floor-"))
    urls = {}
    for name in ("caseshare", "floor"):
        if url.startswith("sqlite:///"):
            shutil.copy(workdir.root / "caseshare.db", scratch / f"{name}.db")
            urls[name] = f"sqlite:///{scratch / name}.db"
        else:
            urls[name] = url
    tokens = issue_tokens(workdir, urls["caseshare"], [s["lead"] for s in samples])
    orgs = sorted(tokens)
    token_list = [tokens[o] for o in orgs]
    reads = {
        "caseshare": f"/api/v1/subjects/{{}}/case-plan?purpose={PURPOSE}",
        "lean": f"/lean/{{}}?purpose={PURPOSE}",
        "unaudited": f"/unaudited/{{}}?purpose={PURPOSE}",
    }
    scripts = {name: wrk_script(scratch / f"{name}.lua",
                                [(path.format(s["subject_id"]), orgs.index(s["lead"]))
                                 for s in samples], token_list)
               for name, path in reads.items()}
    scripts["hello"] = wrk_script(scratch / "hello.lua", None, [])
    limits = {"CASESHARE_RATELIMIT_DEFAULT": "100000000 per minute",
              "CASESHARE_RATELIMIT_PER_ADDRESS": "100000000 per minute"}
    procs = []
    try:
        product, port = serve(args.tree.resolve(), "wsgi:app",
                              {**os.environ, **workdir.env(urls["caseshare"]), **limits},
                              scratch / "log", workers=args.workers)
        procs.append(product)
        floor, floor_port = serve(Path(__file__).resolve().parent.parent, "bench.lean_floor:app",
                                  {**os.environ, **workdir.env(urls["floor"]), **limits,
                                   "CASESHARE_FLOOR_SERVED": "1"},
                                  scratch / "log", workers=args.workers)
        procs.append(floor)
        targets = {"hello": (floor_port, "/hello"), "commit": (floor_port, "/commit"),
                   "unaudited": (floor_port, "/"), "lean": (floor_port, "/"),
                   "caseshare": (port, "/")}
        pids = {"caseshare": workers_of(product, args.workers)}
        for name in ("hello", "commit", "unaudited", "lean"):
            pids[name] = workers_of(floor, args.workers)

        def drive(name: str, duration: float) -> dict[str, Any]:
            port_, path = targets[name]
            result = measured_wrk(port_, path, scripts["hello" if name == "commit" else name],
                                  pids[name], duration=duration, connections=args.connections)
            if result["non2xx"]:
                raise RuntimeError(f"{name}: {result['non2xx']} responses were not 2xx")
            return result

        summary = interleaved_rounds(list(targets), drive, rounds=args.rounds,
                                     duration=args.duration)
        for name in targets:
            summary[name]["vs_hello"] = summary[name]["rps"] / summary["hello"]["rps"]
        summary["load_average_end"] = os.getloadavg()
    finally:
        stop_all(procs, scratch)
    return summary


if __name__ == "__main__":
    sys.exit(main())
