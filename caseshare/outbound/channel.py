"""What every outbound channel takes and how it fails.

A channel sends one `Message` or raises `SendError` with a short code (never the provider's
text, which can echo an address or a number) and whether trying again may help. Codes are what
the outbox stores as `last_error` and what the worker logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Kind = Literal["sms", "email"]


@dataclass(frozen=True)
class Message:
    """One message to one claimant. `reference` is the outbox row's id: the SMTP Message-ID and
    Notify's `reference` carry it, so a message sent twice after a crash (see
    reminders/service.py) can be recognised as the same one."""

    kind: Kind
    to: str
    language: str
    subject: str
    body: str
    reference: str
    # Notify's personalisation for its template (the same words are in `body` for SMTP).
    fields: dict[str, str]


class SendError(Exception):
    """The message was not sent. `code` is safe to store and log; `retry` says whether the same
    message may succeed later (server down, timeout) or never will (refused address)."""

    def __init__(self, code: str, *, retry: bool) -> None:
        super().__init__(code)
        self.code = code
        self.retry = retry


class Channel(Protocol):
    """Sends one message, or raises SendError."""

    name: str

    def send(self, message: Message) -> None: ...
