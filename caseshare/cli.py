"""Operator commands: `flask --app wsgi caseshare ...` and `flask --app wsgi db ...`."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from caseshare.assessments import forms as assessment_forms
from caseshare.audit import checkpoints as audit_checkpoints
from caseshare.audit import sequencer as audit_sequencer
from caseshare.audit import service as audit
from caseshare.audit import stats as audit_stats
from caseshare.audit import verify as log_verify
from caseshare.audit.event_types import EventType
from caseshare.audit.proofs import verifier_key
from caseshare.audit.protocol_versions import record_loaded
from caseshare.consent.forms import load_forms, load_forms_directory, publish
from caseshare.db import make_engine, make_session_factory
from caseshare.errors import AuditWriteError, CaseshareError, PolicyFileError
from caseshare.identity import service as identity
from caseshare.identity import tokens
from caseshare.policy.loader import load_files, protocol_paths
from caseshare.runtime import Runtime
from caseshare.unit_of_work import UnitOfWork

caseshare_cli = AppGroup("caseshare", help="Caseshare operator commands.")
db_cli = AppGroup("db", help="Database schema (Alembic).")
staff_cli = AppGroup("staff", help="Staff members.")
token_cli = AppGroup("token", help="Access tokens.")
policies_cli = AppGroup("policies", help="Information sharing protocol files.")
forms_cli = AppGroup("forms", help="Consent form files.")
audit_cli = AppGroup("audit", help="The verifiable audit log.")
keys_cli = AppGroup("keys", help="Key-encryption keys.")
shreds_cli = AppGroup("shreds", help="The shred register of erased claimants (kept with the keys).")
directory_cli = AppGroup("directory", help="The service directory (Open Referral UK).")
for group in (staff_cli, token_cli, policies_cli, forms_cli, audit_cli, keys_cli, shreds_cli,
              directory_cli):
    caseshare_cli.add_command(group)


def rt() -> Runtime:
    runtime: Runtime = current_app.extensions["caseshare"]
    return runtime


def session() -> Session:
    return rt().session_factory()


@contextmanager
def _reading_session() -> Iterator[Session]:
    """A session that only reads. On SQLite it begins a deferred transaction (one snapshot,
    no write lock), so a verify taking seconds does not hold up the requests writing audit
    events meanwhile; the app's own sessions take the write lock at BEGIN."""
    runtime = rt()
    url = runtime.engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        with runtime.session_factory() as s:
            yield s
        return
    engine = make_engine(url.render_as_string(hide_password=False), read_only=True)
    try:
        with make_session_factory(engine)() as s:
            yield s
    finally:
        engine.dispose()


def fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Build or upgrade the schema."""
    from caseshare import migrate  # Alembic: only these commands need it

    migrate.upgrade(rt().settings.database_url, revision)


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    from caseshare import migrate  # Alembic: only these commands need it

    migrate.downgrade(rt().settings.database_url, revision)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (review it before committing)."""
    from caseshare import migrate  # Alembic: only these commands need it

    migrate.revision(rt().settings.database_url, message)


@caseshare_cli.command("seed-demo")
def seed_demo() -> None:
    """Create the demo partnership (idempotent)."""
    from caseshare.demo import HISTORY_DAYS, seed, story_start

    if rt().settings.production:
        fail("error: seed-demo is refused in production (demo passwords and data)")
    with session() as s:
        with UnitOfWork(s):
            # The demo's decisions are only provable if the protocols they relied on are on record
            # (from the start of the demo's story, which spans the past few days).
            try:
                loaded = record_loaded(s, protocols=rt().protocols,
                                       now=story_start(s, rt(), HISTORY_DAYS))
            except PolicyFileError as exc:
                _report("", exc.problems)
                return
        click.echo(f"protocols: {len(loaded.recorded)} version(s) newly recorded")
        for line in seed(s, rt(), history_days=HISTORY_DAYS):
            click.echo(line)


@staff_cli.command("add")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--org", required=True)
@click.option("--role", "roles", multiple=True, required=True)
def staff_add(email: str, name: str, org: str, roles: tuple[str, ...]) -> None:
    """Create or update a staff member of a protocol party; prints the staff id."""
    runtime = rt()
    with session() as s:
        with UnitOfWork(s):
            try:
                staff = identity.add_or_update_staff(
                    s, protocols=runtime.protocols, email=email, name=name, org=org,
                    roles=list(roles), now=runtime.now(),
                )
            except CaseshareError as exc:
                fail(f"error: {exc.detail} {exc.extra.get('errors', '')}")
                return
            audit.record(s, type=EventType.IDENTITY_STAFF_UPSERT, now=runtime.now(),
                         details={"staff_id": str(staff.id), "org": org, "roles": sorted(roles)})
        click.echo(str(staff.id))


@staff_cli.command("password")
@click.option("--email", required=True)
@click.password_option("--password", prompt="New password")
def staff_password(email: str, password: str) -> None:
    """Set a staff member's sign-in password (Argon2id)."""
    from caseshare.identity import passwords

    runtime = rt()
    with session() as s, UnitOfWork(s):
        try:
            staff = identity.get_staff_by_email(s, email)
            passwords.set_password(staff, password)
        except CaseshareError as exc:
            fail(f"error: {exc.detail} {exc.extra.get('errors', '')}")
            return
        audit.record(s, type=EventType.IDENTITY_STAFF_PASSWORD, now=runtime.now(),
                     details={"staff_id": str(staff.id)})
    click.echo("password set")


@staff_cli.command("totp")
@click.option("--email", required=True)
def staff_totp(email: str) -> None:
    """Enrol a second factor; prints the otpauth:// URI to load into an authenticator app."""
    from caseshare.identity import passwords

    runtime = rt()
    with session() as s:
        with UnitOfWork(s):
            try:
                staff = identity.get_staff_by_email(s, email)
            except CaseshareError as exc:
                fail(f"error: {exc.detail}")
                return
            passwords.new_totp_secret(staff)
            audit.record(s, type=EventType.IDENTITY_STAFF_TOTP_ENROL, now=runtime.now(),
                         details={"staff_id": str(staff.id)})
        click.echo(passwords.totp_uri(staff))


def _set_active(email: str, active: bool) -> None:
    runtime = rt()
    with session() as s:
        with UnitOfWork(s):
            try:
                staff = identity.set_staff_active(s, email=email, active=active, now=runtime.now())
            except CaseshareError as exc:
                fail(f"error: {exc.detail}")
                return
            kind = EventType.IDENTITY_STAFF_ENABLE if active else EventType.IDENTITY_STAFF_DISABLE
            audit.record(s, type=kind,
                         now=runtime.now(), details={"staff_id": str(staff.id),
                                                     "credentials_epoch": staff.credentials_epoch})
        click.echo(str(staff.id))


@staff_cli.command("disable")
@click.option("--email", required=True)
def staff_disable(email: str) -> None:
    """Switch a person off: every token and session fails on its next request, in every
    worker; prints the staff id."""
    _set_active(email, False)


@staff_cli.command("enable")
@click.option("--email", required=True)
def staff_enable(email: str) -> None:
    """Let a disabled person sign in again (tokens issued before the disable stay dead)."""
    _set_active(email, True)


@token_cli.command("revoke")
@click.option("--token", "presented", default=None,
              help="The access token to revoke (read from standard input when '-').")
@click.option("--user", "email", default=None,
              help="End every token and session of this staff member instead.")
def token_revoke(presented: str | None, email: str | None) -> None:
    """Revoke one access token (any kind: CLI, client, authorization code) or, with --user,
    every token and session of one staff member without disabling them."""
    from caseshare.identity import revocation

    if (presented is None) == (email is None):
        fail("error: give exactly one of --token and --user")
        return
    runtime = rt()
    with session() as s:
        if email is not None:
            with UnitOfWork(s):
                try:
                    staff = identity.find_staff_any(s, email)
                except CaseshareError as exc:
                    fail(f"error: {exc.detail}")
                    return
                identity.end_credentials(staff, now=runtime.now())
                audit.record(s, type=EventType.IDENTITY_TOKEN_REVOKE, now=runtime.now(),
                             details={"staff_id": str(staff.id), "via": "cli", "all": True,
                                      "credentials_epoch": staff.credentials_epoch})
            click.echo("revoked")
            return
        assert presented is not None
        if presented == "-":
            presented = sys.stdin.read().strip()
        try:
            claims = tokens.validate(presented, runtime.token_keys.key_set(),
                                     issuer=runtime.settings.issuer,
                                     audience=runtime.settings.audience, now=runtime.now())
        except CaseshareError:
            fail("error: not a valid, unexpired access token of this service")
            return
        with UnitOfWork(s):
            if revocation.revoke(s, claims, now=runtime.now()):
                audit.record(s, type=EventType.IDENTITY_TOKEN_REVOKE, now=runtime.now(),
                             details={"jti": claims.jti, "client_id": claims.client_id,
                                      "via": "cli"})
        click.echo("revoked")


@token_cli.command("purge-expired")
def token_purge_expired() -> None:
    """Delete the revocations of tokens that have expired anyway (an expired token fails on
    its own); prints how many went. The worker does the same once an hour."""
    from caseshare.identity import revocation

    runtime = rt()
    with session() as s, UnitOfWork(s):
        purged = revocation.purge_expired(s, now=runtime.now())
    click.echo(f"purged {purged}")


@token_cli.command("issue")
@click.option("--user", "email", required=True)
@click.option("--ttl", type=click.IntRange(1, 86400), default=None)
def token_issue(email: str, ttl: int | None) -> None:
    """Print only a signed access token for that staff member."""
    runtime = rt()
    with session() as s, UnitOfWork(s):
        try:
            staff = identity.get_staff_by_email(s, email)
        except CaseshareError as exc:
            fail(f"error: {exc.detail}")
            return
        token, claims = tokens.issue(
            runtime.token_keys, issuer=runtime.settings.issuer,
            audience=runtime.settings.audience, subject=str(staff.id),
            client_id="caseshare-cli",
            org=staff.org_id, roles=staff.roles, scopes=identity.scopes_for(staff.roles),
            purposes=identity.purposes_for(runtime.protocols, staff.org_id, staff.roles),
            actor_type="staff", now=runtime.now(),
            ttl_seconds=ttl or runtime.settings.token_ttl_seconds,
            epoch=staff.credentials_epoch,
        )
        audit.record(s, type=EventType.IDENTITY_TOKEN_ISSUE, now=runtime.now(),
                     details={"staff_id": str(staff.id), "jti": claims.jti,
                              "expires_at": claims.expires_at, "via": "cli"})
    click.echo(token)


def _report(ok_message: str, problems: list[str]) -> None:
    if problems:
        for problem in problems:
            click.echo(f"ERROR {problem}", err=True)
        sys.exit(1)
    click.echo(ok_message)


@policies_cli.command("check")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def policies_check(files: tuple[Path, ...]) -> None:
    """Validate protocol files: every file in policies/, plus any FILE given, checked together
    (so a new version is checked against the ones already in force); an active protocol past
    its expiry date is reported too."""
    runtime = rt()
    directory = protocol_paths(runtime.settings.policies_dir)
    given = [f for f in files if f.resolve() not in {p.resolve() for p in directory}]
    try:
        loaded = load_files([*directory, *given], today=runtime.now().date())
    except PolicyFileError as exc:
        _report("", exc.problems)
        return
    _report(f"OK: {len(loaded.protocols)} protocol file(s) valid", [])


@policies_cli.command("load")
def policies_load() -> None:
    """Record each protocol version in force for the first time in the audit log, with the
    SHA-256 of its file; refuse a version whose file changed since it was first recorded."""
    runtime = rt()
    with session() as s, UnitOfWork(s):
        try:
            report = record_loaded(s, protocols=runtime.protocols, now=runtime.now())
        except PolicyFileError as exc:
            _report("", exc.problems)
            return
    for ref in report.recorded:
        click.echo(f"recorded {ref}")
    click.echo(f"OK: {len(report.recorded)} new protocol version(s) recorded, "
               f"{len(report.known)} already recorded")


@forms_cli.command("check")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def forms_check(files: tuple[Path, ...]) -> None:
    """Validate consent form files against the schema and the loaded protocols."""
    protocols = rt().protocols
    try:
        loaded = (load_forms(list(files), protocols) if files
                  else load_forms_directory(rt().settings.forms_dir, protocols))
    except PolicyFileError as exc:
        _report("", exc.problems)
        return
    for warning in loaded.warnings:
        click.echo(f"WARNING {warning}", err=True)
    count = len(loaded.forms) + len(loaded.retired)
    _report(f"OK: {count} consent form file(s) valid", [])


@forms_cli.command("publish")
def forms_publish() -> None:
    """Record the text hashes of new form versions in consent_forms/published.json."""
    directory = rt().settings.forms_dir
    try:
        loaded = load_forms_directory(directory, rt().protocols, require_published=False)
        added = publish(directory, loaded)
    except PolicyFileError as exc:
        _report("", exc.problems)
        return
    _report(f"published: {', '.join(added) or 'nothing new'}", [])


assessments_cli = AppGroup("assessments", help="Assessment form files.")
caseshare_cli.add_command(assessments_cli)


@assessments_cli.command("check")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def assessments_check(files: tuple[Path, ...]) -> None:
    """Validate assessment form files (every file in assessment_forms/, or each FILE given)
    against the schema, the rules a schema cannot say and the loaded protocols; every version
    must be published and unchanged since."""
    directory = rt().settings.assessment_forms_dir
    try:
        loaded = assessment_forms.load_forms(
            list(files) or assessment_forms.form_paths(directory), rt().protocols)
    except PolicyFileError as exc:
        _report("", exc.problems)
        return
    _report(f"OK: {len(loaded.forms)} assessment form file(s) valid", [])


@assessments_cli.command("publish")
def assessments_publish() -> None:
    """Pin the wording (per language) and structure hashes of new assessment form versions in
    assessment_forms/published.json; a published version that changed is refused."""
    directory = rt().settings.assessment_forms_dir
    try:
        loaded = assessment_forms.load_forms_directory(directory, rt().protocols,
                                                       require_published=False)
        added = assessment_forms.publish(directory, loaded)
    except PolicyFileError as exc:
        _report("", exc.problems)
        return
    _report(f"published: {', '.join(added) or 'nothing new'}", [])


consents_cli = AppGroup("consents", help="Consent records.")
caseshare_cli.add_command(consents_cli)


@consents_cli.command("expiring")
@click.option("--org", default=None, help="Only cases this organisation leads.")
@click.option("--days", type=click.IntRange(1, 365), default=30)
def consents_expiring(org: str | None, days: int) -> None:
    """List consents ending within DAYS, for case owners to renew before access lapses."""
    from caseshare.subjects import renewals

    runtime = rt()
    with session() as s, UnitOfWork(s):
        rows = renewals.expiring_consents(s, now=runtime.now(), days=days, lead_org=org)
        audit.record(s, type=EventType.CONSENT_RECORD_EXPIRING, now=runtime.now(),
                     details={"days": days, "org": org, "via": "cli",
                              "consents": [str(r[0].id) for r in rows]})
    for consent, _ws, status, lead in rows:
        click.echo(f"{consent.expires_at:%Y-%m-%dT%H:%M:%SZ} consent {consent.id} subject "
                   f"{consent.subject_id} lead {lead} status {status}")
    click.echo(f"{len(rows)} consent(s) expiring within {days} days")


@consents_cli.command("seal-legacy")
def consents_seal_legacy() -> None:
    """Seal the proxy names, authority and evidence references, explicit statements and
    withdrawal reasons of consent records written before migration 0015 under each claimant's
    data key, and clear the plaintext (an erased claimant's is cleared only). Idempotent."""
    import uuid

    from caseshare.consent import service as consents
    from caseshare.subjects import service as subjects
    from caseshare.subjects.models import Subject

    runtime = rt()
    with session() as s, UnitOfWork(s):
        def data_key_of(subject_id: uuid.UUID) -> tuple[bytes, int] | None:
            subject = s.get(Subject, subject_id)
            if subject is None or subject.dek_wrapped is None:
                return None
            return subjects.data_key(subject, runtime.keyring), subject.dek_version

        changed = consents.seal_legacy(s, data_key_of=data_key_of)
        audit.record(s, type=EventType.CONSENT_RECORD_SEAL_LEGACY, now=runtime.now(),
                     details={"rows": changed, "via": "cli"})
    click.echo(f"sealed {changed} legacy consent row(s)")


@audit_cli.command("seal")
@click.option("--every", type=click.FloatRange(min=0.1), default=None,
              help="Run as the sequencer: seal again every SECONDS until stopped.")
@click.option("--count", type=click.IntRange(min=1), default=None,
              help="With --every: stop after this many rounds.")
def audit_seal(every: float | None, count: int | None) -> None:
    """Integrate pending audit events into the log and sign a checkpoint now."""
    runtime = rt()
    rounds = 0
    while True:
        with session() as s:
            pending, oldest = audit_sequencer.pending_events(s)
            s.rollback()  # the sealer's own transaction must start with its lock
            try:
                checkpoint = audit_checkpoints.seal(s, runtime.audit_signer, runtime.now())
            except audit_sequencer.LogIntegrityError as exc:
                fail(f"FAILED: {exc}; nothing was sealed. Run audit verify.")
                return
        if checkpoint is not None:
            lag = (runtime.now() - oldest).total_seconds() if oldest else 0.0
            click.echo(f"checkpoint tree_size={checkpoint.tree_size} "
                       f"root={checkpoint.root_hash.hex()} key_id={checkpoint.key_id} "
                       f"integrated={pending} lag={lag:.3f}s")
        rounds += 1
        if every is None or (count is not None and rounds >= count):
            return
        time.sleep(every)


@caseshare_cli.command("worker")
@click.option("--poll", type=click.FloatRange(min=0.05), default=0.5, show_default=True,
              help="Seconds between looks for audit events to seal.")
@click.option("--once", is_flag=True, help="Run every job once (each if due) and exit.")
@click.option("--only", "only", multiple=True, metavar="JOB",
              help="Run only this job (repeatable), e.g. --only seal for a sealing process.")
def worker(poll: float, once: bool, only: tuple[str, ...]) -> None:
    """The background worker beside the web server: runs the scheduled jobs (sealing, purges,
    reminders, retention; docs/worker.md) until SIGTERM or SIGINT."""
    import logging

    from caseshare.jobs.reminders import reminder_job
    from caseshare.jobs.worker import Worker
    from caseshare.outbound.settings import OutboundSettings, make_channel

    runtime = rt()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s "
                        "%(message)s")
    channel = make_channel(OutboundSettings.from_env())
    job = Worker(session_factory=runtime.session_factory, signer=runtime.audit_signer,
                 clock=runtime.now, poll=poll, reminders=reminder_job(runtime),
                 protocols=runtime.protocols, keyring=runtime.keyring,
                 staff_channel=channel if channel is not None and channel.name == "smtp"
                 else None, only=frozenset(only))
    unknown = set(only) - {j.name for j in job.jobs(every=True)}
    if unknown:
        fail(f"unknown job(s): {', '.join(sorted(unknown))}")
    if once:
        outcomes = job.run_once()
        click.echo(" ".join(f"{name}={outcome}" for name, outcome in outcomes.items()))
        if "failed" in outcomes.values():
            fail("FAILED: a job failed (see the log). For the sealer run audit verify.")
        return
    job.stop_on_signals()
    job.run()


@audit_cli.command("export")
@click.option("--note", "as_note", is_flag=True,
              help="Print the checkpoint as a C2SP tlog-checkpoint signed note instead.")
@click.option("--key", "as_key", is_flag=True,
              help="Print the log's public key as a note verifier key instead "
                   "(name+key id+base64 key, as Go's sumdb/note and witnesses take it).")
def audit_export(as_note: bool, as_key: bool) -> None:
    """Print the latest signed checkpoint as JSON, for a partner's IG officer to witness."""
    signer = rt().audit_signer
    if as_key:
        click.echo(verifier_key(signer.origin, signer.public_bytes()))
        return
    with session() as s:
        checkpoint = audit_checkpoints.latest_checkpoint(s)
    if checkpoint is None:
        fail("error: no checkpoint has been signed yet; run audit seal")
        return
    if as_note:
        if checkpoint.note is None:
            fail("error: the latest checkpoint was sealed before signed notes; run audit seal "
                 "after the next event")
            return
        click.echo(checkpoint.note, nl=False)
        return
    click.echo(json.dumps(audit_checkpoints.checkpoint_json(checkpoint)))


@audit_cli.command("verify")
@click.option("--witness", "witness_files", multiple=True, type=click.File("r"),
              help="A checkpoint exported earlier (audit export); the log must still match it.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes scanning the log, this one included (default: one per "
                   "available core); a log of one chunk (32,768 events) is scanned here.")
def audit_verify(witness_files: tuple[Any, ...], workers: int | None) -> None:
    """Verify the whole log and every checkpoint; non-zero exit naming the first bad event."""
    runtime = rt()
    try:
        witnessed = [audit_checkpoints.parse_checkpoint(json.load(f)) for f in witness_files]
    except (ValueError, TypeError) as exc:
        fail(f"error: --witness: {exc}")
        return
    with _reading_session() as s:
        result = log_verify.verify(s, runtime.audit_signer.public_key(),
                                  mac_key=runtime.audit_signer.mac_key(), witnessed=witnessed,
                                  workers=workers or len(os.sched_getaffinity(0)),
                                  event_key=runtime.audit_signer.event_mac_key(),
                                  now=runtime.now(),
                                  max_lag=runtime.settings.audit_max_lag_seconds)
    # The outcome is itself an audit event, so the IG dashboard can say when the whole log was
    # last verified and whether it passed (the problem names an event index, never content).
    # A database that cannot take the write (read-only replica, restored copy) must not turn
    # a verification's own result into a traceback: say so and still exit by the result.
    try:
        with session() as s, UnitOfWork(s):
            audit.record(s, type=audit_stats.VERIFY_EVENT, now=runtime.now(),
                         decision="allow" if result.ok else "deny",
                         details={"ok": result.ok, "events": result.events,
                                  "checkpoints": result.checkpoints,
                                  "witnessed": len(witnessed), "problem": result.problem})
    except (SQLAlchemyError, AuditWriteError):
        click.echo("warning: the outcome could not be recorded in the audit log", err=True)
    if not result.ok:
        fail(f"FAILED: {result.problem}")
    lag = ""
    if result.oldest_pending_at is not None:
        age = (runtime.now() - result.oldest_pending_at).total_seconds()
        lag = f"; {result.pending} pending, oldest {age:.1f} s old"
    click.echo(f"OK: {result.events} events, {result.checkpoints} checkpoint(s) verified{lag}")


@caseshare_cli.command("backup")
@click.option("--to", "target", required=True, type=click.Path(path_type=Path))
def backup(target: Path) -> None:
    """Online backup of the embedded SQLite database to a new file (0600)."""
    from caseshare.backup import BackupError, backup_sqlite

    runtime = rt()
    try:
        pages = backup_sqlite(runtime.settings.database_url, target)
    except BackupError as exc:
        fail(f"error: {exc}")
        return
    with session() as s, UnitOfWork(s):
        audit.record(s, type=EventType.OPERATIONS_DATABASE_BACKUP, now=runtime.now(),
                     details={"pages": pages})
    click.echo(f"backup written: {target} ({pages} pages); restore by pointing "
               "CASESHARE_DATABASE_URL at it, then run `caseshare shreds apply` and "
               "`caseshare audit verify`")


@keys_cli.command("rotate")
def keys_rotate() -> None:
    """Add a key-encryption key version; new data keys are wrapped under it."""
    runtime = rt()
    version = runtime.keyring.rotate()
    with session() as s, UnitOfWork(s):
        audit.record(s, type=EventType.CRYPTO_KEK_ROTATE, now=runtime.now(),
                     details={"version": version})
    click.echo(f"current key-encryption key version: {version}")


@keys_cli.command("rewrap")
@click.option("--batch", type=click.IntRange(1, 10000), default=500)
def keys_rewrap(batch: int) -> None:
    """Re-wrap subject data keys under the current KEK, in batches (resumable)."""
    from caseshare.subjects.rewrap import rewrap_all, subjects_by_kek

    runtime = rt()
    with session() as s:
        done = rewrap_all(s, runtime.keyring, batch=batch, now=runtime.now())
        counts = subjects_by_kek(s)
    click.echo(f"rewrapped {done} data key(s); data keys per KEK version: "
               + (", ".join(f"v{v}={n}" for v, n in sorted(counts.items())) or "none"))


@keys_cli.command("retire")
@click.option("--version", "version", type=click.IntRange(1), required=True)
def keys_retire(version: int) -> None:
    """Destroy an old key-encryption key version once no data key is wrapped under it."""
    from caseshare.subjects.rewrap import retire_kek

    runtime = rt()
    with session() as s:
        try:
            retire_kek(s, runtime.keyring, version=version, now=runtime.now())
        except CaseshareError as exc:
            fail(f"error: {exc.detail}")
            return
    click.echo(f"retired key-encryption key version {version}")


@shreds_cli.command("apply")
def shreds_apply() -> None:
    """After a restore (and safe at any time): erase again every claimant the shred register
    lists, and add to the register any claimant the database records as erased."""
    from caseshare.access.erasure import reapply_shreds

    runtime = rt()
    with session() as s:
        try:
            with UnitOfWork(s):
                done = reapply_shreds(s, runtime.keyring, now=runtime.now())
        except CaseshareError as exc:
            fail(f"FAILED: {exc.detail}")
            return
    click.echo(f"OK: {len(done.applied)} erasure(s) re-applied to the database, "
               f"{len(done.registered)} added to the register; {done.register_size} erased "
               "claimant(s) in the register")


@shreds_cli.command("verify")
def shreds_verify() -> None:
    """Check the register's MAC chain, and that it lists every claimant the database records
    as erased (a register cut short at its end) and that the database has them all tombstoned."""
    from caseshare.crypto.shreds import register_of
    from caseshare.subjects import service as subjects

    runtime = rt()
    try:
        register = register_of(runtime.keyring)
        register.verify()
        listed = register.ids()
    except CaseshareError as exc:
        fail(f"FAILED: {exc.detail}")
        return
    with _reading_session() as s:
        missing = subjects.erased_ids(s) - listed
        unapplied = subjects.unapplied_shreds(s, listed)
    if missing:
        fail(f"FAILED: the register lacks {len(missing)} claimant(s) the database records as "
             "erased; restore the register from its backup, or run `caseshare shreds apply`")
    if unapplied:
        fail(f"FAILED: {len(unapplied)} erased claimant(s) are not yet tombstoned in this "
             "database (a restored backup?); run `caseshare shreds apply`")
    click.echo(f"OK: {len(listed)} erased claimant(s) in the register, all tombstoned")


@directory_cli.command("import")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
def directory_import(file: Path) -> None:
    """Load an Open Referral UK JSON feed of services: checked first (nothing is imported from
    an invalid feed; each problem names the record and the field), then the directory is made
    what the feed says; prints what was added, updated and removed."""
    from caseshare.directory import oruk
    from caseshare.directory.service import import_feed, report_lines

    try:
        feed = oruk.load_file(file, rt().protocols.by_party)
    except oruk.FeedError as exc:
        _report("", exc.problems)
        return
    with session() as s, UnitOfWork(s):
        report = import_feed(s, feed, now=rt().now(), source=file.name)
    for line in report_lines(report):
        click.echo(line)


def init_app(app: Flask) -> None:
    app.cli.add_command(caseshare_cli)
    app.cli.add_command(db_cli)


retention_cli = AppGroup("retention", help="Retention: deleting what the protocols say is due.")
caseshare_cli.add_command(retention_cli)


@retention_cli.command("run")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Delete what is due on this UK day (YYYY-MM-DD, not after today); default "
                   "today's UK date.")
def retention_run(as_of: Any) -> None:
    """Run one retention pass: delete every copy due, one claimant at a time (a progress bar on
    stderr), then print the counts. Takes the worker's `retention` job lock, so it never runs
    beside the worker's pass. Safe to stop and run again."""
    from caseshare.jobs import retention
    from caseshare.jobs.runner import Runner
    from caseshare.uk_time import UK

    runtime = rt()
    now = runtime.now()
    today = now.astimezone(UK).date()
    day = as_of.date() if as_of is not None else today
    if day > today:
        fail(f"--as-of {day.isoformat()} is after today ({today.isoformat()}, UK): a pass "
             "deletes only what is due by today. Give today's date or an earlier one.")
    job = retention.job(runtime.protocols, runtime.keyring)
    runner = Runner(session_factory=runtime.session_factory, clock=runtime.now, jobs=[job])
    with runner.lock(job) as held:
        if not held:
            fail("Another retention pass is running (the worker's or another command's). "
                 "Try again when it has finished.")
        with click.progressbar(length=0, label="retention pass", file=sys.stderr,
                               show_pos=True) as bar:
            def progress(done: int, total: int) -> None:
                bar.length = total
                bar.update(done - bar.pos)

            result = retention.run_pass(runtime.session_factory, runtime.protocols,
                                        runtime.keyring, as_of=day, now=now, progress=progress)
    counts = {"deleted": result.deleted, "subjects_shredded": result.subjects_shredded,
              "held": result.held, "failed": result.failed}
    with session() as s, UnitOfWork(s):
        audit.record(s, type=EventType.RETENTION_PASS_RUN, now=runtime.now(),
                     details={"as_of": day.isoformat(), **counts})
    click.echo(f"retention pass as of {day.isoformat()}: {result.deleted} copies deleted, "
               f"{result.subjects_shredded} claimant(s) shredded, {result.held} on legal hold, "
               f"{result.failed} failed")
    if result.failed:
        sys.exit(1)
