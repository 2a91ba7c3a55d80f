"""Directory search benchmark: 10,000 generated Open Referral UK services, searched through
GET /api/v1/services with the Flask test client (the whole request path in process: bearer
token, scope and purpose, parsing, the query, serialising; no HTTP server, so the figure is the
application's own time), by service line and postcode, and by name.

    python -m bench.directory_bench [--services 10000] [--queries 300]
                                    [--engine sqlite|postgresql|both] [--markdown BENCHMARKS.md]

The feed is generated (fixed seed), validated by the same reader as `caseshare directory
import` and imported into a fresh database; then each query kind runs `--queries` times after
a warm-up, and p50 / p95 / max are printed and, with --markdown, written to the "Directory
search" section of BENCHMARKS.md. Target: p95 <= 50 ms. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask

from caseshare import create_app, migrate
from caseshare.directory import oruk
from caseshare.directory.service import import_feed
from caseshare.directory.taxonomy import SERVICE_LINES, VOCABULARY
from caseshare.identity import service as identity
from caseshare.identity import tokens

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- directory-bench:start -->", "<!-- directory-bench:end -->"
COACH = "sam.okafor@jcp-derby.example"
AREAS = {"DE": 75, "NG": 25, "SA": 73, "LE": 19, "S": 99, "B": 99, "CF": 83, "LS": 29}
PARTIES = ["ca-derby", "derby-housing", "jcp-derby", "recovery-partnership",
           "carmarthenshire-housing", "jcp-south-west-wales", "tywi-recovery"]
WORDS = ["money", "advice", "budgeting", "housing", "rent", "digital", "skills", "online",
         "support", "recovery", "wellbeing", "food", "credit", "union", "savings", "debt",
         "help", "claim", "community", "library", "learning", "advocacy", "tenancy", "welfare",
         "rights", "mentoring", "access", "hub", "drop-in", "helpline"]
PLACES = ["Derby", "Nottingham", "Carmarthen", "Llanelli", "Leicester", "Sheffield",
          "Birmingham", "Cardiff", "Leeds", "Ammanford", "Alfreton", "Belper"]


def districts(rng: random.Random) -> list[str]:
    return [f"{area}{rng.randint(1, top)}" for area, top in AREAS.items()]


def generate(n: int, seed: int = 2026) -> dict[str, Any]:
    """An Open Referral UK feed of `n` services of n / 20 organisations (a few of them
    protocol parties), each with a location, a service area of a few districts (or a whole
    area, one in 20), contacts, hours, eligibility and one to three service lines."""
    rng = random.Random(seed)
    lines = list(SERVICE_LINES)
    orgs = []
    for i in range(max(1, n // 20)):
        kind = rng.choice(["Trust", "Network", "Service", "Project"])
        org: dict[str, Any] = {"id": f"org-{i:05d}", "name": (
            f"{rng.choice(PLACES)} {rng.choice(WORDS).title()} {kind} {i}")}
        if i < len(PARTIES):
            org["organization_identifiers"] = [{"identifier_scheme": oruk.PARTY_SCHEME,
                                                "identifier": PARTIES[i]}]
        orgs.append(org)
    content = []
    for i in range(n):
        area = rng.choice(list(AREAS))
        district = f"{area}{rng.randint(1, AREAS[area])}"
        served = ([area] if i % 20 == 0 else
                  sorted({district, *(f"{area}{rng.randint(1, AREAS[area])}" for _ in range(4))}))
        chosen = rng.sample(lines, rng.randint(1, 3))
        content.append({
            "id": f"svc-{i:06d}",
            "name": f"{' '.join(rng.sample(WORDS, 3)).capitalize()} {i}",
            "description": "A generated service for the directory benchmark.",
            "status": "active" if i % 50 else "inactive",
            "organization": orgs[i % len(orgs)],
            "service_at_locations": [{"id": f"sal-{i}", "location": {
                "id": f"loc-{i}", "name": f"{rng.choice(PLACES)} centre",
                "physical_addresses": [{"address_1": f"{i} High Street", "city": "Town",
                                        "postal_code": f"{district} {rng.randint(1, 9)}AB"}]}}],
            "service_areas": [{"id": f"area-{i}", "service_area": "Local area",
                               "postcode_districts": served}],
            "eligibilitys": [{"id": f"el-{i}", "eligibility": "Adults", "minimum_age": 18}],
            "contacts": [{"id": f"c-{i}", "title": "Enquiries",
                          "phones": [{"number": f"01632 960 {i % 1000:03d}"}]}],
            "regular_schedules": [{"id": f"h-{i}", "byday": "MO,TU,WE,TH,FR",
                                   "opens_at": "09:00", "closes_at": "17:00"}],
            "service_taxonomys": [{"id": f"t-{i}-{c}", "taxonomy": {
                "id": c, "name": SERVICE_LINES[c], "vocabulary": VOCABULARY}} for c in chosen],
        })
    return {"content": content}


@contextmanager
def database(engine: str, workdir: Path) -> Iterator[str]:
    if engine == "sqlite":
        yield f"sqlite:///{workdir / 'directory-bench.db'}"
        return
    from tests.pg_server import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        sys.exit("PostgreSQL binaries not found")
    server = PostgresServer(bindir)
    server.start()
    try:
        yield server.url()
    finally:
        server.stop()


def prepare(url: str, workdir: Path, n: int) -> tuple[Flask, str, float]:
    """The app on a migrated database with the demo staff and `n` imported services; a token
    for the work coach; and how long the import took (s)."""
    migrate.upgrade(url)
    # The rate limit is for clients on the network; the benchmark is one in-process client.
    app = create_app({"instance_path": workdir / "instance", "database_url": url,
                      "ratelimit_default": "1000000 per minute"})
    rt = app.extensions["caseshare"]
    from caseshare.demo import seed

    with rt.session_factory() as s:
        for _line in seed(s, rt):
            pass
    feed = oruk.parse(generate(n), rt.protocols.by_party)
    began = time.perf_counter()
    with rt.session_factory() as s, s.begin():
        import_feed(s, feed, now=rt.now(), source="bench")
    imported = time.perf_counter() - began
    with rt.session_factory() as s:
        staff = identity.get_staff_by_email(s, COACH)
        token, _claims = tokens.issue(
            rt.token_keys, issuer=rt.settings.issuer, audience=rt.settings.audience,
            subject=str(staff.id), client_id="bench", org=staff.org_id, roles=staff.roles,
            scopes=identity.scopes_for(staff.roles),
            purposes=identity.purposes_for(rt.protocols, staff.org_id, staff.roles),
            actor_type="staff", now=rt.now(), ttl_seconds=3600, epoch=staff.credentials_epoch)
    return app, token, imported


def measure(app: Flask, token: str, queries: list[str]) -> tuple[list[float], int]:
    """Milliseconds per request, and the total number of items returned."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    times, found = [], 0
    for query in queries:
        began = time.perf_counter()
        r = client.get(f"/api/v1/services?purpose=case_management&{query}", headers=headers)
        times.append((time.perf_counter() - began) * 1000)
        assert r.status_code == 200, r.get_data(as_text=True)[:500]
        found += len(r.json["items"])
    return times, found


def kinds(rng: random.Random, count: int) -> dict[str, list[str]]:
    lines = list(SERVICE_LINES)
    return {
        "service line + postcode": [
            f"service_line={rng.choice(lines)}&postcode={rng.choice(districts(rng))}"
            f"%20{rng.randint(1, 9)}AB" for _ in range(count)],
        "name (q)": [f"q={rng.choice(WORDS)}" for _ in range(count)],
        "service line only": [f"service_line={rng.choice(lines)}" for _ in range(count)],
    }


def run(engine: str, n: int, count: int) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="directory-bench-") as tmp, \
            database(engine, Path(tmp)) as url:
        app, token, imported = prepare(url, Path(tmp), n)
        print(f"{engine}: imported {n} services in {imported:.1f} s", flush=True)
        rng = random.Random(7)
        for kind, queries in kinds(rng, count).items():
            measure(app, token, queries[:20])  # warm-up
            times, found = measure(app, token, queries)
            times.sort()
            row = {"engine": engine, "kind": kind, "requests": len(times),
                   "p50": statistics.median(times), "p95": times[int(len(times) * 0.95) - 1],
                   "max": times[-1], "items": found / len(times)}
            rows.append(row)
            print(f"{engine} {kind}: p50 {row['p50']:.1f} ms, p95 {row['p95']:.1f} ms, "
                  f"max {row['max']:.1f} ms, {row['items']:.0f} items a page", flush=True)
        app.extensions["caseshare"].engine.dispose()
    return rows


def markdown(rows: list[dict[str, Any]], command: str, n: int) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    table = "\n".join(f"| {r['engine']} | {r['kind']} | {r['p50']:.1f} | {r['p95']:.1f} | "
                      f"{r['max']:.1f} | {r['requests']} | {r['items']:.0f} |" for r in rows)
    return (f"{START}\n## Directory search: {n:,} services\n\n`{command}` ({when}; GET "
            "/api/v1/services through the Flask test client, in process: token, scope, purpose, "
            "query and serialising, no HTTP server; pages of 50; 2 cores shared with other "
            "work). Target: p95 <= 50 ms.\n\n"
            "| engine | query | p50 ms | p95 ms | max ms | requests | items a page |\n"
            f"|---|---|---|---|---|---|---|\n{table}\n{END}")


def write_section(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if START in text and END in text:
        text = text[:text.index(START)] + section + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    rows = [row for engine in engines for row in run(engine, args.services, args.queries)]
    if args.markdown:
        command = "python -m bench.directory_bench " + " ".join(sys.argv[1:])
        write_section(args.markdown, markdown(rows, command, args.services))


if __name__ == "__main__":
    main()
