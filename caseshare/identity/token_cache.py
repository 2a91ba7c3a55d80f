"""A bounded per-process cache of verified access tokens, so a repeat caller's token is not
re-verified (ES256 signature, claims) on every request. It holds the verified claims only: the
directory check (revocation list, the staff member's active flag, organisation, roles and
credentials epoch, or the client row) runs on every request, cached or not
(access/principal.py), so a disable, revocation or move made in any process binds on the very
next request everywhere.

What keeps it safe:

- The key is the exact token string, so only the very token that was verified can hit; the
  entry remembers the token's `jti` and expiry, and is never used at or after `exp` (the full
  validation then decides, with its leeway) nor if the clock reads earlier than when it was
  verified.
- Any change to the directory made through this process (a revocation, a staff member or partner
  client added, changed, suspended or moved) bumps a process-wide generation when its
  transaction commits (a SQLAlchemy session hook, `install_directory_hooks`), and entries from
  an older generation are ignored: in the process that made the change it takes effect on the
  very next request.
- An entry (a verified signature) is trusted for at most `ttl_seconds` after verification
  (CASESHARE_TOKEN_CACHE_SECONDS, default 5); 0 turns the cache off.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from caseshare.identity.models import OAuthClient, RevokedToken, StaffMember
from caseshare.identity.tokens import TokenClaims

DIRECTORY_MODELS = (RevokedToken, StaffMember, OAuthClient)
_CHANGED = "caseshare_directory_changed"


class _Generation:
    """Bumped whenever a transaction that changed the directory commits in this process."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def bump(self) -> None:
        with self._lock:
            self.value += 1


directory_generation = _Generation()


@dataclass(frozen=True)
class _Entry:
    claims: TokenClaims
    expires_at: float  # the token's exp (seconds since the epoch)
    verified_at: float
    generation: int


class VerifiedTokens:
    def __init__(self, *, ttl_seconds: float, max_entries: int = 4096) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str, now: datetime) -> TokenClaims | None:
        """The claims verified for exactly this token, if still trustworthy at `now`."""
        if self.ttl_seconds <= 0:
            return None
        entry = self._entries.get(token)
        if entry is None:
            return None
        t = now.timestamp()
        if (entry.generation != directory_generation.value or t >= entry.expires_at
                or t < entry.verified_at or t >= entry.verified_at + self.ttl_seconds):
            with self._lock:
                self._entries.pop(token, None)
            return None
        return entry.claims

    def put(self, token: str, claims: TokenClaims, *, now: datetime, generation: int) -> None:
        """Remember claims verified at `now` (and accepted by the directory as of `generation`,
        read before the checks, so a change committed meanwhile makes the entry stale)."""
        if self.ttl_seconds <= 0:
            return
        entry = _Entry(claims, float(claims.expires_at), now.timestamp(), generation)
        with self._lock:
            self._entries[token] = entry
            self._entries.move_to_end(token)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def _note_directory_changes(session: Session, _context: Any) -> None:
    if any(isinstance(obj, DIRECTORY_MODELS)
           for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info[_CHANGED] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        directory_generation.bump()


def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)


_installed = False


def install_directory_hooks() -> None:
    """Watch every session in this process for directory changes (idempotent)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "after_flush", _note_directory_changes)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
    _installed = True
