"""Project the measured per-request costs (bench/results.json) to a national deployment.

    python -m bench.project [--results bench/results.json] [--engine postgresql]

A deliberately small model: demand from a few stated assumptions (docs/scaling.md explains each),
cost per request from the benchmark, and what follows: app cores, database commits per second,
audit events and storage per year, and how fast the single sequencer must integrate. Change an
assumption on the command line and the consequence is printed next to it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Assumptions:
    claimants: int = 7_000_000  # Universal Credit households/claimants, national
    shared_plan_share: float = 0.05  # minority with complex needs on a shared plan
    staff: int = 40_000  # work coaches, council officers, key workers, advisers using it
    touches_per_plan_per_week: float = 4.0  # a staff member opening the plan
    reads_per_touch: float = 3.0  # plan, identity, consents
    writes_per_touch: float = 0.5
    partner_api_multiplier: float = 3.0  # partner case systems syncing through the API
    working_hours_per_day: float = 9.0
    peak_to_mean: float = 3.0  # busiest minute against the working-day mean
    audit_events_per_read: float = 1.5  # allow + deny for withheld categories
    audit_events_per_write: float = 1.0
    audit_row_bytes: int = 1_200  # row + indexes, PostgreSQL JSONB
    app_core_utilisation: float = 0.6  # head-room left on each app core at peak


def demand(a: Assumptions) -> dict[str, float]:
    plans = a.claimants * a.shared_plan_share
    touches_per_day = plans * a.touches_per_plan_per_week / 5  # working days
    reads = touches_per_day * a.reads_per_touch * a.partner_api_multiplier
    writes = touches_per_day * a.writes_per_touch * a.partner_api_multiplier
    seconds = a.working_hours_per_day * 3600
    events_per_day = reads * a.audit_events_per_read + writes * a.audit_events_per_write
    return {
        "shared_plans": plans,
        "reads_per_day": reads,
        "writes_per_day": writes,
        "peak_reads_per_s": reads / seconds * a.peak_to_mean,
        "peak_writes_per_s": writes / seconds * a.peak_to_mean,
        "audit_events_per_day": events_per_day,
        "audit_events_per_year": events_per_day * 250,
        "peak_audit_events_per_s": events_per_day / seconds * a.peak_to_mean,
        "audit_storage_gb_per_year": events_per_day * 250 * a.audit_row_bytes / 1e9,
    }


def supply(result: dict[str, Any], cores: int) -> dict[str, float | None]:
    """Per-request costs from one engine's benchmark result."""
    read_rps = result.get("read_rps")
    verify_s, events = result.get("audit_verify_s"), result.get("audit_events")
    return {
        # The benchmark saturates `cores` cores shared by wrk, gunicorn and the database, so this
        # over-states the app's own cost: a safe side to err on.
        "core_ms_per_read": cores / read_rps * 1000 if read_rps else None,
        "verify_events_per_s": events / verify_s if verify_s and events else None,
        "read_p99_ms": result.get("read_p99_ms"),
    }


def project(a: Assumptions, result: dict[str, Any], cores: int) -> list[tuple[str, str]]:
    d, s = demand(a), supply(result, cores)
    rows = [
        ("claimants on a shared plan", f"{d['shared_plans']:,.0f}"),
        ("audited reads per working day", f"{d['reads_per_day']:,.0f}"),
        ("writes per working day", f"{d['writes_per_day']:,.0f}"),
        ("peak reads per second", f"{d['peak_reads_per_s']:,.0f}"),
        ("peak writes per second", f"{d['peak_writes_per_s']:,.0f}"),
        ("audit events per day", f"{d['audit_events_per_day']:,.0f}"),
        ("audit events per year (250 working days)", f"{d['audit_events_per_year']:,.0f}"),
        ("peak audit events per second (= commits without grouping)",
         f"{d['peak_audit_events_per_s']:,.0f}"),
        ("audit storage per year", f"{d['audit_storage_gb_per_year']:,.0f} GB"),
    ]
    if s["core_ms_per_read"]:
        cores_needed = d["peak_reads_per_s"] * s["core_ms_per_read"] / 1000
        servers = math.ceil(cores_needed / a.app_core_utilisation / 4)
        rows += [
            ("measured cost per audited read", f"{s['core_ms_per_read']:.1f} core-ms"),
            ("app cores busy at peak", f"{cores_needed:,.1f}"),
            ("4-core app servers at peak (with head-room)", f"{servers}"),
        ]
    if s["verify_events_per_s"]:
        year = d["audit_events_per_year"]
        rows += [
            ("measured verification rate", f"{s['verify_events_per_s']:,.0f} events/s"),
            ("full verification of one year's log",
             f"{year / s['verify_events_per_s'] / 3600:,.1f} h"),
            ("sequencer head-room at peak (verify rate / peak event rate)",
             f"{s['verify_events_per_s'] / d['peak_audit_events_per_s']:,.0f}x"),
        ]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--engine", default="postgresql")
    for f in fields(Assumptions):
        parser.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default),
                            default=f.default)
    args = parser.parse_args(argv)
    doc = json.loads(args.results.read_text())
    result = next((r for r in doc["results"] if r["engine"] == args.engine), None)
    if result is None:
        print(f"no {args.engine} result in {args.results}", file=sys.stderr)
        return 1
    assumptions = Assumptions(**{f.name: getattr(args, f.name) for f in fields(Assumptions)})
    cores = int(doc.get("machine", {}).get("cores") or 2)
    print(f"Projection from {args.results.name} ({args.engine}, {doc['generated_at']}, "
          f"scale {doc['settings']['scale']:g})\n")
    print("| quantity | value |\n|---|---:|")
    for label, value in project(assumptions, result, cores):
        print(f"| {label} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
