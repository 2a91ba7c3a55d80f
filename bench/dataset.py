"""What the benchmark data set holds: sizes, generated protocols and consent form, and rows.

Row generation is pure (a seeded random generator per batch) so that worker processes can build
batches in parallel while the parent inserts them. Every sealed value is sealed with the real
`caseshare.crypto.sealing.seal` under a real per-subject data key, wrapped by the real keyring.
"""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from caseshare.audit.canonical import canonical_bytes
from caseshare.audit.merkle import leaf_hash
from caseshare.case_plan.service import entry_ref
from caseshare.crypto.keyring import KeyProvider
from caseshare.crypto.sealing import blind_index, new_data_key, seal
from caseshare.subjects import service as subject_service
from caseshare.subjects.models import IDENTITY_FIELDS

# Full size, from the issue.
FULL = {
    "subjects": 100_000,
    "consents_per_subject": 10,
    "entries_per_plan": 10,  # title + detail sealed: 20 sealed fields per plan
    "audit_events": 1_000_000,
    "protocols": 50,
    "organisations": 500,
}
ORGS_PER_PROTOCOL = 10
# Position of an organisation inside its protocol -> (sector, role).
SLOTS = [("central_gov", "work_coach")] * 3 + [("local_gov", "housing_officer")] * 3 + [
    ("health", "key_worker")] * 2 + [("vcs", "adviser")] * 2
PURPOSES = ["case_management", "tenancy_sustainment", "budgeting_support", "recovery_support"]
SHARED = ["identity", "contact", "employment", "benefit_claim", "housing_tenancy", "finances"]
CATEGORIES = [*SHARED, "substance_misuse", "offending"]
FORM_ID = "bench-multi-agency"
EXPLICIT = ("I explicitly agree that information about my health and any offending may be "
            "shared with the organisations I have chosen, for the reasons I have chosen.")
WORDS_TEXT = (
    "rent arrears plan housing benefit review budget weekly group appointment work search "
    "placement CV interview debt advice referral tenancy sustainment recovery hub "
    "prescribing review childcare travel training food bank energy grant council tax "
    "reduction"
)
WORDS = WORDS_TEXT.split()


@dataclass(frozen=True)
class Sizes:
    subjects: int
    consents_per_subject: int
    entries_per_plan: int
    audit_events: int
    protocols: int
    organisations: int

    @classmethod
    def scaled(cls, scale: float, protocols: int | None = None) -> Sizes:
        """Claimant-proportional tables scale; the rule set (protocols, organisations) does not
        unless asked, since it does not grow with the number of claimants."""
        n_protocols = protocols or FULL["protocols"]
        return cls(
            subjects=max(20, round(FULL["subjects"] * scale)),
            consents_per_subject=FULL["consents_per_subject"],
            entries_per_plan=FULL["entries_per_plan"],
            audit_events=max(100, round(FULL["audit_events"] * scale)),
            protocols=n_protocols,
            organisations=n_protocols * ORGS_PER_PROTOCOL,
        )

    @property
    def consents(self) -> int:
        return self.subjects * self.consents_per_subject

    @property
    def plan_entries(self) -> int:
        return self.subjects * self.entries_per_plan


def org_id(n: int) -> str:
    return f"bench-org-{n:03d}"


@cache
def protocol_orgs(p: int) -> tuple[str, ...]:
    return tuple(org_id(p * ORGS_PER_PROTOCOL + i) for i in range(ORGS_PER_PROTOCOL))


def staff_email(org: str) -> str:
    return f"staff@{org}.example"


@cache
def staff_id(org: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"caseshare-bench:staff:{org}")


def role_of(org: str) -> str:
    return SLOTS[int(org.rsplit("-", 1)[1]) % ORGS_PER_PROTOCOL][1]


# ---------------------------------------------------------------------------------------------
# Rule files


def protocol_document(p: int) -> dict[str, Any]:
    orgs = list(protocol_orgs(p))
    by_role: dict[str, list[str]] = {}
    parties = []
    for i, org in enumerate(orgs):
        sector, role = SLOTS[i]
        by_role.setdefault(role, []).append(org)
        parties.append({"id": org, "name": f"Bench organisation {org[-3:]}", "sector": sector,
                        "public_authority": sector != "vcs", "status": "active"})
    return {
        "id": f"bench-protocol-{p:02d}", "version": 1,
        "title": f"Benchmark local support protocol {p:02d}", "type": "ISP",
        "framework": "local", "status": "active", "effective_from": "2026-01-01",
        "review_date": "2027-01-01", "expires_on": "2028-12-31", "parties": parties,
        "purposes": [{"code": c, "description": c.replace("_", " ")} for c in PURPOSES],
        # A category's flags must agree across protocols: benefit_claim is DWP-origin data in
        # the shipped protocols too.
        "categories": [{"code": c, "description": c.replace("_", " "),
                        **({"dwp_origin": True} if c == "benefit_claim" else {})}
                       for c in SHARED] + [
            {"code": "substance_misuse", "description": "Drug and alcohol treatment",
             "special": True},
            {"code": "offending", "description": "Offending history", "criminal": True}],
        "flows": [
            {"id": "shared", "from": orgs, "to": orgs, "purposes": PURPOSES,
             "categories": SHARED, "consent": "consent", "max_consent_days": 365},
            {"id": "treatment", "from": by_role["key_worker"], "to": orgs,
             "purposes": ["case_management", "recovery_support"],
             "categories": ["substance_misuse"], "consent": "explicit", "max_consent_days": 365},
            {"id": "offending", "from": by_role["housing_officer"],
             "to": by_role["housing_officer"] + by_role["work_coach"],
             "purposes": ["case_management"], "categories": ["offending"],
             "consent": "explicit", "max_consent_days": 365},
        ],
        "grants": [
            {"roles": ["work_coach"], "parties": by_role["work_coach"],
             "purposes": ["case_management"], "read": CATEGORIES,
             "write": ["identity", "contact", "employment", "benefit_claim"]},
            {"roles": ["housing_officer"], "parties": by_role["housing_officer"],
             "purposes": ["case_management", "tenancy_sustainment"], "read": CATEGORIES,
             "write": ["identity", "contact", "housing_tenancy", "offending"]},
            {"roles": ["key_worker"], "parties": by_role["key_worker"],
             "purposes": ["case_management", "recovery_support"],
             "read": ["identity", "contact", "employment", "substance_misuse"],
             "write": ["identity", "contact", "substance_misuse"]},
            {"roles": ["adviser"], "parties": by_role["adviser"],
             "purposes": ["case_management", "budgeting_support"],
             "read": ["identity", "contact", "employment", "housing_tenancy", "finances"],
             "write": ["identity", "contact", "finances"]},
        ],
        "override": {"permitted": False},
    }


def form_document(sizes: Sizes) -> dict[str, Any]:
    return {
        "id": FORM_ID, "version": 1,
        "title": "Consent to share information (benchmark partnership)", "languages": ["en"],
        "protocols": [f"bench-protocol-{p:02d}" for p in range(sizes.protocols)],
        "options": {"recipients": [org_id(n) for n in range(sizes.organisations)],
                    "purposes": PURPOSES, "categories": CATEGORIES, "max_duration_days": 365},
        "text": {"en": {"title": "Consent to share information",
                        "body": "You choose each organisation, reason and type of information.",
                        "explicit_statement": EXPLICIT}},
    }


def write_rule_files(sizes: Sizes, policies_dir: Path, forms_dir: Path, shipped_root: Path) -> None:
    """Generated protocols and form next to copies of the shipped ones (the demo keeps working)."""
    for target, source in ((policies_dir, "policies"), (forms_dir, "consent_forms")):
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted((shipped_root / source).glob("*.yaml")):
            (target / path.name).write_bytes(path.read_bytes())
    # The shipped forms' publication register: published versions are checked as published.
    register = shipped_root / "consent_forms" / "published.json"
    (forms_dir / register.name).write_bytes(register.read_bytes())
    for p in range(sizes.protocols):
        (policies_dir / f"bench-protocol-{p:02d}.v1.yaml").write_text(
            yaml.safe_dump(protocol_document(p), sort_keys=False))
    (forms_dir / f"{FORM_ID}.v1.yaml").write_text(yaml.safe_dump(form_document(sizes),
                                                                 sort_keys=False))


# ---------------------------------------------------------------------------------------------
# Rows


@dataclass(frozen=True)
class BatchSpec:
    index: int
    first_subject: int
    count: int
    sizes: Sizes
    now: datetime
    text_hash: str
    seed: int


_V4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_V4_SET = (0x4000 << 64) | (0x8000 << 48)


def _uuid(rng: random.Random) -> uuid.UUID:
    """A random version 4 UUID from the batch's generator (as uuid.UUID(version=4) sets it)."""
    return uuid.UUID(int=rng.getrandbits(128) & _V4_CLEAR | _V4_SET)


def _uuid_text(rng: random.Random) -> str:
    """The same as str(_uuid(rng)), without building the object."""
    h = f"{rng.getrandbits(128) & _V4_CLEAR | _V4_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@cache  # audit events refer to each subject about ten times
def subject_uuid(n: int, seed: int) -> uuid.UUID:
    """Subject ids are derived from their number, so audit batches can refer to real subjects."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"caseshare-bench:{seed}:subject:{n}")


def _phrases(words: int, count: int = 997) -> list[str]:
    rng = random.Random(words)
    return [" ".join(rng.choice(WORDS) for _ in range(words)).capitalize() for _ in range(count)]


# Plausible texts of title and note length, drawn from a pool (generating words is slower than
# sealing them).
TITLES, DETAILS = _phrases(6), _phrases(30)


def case_orgs_of(n: int, sizes: Sizes) -> tuple[str, str, str]:
    """Lead (a Jobcentre), a council and a health or voluntary-sector member, one protocol."""
    return _case_orgs(n % sizes.protocols, n % 12)


def outsider_of(n: int, sizes: Sizes) -> str:
    """A party to the same protocol with no relationship to subject n (for the denied read)."""
    return _outsider(n % sizes.protocols, n % 12)


@cache
def _case_orgs(protocol: int, r: int) -> tuple[str, str, str]:
    orgs = protocol_orgs(protocol)
    return orgs[r % 3], orgs[3 + r % 3], orgs[6 + r % 4]


@cache
def _outsider(protocol: int, r: int) -> str:
    return next(o for o in protocol_orgs(protocol) if o not in _case_orgs(protocol, r))


def subject_batch(spec: BatchSpec, keyring: KeyProvider, bi_key: bytes) -> dict[str, list[Any]]:
    """Subjects with sealed identity, their case members, consents, plans and sealed entries."""
    rng = random.Random(spec.seed * 1_000_003 + spec.index)
    sizes, now = spec.sizes, spec.now
    out: dict[str, list[Any]] = {"subjects": [], "case_members": [], "consents": [],
                                 "case_plans": [], "plan_entries": [], "samples": []}
    for n in range(spec.first_subject, spec.first_subject + spec.count):
        sid = subject_uuid(n, spec.seed)
        lead, council, third = case_orgs_of(n, sizes)
        created_by = staff_id(lead)
        key = new_data_key()
        kek_version, wrapped = keyring.wrap(key, context=subject_service._context(sid))
        nino = f"QQ{n % 1_000_000:06d}{'ABCD'[n % 4]}"
        identity = {"given_name": f"Given{n}", "family_name": f"Family{n}",
                    "date_of_birth": f"19{60 + n % 40}-0{1 + n % 9}-1{n % 9}", "nino": nino,
                    "postcode": f"DE{n % 99} {n % 9}AA"}
        row: dict[str, Any] = {
            "id": sid, "jurisdiction": "england", "lead_org_id": lead,
            "nino_index": blind_index(bi_key, nino), "dek_wrapped": wrapped, "dek_version": 1,
            "kek_version": kek_version, "created_at": now - timedelta(days=400),
            "created_by": created_by, "erased_at": None,
        }
        for field in IDENTITY_FIELDS:
            row[field] = seal(key, 1, subject_service.field_ref(sid, field), identity[field])
        out["subjects"].append(row)
        for org, role in ((lead, "lead"), (council, "member"), (third, "member")):
            out["case_members"].append({"id": _uuid(rng), "subject_id": sid, "org_id": org,
                                        "role": role, "joined_at": now - timedelta(days=390)})
        out["consents"].extend(_consents(rng, sid, (lead, council, third), spec))
        active_consent = out["consents"][-1]["id"]
        plan_id = _uuid(rng)
        out["case_plans"].append({"id": plan_id, "subject_id": sid, "lead_org_id": lead,
                                  "created_at": now - timedelta(days=380),
                                  "created_by": created_by})
        out["plan_entries"].extend(_entries(rng, sid, plan_id, key, (lead, council, third), spec))
        out["samples"].append({"n": n, "subject_id": str(sid), "lead": lead, "council": council,
                               "third": third, "outsider": outsider_of(n, sizes),
                               "consent_id": str(active_consent)})
    return out


def _consents(rng: random.Random, sid: uuid.UUID, orgs: tuple[str, str, str],
              spec: BatchSpec) -> list[dict[str, Any]]:
    """A history: superseded versions, then the current broad explicit consent (last)."""
    rows: list[dict[str, Any]] = []
    previous: uuid.UUID | None = None
    count = spec.sizes.consents_per_subject
    for k in range(count):
        cid = _uuid(rng)
        rows.append({
            **_consent_version(k, count, spec.now, spec.text_hash),
            "id": cid, "subject_id": sid, "supersedes_id": previous,
            "recipients": sorted(orgs if k == count - 1 else orgs[: 1 + k % 3]),
            "evidence_ref": f"DOC-{rng.getrandbits(32) % 10**6:06d}",
            "captured_by": staff_id(orgs[0]), "captured_org": orgs[0],
        })
        previous = cid
    return rows


@cache
def _consent_version(k: int, count: int, now: datetime, text_hash: str) -> dict[str, Any]:
    """What the k-th of `count` consent versions has in common for every claimant."""
    current = k == count - 1
    start = now - timedelta(days=30 + 30 * (count - 1 - k))
    return {
        "given_by_type": "self", "given_by_name": None, "authority_ref": None,
        "purposes": PURPOSES if current else ["case_management"],
        "categories": CATEGORIES if current else SHARED[: 2 + k % 4],
        "excluded_categories": [], "explicit_statement": EXPLICIT if current else None,
        "form_id": FORM_ID, "form_version": 1, "language": "en", "text_hash": text_hash,
        "method": "e_signature", "verified": True, "captured_at": start, "valid_from": start,
        "expires_at": start + timedelta(days=360),
    }


def _entries(rng: random.Random, sid: uuid.UUID, plan_id: uuid.UUID, key: bytes,
             orgs: tuple[str, str, str], spec: BatchSpec) -> list[dict[str, Any]]:
    lead, council, third = orgs
    writer = {"substance_misuse": third, "housing_tenancy": council, "offending": council,
              "finances": third}
    rows = []
    for e in range(spec.sizes.entries_per_plan):
        category = CATEGORIES[e % len(CATEGORIES)]
        eid = _uuid(rng)
        created_org = writer.get(category, lead)
        when = spec.now - timedelta(days=300 - e)
        ref_of = SimpleNamespace(subject_id=sid, id=eid, category=category)
        rows.append({
            "id": eid, "plan_id": plan_id, "subject_id": sid,
            "kind": ("goal", "action", "note")[e % 3], "category": category,
            "owner_org": created_org, "created_org": created_org,
            "status": ("open", "in_progress", "done")[e % 3],
            "due_on": date(2027, 1 + e % 12, 1 + e % 28),
            "title": seal(key, 1, entry_ref(ref_of, "title"), rng.choice(TITLES)),  # type: ignore[arg-type]
            "detail": seal(key, 1, entry_ref(ref_of, "detail"), rng.choice(DETAILS)),  # type: ignore[arg-type]
            "owner_name": None, "version": 1, "created_at": when,
            "created_by": staff_id(created_org), "updated_at": when,
            "updated_by": staff_id(created_org), "updated_purpose": "case_management",
        })
    return rows


AUDIT_TYPES = ["case_plan:plan:read", "case_plan:plan:read", "case_plan:plan:read",
               "subject:identity:read", "case_plan:entry:create", "consent:record:create",
               "access:subject:deny", "case_plan:entry:update"]


_TRIPLES = list(itertools.combinations(sorted(CATEGORIES), 3))  # an event's categories, sorted


def audit_batch(first: int, count: int, total: int, sizes: Sizes, now: datetime,
                seed: int) -> list[dict[str, Any]]:
    """Past events, already sequenced (positions first..first+count-1) in time order, each with
    the leaf hash of its canonical bytes, as the sequencer would have left them."""
    rng = random.Random(seed * 7_000_003 + first)
    start = now - timedelta(days=365)
    step = timedelta(days=364) / max(total, 1)
    # getrandbits modulo n rather than randrange/sample: a bias of under 1e-5 does not matter
    # here, and it is several times cheaper per event.
    draw = rng.getrandbits
    rows = []
    for i in range(first, first + count):
        org = org_id(draw(32) % sizes.organisations)
        kind = AUDIT_TYPES[i % len(AUDIT_TYPES)]
        deny = kind.endswith("deny")
        event = SimpleNamespace(
            event_uuid=_uuid(rng), occurred_at=start + step * i, type=kind,
            actor=str(staff_id(org)), org=org, role=role_of(org), purpose="case_management",
            subject_id=subject_uuid(draw(32) % sizes.subjects, seed),
            categories=[] if deny else list(_TRIPLES[draw(32) % len(_TRIPLES)]),
            decision="deny" if deny else "allow",
            reasons=["no_case_relationship"] if deny else [], consent_id=None,
            protocol=None if deny else f"bench-protocol-{draw(32) % sizes.protocols:02d}@1",
            override_id=None, request_id=f"{rng.getrandbits(64):016x}",
            details={} if deny else {"entries": [_uuid_text(rng) for _ in range(3)]},
        )
        row = dict(vars(event))
        row["leaf_hash"] = leaf_hash(canonical_bytes(event))  # type: ignore[arg-type]
        row["seq"] = i
        rows.append(row)
    return rows


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
