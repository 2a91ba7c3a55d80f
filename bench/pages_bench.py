"""Pages benchmark: the caseload (home) page and the claimant overview, with 8 staff members
signed in through the real sign-in page (password, CSRF, purpose, session cookie) browsing at
once, on the `make bench` data set (bench/load.py; 100,000 claimants at --scale 1).

    python -m bench.pages_bench [--scale 1.0] [--engine sqlite|postgresql] [--users 8]
                                [--rounds 60] [--markdown BENCHMARKS.md]

Each user's organisation is given a caseload of exactly --caseload claimants (500: at full
scale the data set's third-slot organisations hold 500 already; smaller scales are topped up
with case memberships), and the first user pages through the whole caseload to check that each
page holds at most 200 rows and that every claimant appears once. Then every user, in its own
thread with its own connection and cookies, alternates the caseload page and the overview of
one of its organisation's claimants, `--rounds` times; p50 and p95 of each page are printed,
written to bench/results-pages.json and to the "Pages" section of BENCHMARKS.md. Servers run
as in `make bench` (gunicorn, 2 sync workers, loopback). Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bench import dataset
from bench.load import Workdir, load
from bench.run import DurablePostgres, Gunicorn
from caseshare.db import make_engine
from caseshare.identity import passwords
from caseshare.identity.models import StaffMember
from caseshare.subjects.models import CaseMember, Subject
from tests.pg_server import find_bindir

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-pages-password-2026"  # noqa: S105 (a throwaway benchmark database's)
PURPOSE = "case_management"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ROW = re.compile(r'data-testid="caseload-row"')
NEXT = re.compile(r'href="(/\?[^"]*cursor=[^"]+)"[^>]*rel="next"')
START, END = "<!-- pages-bench:start -->", "<!-- pages-bench:end -->"


# ---------------------------------------------------------------------------------------------
# The data set's users


@dataclass
class User:
    org: str
    email: str
    overview: list[str]  # claimants of the organisation's own (generated) caseload


def users_for(n: int, sizes: dataset.Sizes) -> list[str]:
    """n organisations in the third slot of different protocols (the key workers': 500
    claimants each at full scale). A claimant's third organisation is slot 6 + n % 4 of
    protocol n % 50, so an even protocol's claimants reach slot 6 and an odd one's slot 7."""
    return [dataset.org_id((p % sizes.protocols) * dataset.ORGS_PER_PROTOCOL + 6 + p % 2)
            for p in range(n)]


def prepare(url: str, orgs: list[str], caseload: int) -> list[User]:
    """Passwords for the users, and each organisation's caseload topped up to `caseload`."""
    engine = make_engine(url)
    users = []
    with sessionmaker(bind=engine)() as s:
        for org in orgs:
            staff = s.scalars(select(StaffMember).where(StaffMember.org_id == org)).one()
            passwords.set_password(staff, PASSWORD)
            own = [str(i) for i in s.scalars(select(CaseMember.subject_id)
                                              .where(CaseMember.org_id == org)
                                              .order_by(CaseMember.subject_id).limit(50))]
            _top_up(s, org, caseload)
            if not own:
                raise RuntimeError(f"{org} has no claimants of its own in the data set")
            users.append(User(org, staff.email, own))
        s.commit()
    engine.dispose()
    return users


def _top_up(s: Session, org: str, caseload: int) -> None:
    have = s.scalar(select(func.count()).select_from(CaseMember)
                    .where(CaseMember.org_id == org)) or 0
    if have >= caseload:
        return
    members = select(CaseMember.subject_id).where(CaseMember.org_id == org)
    extra = list(s.scalars(select(Subject.id).where(Subject.id.not_in(members))
                           .order_by(Subject.id).limit(caseload - have)))
    now = datetime.now(UTC)
    s.execute(insert(CaseMember), [{"subject_id": sid, "org_id": org, "role": "member",
                                     "joined_at": now} for sid in extra])


# ---------------------------------------------------------------------------------------------
# A browser, as far as the server can tell


@dataclass
class Browser:
    """One signed-in user: a keep-alive connection and the cookies the server set."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str,
                form: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        text = resp.read().decode()
        for value in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return resp.status, text, dict(resp.headers)

    def get(self, path: str, expect: int = 200) -> str:
        status, text, headers = self.request("GET", path)
        if status != expect:
            raise RuntimeError(f"GET {path}: {status} {headers.get('Location', '')}")
        return text

    def post(self, path: str, form: dict[str, str], csrf_from: str) -> str:
        match = CSRF.search(self.get(csrf_from))
        if match is None:
            raise RuntimeError(f"no CSRF token on {csrf_from}")
        status, _text, headers = self.request("POST", path, {**form, "csrf_token": match[1]})
        if status != 302:
            raise RuntimeError(f"POST {path}: {status}")
        return headers.get("Location", "")

    def sign_in(self, email: str, purpose: str) -> None:
        where = self.post("/sign-in", {"email": email, "password": PASSWORD}, "/sign-in")
        if where.endswith("/purpose"):
            self.post("/purpose", {"purpose": purpose}, "/purpose")


def page_through(browser: Browser) -> dict[str, Any]:
    """Every page of the caseload: rows per page, and the total."""
    rows, path = [], "/?sort=overdue"
    while path:
        text = browser.get(path.replace("&amp;", "&"))
        rows.append(len(ROW.findall(text)))
        found = NEXT.search(text)
        path = found[1] if found else ""
    return {"pages": len(rows), "rows_per_page": rows, "rows": sum(rows)}


# ---------------------------------------------------------------------------------------------
# The measurement


def browse(browser: Browser, user: User, rounds: int, barrier: threading.Barrier,
           out: dict[str, list[float]], lock: threading.Lock) -> None:
    timings: dict[str, list[float]] = {"caseload": [], "overview": []}
    barrier.wait()
    try:
        for i in range(rounds):
            for name, path in (("caseload", "/"), (
                    "overview", f"/claimants/{user.overview[i % len(user.overview)]}")):
                started = time.perf_counter()
                browser.get(path)
                timings[name].append((time.perf_counter() - started) * 1000)
    except Exception as exc:  # reported by `measure`: a failed user invalidates the run
        with lock:
            out.setdefault("errors", []).append(f"{user.org}: {exc}")  # type: ignore[arg-type]
        return
    with lock:
        for name, values in timings.items():
            out[name].extend(values)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(port: int, users: list[User], rounds: int) -> dict[str, Any]:
    browsers = [Browser(port) for _ in users]
    for browser, user in zip(browsers, users, strict=True):
        browser.sign_in(user.email, PURPOSE)
        browser.get("/")  # warm: templates, the worker's caches, the header's count
    paging = page_through(browsers[0])
    # One user alone first: what a request costs without waiting for a worker.
    alone: dict[str, list[float]] = {"caseload": [], "overview": []}
    browse(browsers[0], users[0], max(5, rounds // 4), threading.Barrier(1), alone,
           threading.Lock())
    out: dict[str, list[float]] = {"caseload": [], "overview": []}
    lock, barrier = threading.Lock(), threading.Barrier(len(users))
    threads = [threading.Thread(target=browse, args=(b, u, rounds, barrier, out, lock))
               for b, u in zip(browsers, users, strict=True)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if out.pop("errors", None):
        raise RuntimeError("a user's browsing failed; no figures")
    result: dict[str, Any] = {"paging": paging, "wall_s": round(wall, 1),
                              "requests": sum(len(v) for v in out.values())}
    for name, values in out.items():
        result[name] = {"p50_ms": round(statistics.median(values), 1),
                        "p95_ms": round(percentile(values, 0.95), 1),
                        "max_ms": round(max(values), 1), "n": len(values),
                        "alone_p50_ms": round(statistics.median(alone[name]), 1)}
    return result


def serve(workdir: Workdir, url: str, log: Path) -> Gunicorn:
    env = {**os.environ, **workdir.env(url), "CASESHARE_RATELIMIT_SIGN_IN": "1000 per minute",
           "CASESHARE_RATELIMIT_DEFAULT": "100000000 per minute",
           "CASESHARE_RATELIMIT_PER_ADDRESS": "100000000 per minute"}
    server = Gunicorn("wsgi:app", env)
    server.start(log)
    return server


# ---------------------------------------------------------------------------------------------
# Report


def markdown(result: dict[str, Any], command: str) -> str:
    p = result["paging"]
    rows = [f"| {name} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} | {r['n']} | "
            f"{r.get('alone_p50_ms', '')} |"
            for name, r in ((n, result[n]) for n in ("caseload", "overview"))]
    return "\n".join([
        START,
        "## Pages: caseload and claimant overview, 8 signed-in users",
        "",
        f"`{command}` ({result['engine']}, {result['subjects']:,} claimants, "
        f"{result['users']} users each signed in through the sign-in page, each organisation's "
        f"caseload {result['caseload_size']} claimants; gunicorn 2 sync workers on "
        f"{result['cpus']} cores shared with other work; {result['when']}).",
        "",
        "| page | p50 ms | p95 ms | max ms | requests | p50 ms, one user alone |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"Paging: the {p['rows']}-claimant caseload came in {p['pages']} pages of "
        f"{', '.join(str(n) for n in p['rows_per_page'])} rows (200 at most). Target: p95 <= "
        "150 ms for both pages.",
        END,
    ])


def write_markdown(path: Path, section: str) -> None:
    text = path.read_text() if path.exists() else ""
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--caseload", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=60, help="caseload + overview per user")
    parser.add_argument("--jobs", type=int, default=2, help="loader worker processes")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results-pages.json")
    parser.add_argument("--markdown", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="pages-bench-"))
    workdir = Workdir(base / args.engine)
    workdir.root.mkdir(parents=True)
    pg = None
    server = None
    try:
        if args.engine == "sqlite":
            url = f"sqlite:///{workdir.root / 'caseshare.db'}"
        else:
            bindir = find_bindir()
            if bindir is None:
                raise RuntimeError("PostgreSQL binaries not found")
            pg = DurablePostgres(bindir)
            pg.start()
            from sqlalchemy import create_engine, text
            admin = create_engine(pg.url(), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text("CREATE DATABASE caseshare"))
            admin.dispose()
            url = pg.url("caseshare")
        print(f"loading scale {args.scale:g} into {args.engine}", file=sys.stderr)
        t0 = time.perf_counter()
        report = load(workdir, url, args.scale, jobs=args.jobs)
        sizes = dataset.Sizes.scaled(args.scale)
        users = prepare(url, users_for(args.users, sizes), args.caseload)
        print(f"loaded in {time.perf_counter() - t0:.0f} s; serving {base}", file=sys.stderr)
        server = serve(workdir, url, base / "server.log")
        result = measure(server.port, users, args.rounds)
        result.update(engine=args.engine, scale=args.scale, users=args.users,
                      caseload_size=args.caseload, subjects=report["counts"]["subjects"],
                      cpus=os.cpu_count(), when=datetime.now(UTC).strftime("%Y-%m-%d"))
        print(json.dumps(result, indent=2))
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        command = "python -m bench.pages_bench " + " ".join(argv if argv is not None
                                                            else sys.argv[1:])
        write_markdown(args.markdown, markdown(result, command.strip()))
        return 0
    finally:
        if server is not None:
            server.stop()
        if pg is not None:
            pg.stop()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
