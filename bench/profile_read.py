"""Where an audited case-plan read spends its time: cProfile over reads through the Flask test
client on a loaded data set, summed per step of the request path.

    python -m bench.load --workdir /tmp/cs-bench --scale 0.01
    python -m bench.profile_read --workdir /tmp/cs-bench [--database-url URL] [--reads 300]

cProfile inflates Python-heavy steps relative to C (crypto, the database driver); read the shares,
not the absolute figures, and confirm with py-spy on a gunicorn worker where it matters.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from pathlib import Path

from bench.load import Workdir

# (label, function name, path fragment) for the steps of the read path, outermost first.
STEPS = [
    ("whole request (Flask wsgi_app)", "wsgi_app", "flask/app.py"),
    ("rate limiter", "_check_request_limit", "flask_limiter/"),
    ("authenticate (token + directory)", "_authenticate", "caseshare/api/common.py"),
    ("  token signature and claims", "validate", "caseshare/identity/tokens.py"),
    ("request context + purpose check", "context", "caseshare/api/common.py"),
    ("pipeline.read_case_plan", "read_case_plan", "caseshare/access/case_plans.py"),
    ("  subject + relationship", "subject_in_case", "caseshare/access/guards.py"),
    ("    subject, members, consents, overrides", "find_subject_with_facts",
     "caseshare/subjects/"),
    ("      current consents + withdrawals", "current_consent_facts", "caseshare/consent/"),
    ("      overrides", "override_facts", "caseshare/overrides/service.py"),
    ("  plan and entries", "get_plan_with_entries", "caseshare/case_plan/"),
    ("  decision (evaluate)", "evaluate", "caseshare/access/decision.py"),
    ("  unwrap data key (keyring)", "data_key", "caseshare/subjects/service.py"),
    ("  open sealed fields", "disclose_entries", "caseshare/access/disclosure.py"),
    ("  audit events (build + hash)", "audit_read", "caseshare/access/guards.py"),
    ("  commit", "commit", "caseshare/access/context.py"),
    ("serialise (marshmallow dump)", "dump", "marshmallow/schema.py"),
    ("JSON encoding (Flask provider)", "response", "flask/json/provider.py"),
    ("session close", "_close", "caseshare/request_db.py"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reads", type=int, default=300)
    args = parser.parse_args(argv)
    # The rate limiter is a process-wide object configured by the first app created: set the
    # limit before any app exists so it is not what is profiled.
    os.environ["CASESHARE_RATELIMIT_DEFAULT"] = "100000000 per minute"
    os.environ["CASESHARE_RATELIMIT_PER_ADDRESS"] = "100000000 per minute"
    from bench.run import issue_tokens
    from caseshare import create_app

    workdir = Workdir(args.workdir)
    url = args.database_url or f"sqlite:///{workdir.root / 'caseshare.db'}"
    samples = json.loads(workdir.manifest.read_text())["samples"][: args.reads]
    tokens = issue_tokens(workdir, url, [s["lead"] for s in samples])
    app = create_app({"instance_path": workdir.instance, "database_url": url,
                      "policies_dir": workdir.policies, "forms_dir": workdir.forms})
    client = app.test_client()

    def reads() -> None:
        for s in samples:
            response = client.get(
                f"/api/v1/subjects/{s['subject_id']}/case-plan?purpose=case_management",
                headers={"Authorization": f"Bearer {tokens[s['lead']]}"})
            if response.status_code != 200:
                raise RuntimeError(f"read returned {response.status_code}")

    reads()  # warm caches and connections
    started, cpu_started = time.perf_counter(), time.process_time()
    reads()
    plain_ms = (time.perf_counter() - started) / len(samples) * 1000
    # CPU time of this process (app and, for SQLite, the database engine): unlike wall time it
    # barely moves when other work shares the machine.
    cpu_ms = (time.process_time() - cpu_started) / len(samples) * 1000
    profiler = cProfile.Profile()
    profiler.runcall(reads)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    print(f"{len(samples)} reads, {plain_ms:.2f} ms per read without the profiler "
          f"({cpu_ms:.2f} ms CPU in this process)")
    whole = None
    for label, name, fragment in STEPS:
        total = sum(ct for (path, _line, fn), (_cc, _nc, _tt, ct, _callers) in stats.items()
                    if fn == name and fragment in path)
        whole = whole or total
        share = total / whole * 100 if whole else 0.0
        print(f"{label:<40} {total / len(samples) * 1000:8.2f} ms  {share:5.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
