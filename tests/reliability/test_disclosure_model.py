"""Model-based test of the boundary: what any API read discloses is within what the rules allow.

Hypothesis generates two protocols (flows, grants, consent levels, override rules), which
organisations work on the claimant's case, and then a run of steps through the real API: entries
written and edited by each agency, consents recorded and withdrawn (in whole or in part),
break-glass overrides, the clock moving on, and plan and entry-history reads by every staff
member for every purpose. After each read, every piece of text in the response must be text that
the oracle below allows that reader to see.

The oracle is written here, from the rules as `docs/protocols.md` and the contract state them,
and shares no code with `caseshare/access/decision.py`:
- a reader sees a category for a purpose only if their organisation works on the case, and some
  protocol in force grants their role that purpose and category to read, and either the words
  were written by their own organisation, or a flow of that protocol carries the category for
  the purpose from the organisation that wrote the words to theirs, with a lawful basis: the flow
  needs no consent, or an active consent names their organisation, the purpose and the category
  (explicitly where the flow or the category demands it) and no withdrawal covers them, or an
  override that this same staff member holds covers the purpose and category within its time
  box, under a protocol whose override rules permit the route and their role;
- every piece of text is judged by the organisation that wrote it (provenance), not by the
  entry it sits in.

`make test` runs a few short examples per engine; `make reliability` runs many more
(CASESHARE_MODEL_EXAMPLES, CASESHARE_MODEL_STEPS).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from caseshare import create_app
from caseshare.identity import service as identity
from caseshare.runtime import Runtime
from caseshare.subjects import service as subjects
from tests.conftest import Clock, _database_url, issue_token

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("CASESHARE_MODEL_EXAMPLES", "6"))
STEPS = int(os.environ.get("CASESHARE_MODEL_STEPS", "25"))

ROLE = {"jcp-derby": "work_coach", "derby-housing": "housing_officer",
        "recovery-partnership": "key_worker", "ca-derby": "adviser"}
ORGS = sorted(ROLE)
LEAD = "jcp-derby"
PURPOSES = ["case_management", "recovery_support", "tenancy_sustainment", "budgeting_support"]
CATEGORIES = ["identity", "contact", "employment", "benefit_claim", "housing_tenancy",
              "finances", "substance_misuse"]
SPECIAL = {"substance_misuse"}
# Entries are written in these (identity and contact belong to the claimant's record).
ENTRY_CATEGORIES = ["employment", "benefit_claim", "housing_tenancy", "finances",
                    "substance_misuse"]
# Staff: one per organisation, and a colleague in the council with the same role.
STAFF = {f"{role}@{org}.example": (org, role) for org, role in ROLE.items()}
STAFF["colleague.housing_officer@derby-housing.example"] = ("derby-housing", "housing_officer")
EMAILS = sorted(STAFF)
# What the runs tried and checked, for docs/reliability.md ("Adversarial review").
TRIES: Counter[str] = Counter()
JUSTIFICATION = (
    "Neighbour reported the claimant collapsed at home after drinking heavily; the ambulance "
    "crew asked the housing officer about treatment history and current medication, and the "
    "claimant cannot be asked for consent while unconscious in hospital today.")


# ---- generated protocols ---------------------------------------------------------------------

@dataclass(frozen=True)
class Flow:
    id: str
    src: frozenset[str]
    dst: frozenset[str]
    purposes: frozenset[str]
    categories: frozenset[str]
    consent: str  # none | consent | explicit


@dataclass(frozen=True)
class Grant:
    role: str
    org: str
    purposes: frozenset[str]
    read: frozenset[str]
    write: frozenset[str]


@dataclass(frozen=True)
class Protocol:
    id: str
    flows: tuple[Flow, ...]
    grants: tuple[Grant, ...]
    override_roles: frozenset[str]  # empty: overrides not permitted

    def grants_read(self, org: str, role: str, purpose: str, category: str) -> bool:
        return any(g.org == org and g.role == role and purpose in g.purposes
                   and category in g.read for g in self.grants)


# The claimant's record: every party may register, read and write identity and contact for case
# management, so the case can be set up whatever else is generated.
BASE_FLOW = Flow("base", frozenset(ORGS), frozenset(ORGS), frozenset({"case_management"}),
                 frozenset({"identity", "contact"}), "consent")
BASE_GRANTS = tuple(Grant(role, org, frozenset({"case_management"}),
                          frozenset({"identity", "contact"}), frozenset({"identity", "contact"}))
                    for org, role in ROLE.items())


def subsets(items: list[str], min_size: int = 1) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(items), min_size=min_size)


@st.composite
def dense(draw: st.DrawFn, items: list[str]) -> frozenset[str]:
    """A non-empty subset holding each item three times in four: generated rules that share
    little would make a run where nearly every write and read is refused, and test little."""
    chosen = {i for i in items if draw(st.sampled_from([True, True, True, False]))}
    return frozenset(chosen or {draw(st.sampled_from(items))})


@st.composite
def flows(draw: st.DrawFn, pid: str) -> tuple[Flow, ...]:
    out = []
    for n in range(draw(st.integers(1, 4))):
        src = draw(dense(ORGS))
        reciprocal = draw(st.booleans())
        dst = src if reciprocal else draw(dense(ORGS)) - src
        if not dst:
            continue
        out.append(Flow(f"{pid}-f{n}", src, dst, draw(dense(PURPOSES)),
                        draw(dense(ENTRY_CATEGORIES)),
                        draw(st.sampled_from(["none", "consent", "explicit"]))))
    return tuple(out)


@st.composite
def grants(draw: st.DrawFn, protocol_flows: tuple[Flow, ...]) -> tuple[Grant, ...]:
    out = []
    for org, role in ROLE.items():
        if not draw(st.sampled_from([True, True, True, False])):
            continue
        purposes = draw(dense(PURPOSES))
        # A protocol may only let a party write what some flow from it carries (a loader rule).
        carried = {c for f in protocol_flows if org in f.src and f.purposes & purposes
                   for c in f.categories}
        write = draw(dense(ENTRY_CATEGORIES)) & carried
        out.append(Grant(role, org, purposes, draw(dense(ENTRY_CATEGORIES)), frozenset(write)))
    return tuple(out)


@st.composite
def protocols(draw: st.DrawFn) -> tuple[Protocol, Protocol]:
    made = []
    for pid in ("recovery-jcp", "derby-local-support"):
        base = (BASE_FLOW,) if pid == "recovery-jcp" else ()
        base_grants = BASE_GRANTS if pid == "recovery-jcp" else ()
        made_flows = draw(flows(pid))
        made_grants = draw(grants(made_flows))
        # Override roles must be roles that some grant of the protocol defines (a loader rule).
        granted = sorted({g.role for g in base_grants + made_grants})
        roles = draw(dense(granted)) if granted and draw(st.booleans()) else frozenset()
        made.append(Protocol(pid, base + made_flows, base_grants + made_grants, roles))
    return made[0], made[1]


def protocol_yaml(p: Protocol) -> dict[str, Any]:
    def flow(f: Flow) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": f.id, "from": sorted(f.src), "to": sorted(f.dst),
            "direction": "reciprocal" if f.src == f.dst else "one_way",
            "purposes": sorted(f.purposes), "categories": sorted(f.categories),
            "consent": f.consent}
        if f.consent != "none":
            out["max_consent_days"] = 365
        if f.categories & SPECIAL and f.consent != "explicit":
            out["art9_condition"] = "Art 9(2)(h) health or social care"
        return out

    override: dict[str, Any] = {"permitted": False}
    if p.override_roles:
        override = {"permitted": True, "routes": ["safeguarding"],
                    "roles": sorted(p.override_roles), "max_hours": 24,
                    "min_justification": 100, "review_within_hours": 72}
    return {
        "id": p.id, "version": 1, "title": f"Generated protocol {p.id}", "type": "ISP",
        "framework": "local", "status": "active", "effective_from": "2026-01-01",
        "review_date": "2027-01-01", "expires_on": "2027-12-31",
        "parties": [{"id": org, "name": org.replace("-", " ").title(),
                     "sector": "central_gov" if org == "jcp-derby" else "local_gov",
                     "public_authority": True, "status": "active"} for org in ORGS],
        "purposes": [{"code": c, "description": c.replace("_", " ")} for c in PURPOSES],
        "categories": [
            {"code": c, "description": c.replace("_", " "),
             **({"special": True, "special_subtype": "health"} if c in SPECIAL else {}),
             **({"dwp_origin": True} if c == "benefit_claim" else {})}
            for c in CATEGORIES],
        "flows": [flow(f) for f in p.flows],
        "grants": [{"roles": [g.role], "parties": [g.org], "purposes": sorted(g.purposes),
                    "read": sorted(g.read), "write": sorted(g.write)} for g in p.grants],
        "override": override,
    }


# ---- the model's record of what the API accepted ---------------------------------------------

@dataclass
class ConsentRecord:
    id: str
    recipients: frozenset[str]
    purposes: frozenset[str]
    categories: frozenset[str]
    explicit: bool
    valid_from: datetime
    expires_at: datetime
    # (when, recipients, purposes, categories); an empty dimension means all of it
    withdrawals: list[tuple[datetime, frozenset[str], frozenset[str], frozenset[str]]] = field(
        default_factory=list)

    def covers(self, org: str, purpose: str, category: str, explicit: bool,
               now: datetime) -> bool:
        if not (self.valid_from <= now < self.expires_at):
            return False
        if org not in self.recipients or purpose not in self.purposes:
            return False
        if category not in self.categories or (explicit and not self.explicit):
            return False
        return not any(
            when <= now and (not r or org in r) and (not p or purpose in p)
            and (not c or category in c)
            for when, r, p, c in self.withdrawals)


@dataclass(frozen=True)
class OverrideRecord:
    staff: str
    purpose: str
    categories: frozenset[str]
    starts_at: datetime
    ends_at: datetime


@dataclass
class EntryRecord:
    id: str
    category: str
    etag: str


class Oracle:
    """The rules, restated (see the module docstring)."""

    def __init__(self, protos: tuple[Protocol, ...], members: frozenset[str]) -> None:
        self.protocols = protos
        self.members = members
        self.consents: list[ConsentRecord] = []
        self.overrides: list[OverrideRecord] = []

    def allows(self, staff: str, purpose: str, category: str, writer: str,
               now: datetime) -> bool:
        org, role = STAFF[staff]
        if org not in self.members:
            return False
        for p in self.protocols:
            if not p.grants_read(org, role, purpose, category):
                continue
            if writer == org:
                return True
            for f in p.flows:
                if not (writer in f.src and org in f.dst and purpose in f.purposes
                        and category in f.categories):
                    continue
                if f.consent == "none":
                    return True
                explicit = f.consent == "explicit" or category in SPECIAL
                if any(c.covers(org, purpose, category, explicit, now) for c in self.consents):
                    return True
                if role in p.override_roles and any(
                        o.staff == staff and o.purpose == purpose and category in o.categories
                        and o.starts_at <= now < o.ends_at for o in self.overrides):
                    return True
        return False


# ---- the machine -----------------------------------------------------------------------------

@dataclass
class World:
    """What the pytest fixtures provide to every example."""

    engine: str
    templates: dict[str, Any]
    tmp: Path


def _write_setup(directory: Path, protos: tuple[Protocol, ...]) -> tuple[Path, Path]:
    policies = directory / "policies"
    forms = directory / "consent_forms"
    policies.mkdir()
    forms.mkdir()
    for p in protos:
        (policies / f"{p.id}.v1.yaml").write_text(yaml.safe_dump(protocol_yaml(p)))
    shutil.copy(REPO / "consent_forms" / "derby-multi-agency.v1.yaml", forms)
    shutil.copy(REPO / "consent_forms" / "published.json", forms)
    return policies, forms


class DisclosureModel(RuleBasedStateMachine):
    world: World

    entries = Bundle("entries")
    consents = Bundle("consents")

    def __init__(self) -> None:
        super().__init__()
        self.texts: dict[str, str] = {}  # text -> the organisation that wrote it
        self.counter = 0
        self.reads = 0
        self.last_changed: EntryRecord | None = None

    @initialize(protos=protocols(), members=dense([o for o in ORGS if o != LEAD]))
    def set_up(self, protos: tuple[Protocol, Protocol], members: frozenset[str]) -> None:
        directory = self.world.tmp / uuid.uuid4().hex
        directory.mkdir()
        policies, forms = _write_setup(directory, protos)
        self.clock = Clock()
        url = _database_url(self.world.engine, self.world.templates, directory)
        self.app = create_app({"instance_path": directory / "instance", "database_url": url,
                               "clock": self.clock, "policies_dir": policies,
                               "forms_dir": forms, "ratelimit_default": "100000 per minute",
                               # No assessment forms: theirs name protocols not generated here.
                               "assessment_forms_dir": directory / "assessment_forms",
                               "partnerships_dir": directory / "no_partnerships"})
        self.app.config["TESTING"] = True
        self.client = self.app.test_client()
        self.rt: Runtime = self.app.extensions["caseshare"]
        with self.rt.session_factory() as s:
            identity.sync_organisations(s, protocols=self.rt.protocols, now=self.clock())
            for email, (org, role) in STAFF.items():
                identity.add_or_update_staff(s, protocols=self.rt.protocols, email=email,
                                             name=email.split("@")[0], org=org, roles=[role],
                                             now=self.clock())
            s.commit()
        self._issue_tokens()
        lead = self._headers(f"work_coach@{LEAD}.example")
        r = self.client.post("/api/v1/subjects?purpose=case_management", headers=lead, json={
            "given_name": "Jordan", "family_name": "Ashby", "date_of_birth": "1990-05-17",
            "nino": "AB123456C", "postcode": "DE1 3AB", "jurisdiction": "england"})
        assert r.status_code == 201, r.json
        self.subject = r.json["id"]
        with self.rt.session_factory() as s:
            for org in members:
                subjects.add_case_member(s, subject_id=uuid.UUID(self.subject), org=org,
                                         now=self.clock())
            s.commit()
        r = self.client.post(f"/api/v1/subjects/{self.subject}/case-plan?purpose=case_management",
                             headers=lead, json={"entries": []})
        assert r.status_code == 201, r.json
        self.oracle = Oracle(protos, members | {LEAD})

    def teardown(self) -> None:
        if hasattr(self, "rt"):
            self.rt.engine.dispose()

    def _issue_tokens(self) -> None:
        self.tokens = {e: issue_token(self.rt, e, ttl=3600, now=self.clock()) for e in EMAILS}

    def _headers(self, email: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[email]}"}

    def _text(self, staff: str) -> str:
        self.counter += 1
        text = f"Text {self.counter} by {STAFF[staff][0]}"
        self.texts[text] = STAFF[staff][0]
        return text

    @property
    def _plan(self) -> str:
        return f"/api/v1/subjects/{self.subject}/case-plan"

    # -- writes --

    @rule(target=entries, staff=st.sampled_from(EMAILS), purpose=st.sampled_from(PURPOSES),
          category=st.sampled_from(ENTRY_CATEGORIES))
    def add_entry(self, staff: str, purpose: str, category: str) -> Any:
        title, detail = self._text(staff), self._text(staff)
        r = self.client.post(f"{self._plan}/entries?purpose={purpose}",
                             headers=self._headers(staff),
                             json={"kind": "action", "category": category, "title": title,
                                   "detail": detail, "status": "open"})
        assert r.status_code in (201, 403, 404), r.json
        TRIES[f"entry written ({r.status_code})"] += 1
        if r.status_code != 201:
            return None
        return EntryRecord(r.json["id"], category, r.headers["ETag"])

    @rule(entry=entries, staff=st.sampled_from(EMAILS), purpose=st.sampled_from(PURPOSES),
          text_field=st.sampled_from(["title", "detail"]))
    def edit_entry(self, entry: EntryRecord | None, staff: str, purpose: str,
                   text_field: str) -> None:
        if entry is None:
            return
        headers = {**self._headers(staff), "If-Match": entry.etag}
        r = self.client.patch(f"{self._plan}/entries/{entry.id}?purpose={purpose}",
                              headers=headers, json={text_field: self._text(staff)})
        assert r.status_code in (200, 403, 404, 412), r.json
        TRIES[f"words edited ({r.status_code})"] += 1
        if r.status_code == 200:
            entry.etag = r.headers["ETag"]
            self.last_changed = entry

    @rule(entry=entries, staff=st.sampled_from(EMAILS), purpose=st.sampled_from(PURPOSES),
          status=st.sampled_from(["in_progress", "done"]))
    def change_status(self, entry: EntryRecord | None, staff: str, purpose: str,
                      status: str) -> None:
        if entry is None:
            return
        headers = {**self._headers(staff), "If-Match": entry.etag}
        r = self.client.patch(f"{self._plan}/entries/{entry.id}?purpose={purpose}",
                              headers=headers, json={"status": status})
        assert r.status_code in (200, 403, 404, 412), r.json
        TRIES[f"status changed ({r.status_code})"] += 1
        if r.status_code == 200:
            entry.etag = r.headers["ETag"]

    @rule(target=consents, recipients=subsets(ORGS), purposes=subsets(PURPOSES),
          categories=subsets(CATEGORIES), days=st.integers(1, 200))
    def record_consent(self, recipients: frozenset[str], purposes: frozenset[str],
                       categories: frozenset[str], days: int) -> Any:
        now = self.clock()
        form = self.rt.forms.get("derby-multi-agency", 1)
        body: dict[str, Any] = {
            "form_id": "derby-multi-agency", "form_version": 1, "language": "en",
            "given_by": {"type": "self"}, "recipients": sorted(recipients),
            "purposes": sorted(purposes), "categories": sorted(categories),
            "method": "e_signature", "evidence_ref": "DOC-2026-0999",
            "expires_at": (now + timedelta(days=days)).isoformat()}
        explicit = bool(categories & SPECIAL)
        if explicit:
            body["explicit_statement"] = _explicit_statement(form)
        r = self.client.post(f"/api/v1/subjects/{self.subject}/consents?purpose=case_management",
                             headers=self._headers(f"work_coach@{LEAD}.example"), json=body)
        assert r.status_code in (201, 403, 422), r.json
        TRIES[f"consent recorded ({r.status_code})"] += 1
        if r.status_code != 201:
            return None
        record = ConsentRecord(r.json["id"], recipients, purposes, categories, explicit, now,
                               now + timedelta(days=days))
        self.oracle.consents.append(record)
        return record

    @rule(consent=consents, data=st.data())
    def withdraw(self, consent: ConsentRecord | None, data: st.DataObject) -> None:
        if consent is None:
            return
        # Each dimension of the scope: nothing (all of it) or part of what the consent gave.
        recipients, purposes, categories = (
            data.draw(st.just(frozenset()) | subsets(sorted(given)))
            for given in (consent.recipients, consent.purposes, consent.categories))
        body: dict[str, Any] = {"channel": "in_person"}
        scope = {k: sorted(v) for k, v in (("recipients", recipients), ("purposes", purposes),
                                           ("categories", categories)) if v}
        if scope:
            body["scope"] = scope
        r = self.client.post(f"/api/v1/consents/{consent.id}/withdrawal?purpose=case_management",
                             headers=self._headers(f"work_coach@{LEAD}.example"), json=body)
        # 403: every protocol has expired by now (the clock may run past 2027-12-31).
        assert r.status_code in (200, 403, 409, 422), r.json
        TRIES[f"withdrawal ({r.status_code})"] += 1
        if r.status_code == 200:
            consent.withdrawals.append((self.clock(), recipients, purposes, categories))

    @rule(staff=st.sampled_from(EMAILS), purpose=st.sampled_from(PURPOSES),
          categories=subsets(ENTRY_CATEGORIES), hours=st.integers(1, 48))
    def override(self, staff: str, purpose: str, categories: frozenset[str], hours: int) -> None:
        now = self.clock()
        r = self.client.post(f"/api/v1/subjects/{self.subject}/overrides?purpose={purpose}",
                             headers=self._headers(staff),
                             json={"route": "safeguarding", "justification": JUSTIFICATION,
                                   "categories": sorted(categories), "hours": hours})
        assert r.status_code in (201, 403, 404, 409, 422), r.json
        TRIES[f"override requested ({r.status_code})"] += 1
        if r.status_code == 201:
            # The time box is never longer than asked for, nor than the protocols allow (24 h).
            ends = now + timedelta(hours=min(hours, 24))
            self.oracle.overrides.append(OverrideRecord(staff, purpose, categories, now, ends))

    @rule(hours=st.sampled_from([1, 12, 30, 24 * 40, 24 * 120]))
    def time_passes(self, hours: int) -> None:
        self.clock.advance(hours=hours)
        self._issue_tokens()  # a new working day: staff sign in again

    # -- reads: the property --

    def _check(self, staff: str, purpose: str, category: str, *texts: str | None) -> None:
        now = self.clock()
        for text in texts:
            if text is None:
                continue
            assert text in self.texts, f"{staff} was shown text the model never wrote: {text!r}"
            writer = self.texts[text]
            assert self.oracle.allows(staff, purpose, category, writer, now), (
                f"{staff} reading for {purpose} was shown {category} text written by {writer}")
            TRIES["texts shown and checked"] += 1
            if writer != STAFF[staff][0]:
                TRIES["texts shown from another organisation"] += 1

    def _read_plan(self, staff: str, purpose: str) -> None:
        r = self.client.get(f"{self._plan}?purpose={purpose}", headers=self._headers(staff))
        assert r.status_code in (200, 403, 404), r.json
        TRIES[f"plan read ({r.status_code})"] += 1
        if r.status_code != 200:
            return
        self.reads += 1
        for item in r.json["entries"]:
            self._check(staff, purpose, item["category"], item["title"], item.get("detail"))

    def _read_history(self, entry: EntryRecord, staff: str, purpose: str) -> None:
        r = self.client.get(f"{self._plan}/entries/{entry.id}/history?purpose={purpose}",
                            headers=self._headers(staff))
        assert r.status_code in (200, 403, 404), r.json
        TRIES[f"history read ({r.status_code})"] += 1
        if r.status_code != 200:
            return
        for version in r.json["items"] if isinstance(r.json, dict) else r.json:
            self._check(staff, purpose, version.get("category", entry.category),
                        version.get("title"), version.get("detail"))

    @rule(entry=entries, staff=st.sampled_from(EMAILS), purpose=st.sampled_from(PURPOSES))
    def read_history(self, entry: EntryRecord | None, staff: str, purpose: str) -> None:
        if entry is not None:
            self._read_history(entry, staff, purpose)

    @invariant()
    def every_read_is_within_the_rules(self) -> None:
        """After every step, every staff member reads the plan for every purpose, and the
        history of the entry changed last."""
        if not hasattr(self, "subject"):
            return
        for staff in EMAILS:
            for purpose in PURPOSES:
                self._read_plan(staff, purpose)
                if self.last_changed is not None:
                    self._read_history(self.last_changed, staff, purpose)


def _explicit_statement(form: Any) -> str:
    return " ".join(str(form.text["en"]["explicit_statement"]).split())


@pytest.fixture
def world(engine: str, templates: dict[str, Any], tmp_path: Path) -> Iterator[World]:
    yield World(engine, templates, tmp_path)


def test_reads_disclose_only_what_the_rules_allow(world: World) -> None:
    DisclosureModel.world = world
    TRIES.clear()
    # The short run in `make test` replays the same examples every time (no flaky CI); the
    # long run in `make reliability` draws new ones.
    run_state_machine_as_test(DisclosureModel, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
        derandomize=EXAMPLES <= 20, suppress_health_check=list(HealthCheck)))
    print(f"\ndisclosure model ({world.engine}): {dict(sorted(TRIES.items()))}")
    out = os.environ.get("CASESHARE_RELIABILITY_REPORT")
    if out:
        with Path(out).open("a") as f:
            f.write(json.dumps({"disclosure_model": {"engine": world.engine,
                                                     **dict(sorted(TRIES.items()))}}) + "\n")
    # A run in which nobody was ever shown another organisation's words tested nothing.
    assert TRIES["texts shown from another organisation"] > 0


def test_the_generated_protocols_load() -> None:
    """The generator's files are valid protocols (otherwise the model would test nothing)."""
    from hypothesis import given

    from caseshare.policy.loader import load_directory

    @settings(max_examples=30, deadline=None, database=None)
    @given(protos=protocols())
    def check(protos: tuple[Protocol, Protocol]) -> None:
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            policies, _forms = _write_setup(Path(d), protos)
            loaded = load_directory(policies)
            assert {p.id for p in loaded.protocols} == {"recovery-jcp", "derby-local-support"}

    check()

