"""DEMO AND TESTS ONLY. A real local SMTP server (aiosmtpd): it accepts every message, keeps
it in memory and, when given a spool directory, writes it there as one `.eml` file: claimants'
addresses and appointments in plaintext on disk. It refuses to start when CASESHARE_PRODUCTION
is set (production sends through a real mail server or GOV.UK Notify).

    python -m caseshare.outbound.mail_sink --port 2525 --spool instance/mail   # serve
    python -m caseshare.outbound.mail_sink --show instance/mail                # what came

`make run` starts one beside the web server and the worker (scripts/run.sh); the tests start
one per test on a free port (tests/smtp_sink.py). Its log names message ids only; what was
received is in the spool (the demo's own data) and on the IG outbox page.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import logging
import os
import signal
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

logger = logging.getLogger("caseshare.mail_sink")


@dataclass(frozen=True)
class Received:
    """One message as the server took it: the envelope's recipients and the parsed message."""

    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        return part.get_content() if part is not None else ""


@dataclass
class _Handler:
    spool: Path | None
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session,
                          envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, _class=EmailMessage,
                                           policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.received.append(Received(tuple(envelope.rcpt_tos), message))
            number = len(self.received)
        if self.spool is not None:
            self.spool.mkdir(parents=True, exist_ok=True)
            (self.spool / f"{number:05d}.eml").write_bytes(raw)
        logger.info("received %s", message.get("Message-ID", "(no id)"))
        return "250 Message accepted for delivery"


# The values caseshare/config.py reads as true for a boolean setting such as production.
_TRUE = frozenset({"1", "true", "yes", "on"})


class ProductionRefused(RuntimeError):
    """The demo mail sink was asked to start in production."""


def refuse_in_production(environ: Mapping[str, str] | None = None) -> None:
    """Raise ProductionRefused when CASESHARE_PRODUCTION is set as config.py reads it: the sink
    writes plaintext messages to disk and accepts mail from anyone on its port."""
    env = os.environ if environ is None else environ
    if env.get("CASESHARE_PRODUCTION", "").strip().lower() in _TRUE:
        raise ProductionRefused("the mail sink is for the demo and the tests only; it does not "
                                "start when CASESHARE_PRODUCTION is set")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class MailSink:
    """The SMTP server on host:port in a thread of its own. `stop()` and `start()` again on the
    same port (the tests' "server down")."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None,
                 spool: Path | None = None) -> None:
        self.host, self.port = host, port or free_port()
        self._handler = _Handler(spool)
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        with self._handler.lock:
            return list(self._handler.received)

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> MailSink:
        refuse_in_production()
        controller = Controller(self._handler, hostname=self.host, port=self.port,
                                ready_timeout=10)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def show(spool: Path) -> list[str]:
    """One line per message in the spool: file, date, recipient, language and subject."""
    lines = []
    for path in sorted(spool.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        lines.append(f"{path.name}  {message['Date']}  to {message['To']}  "
                     f"[{message['Content-Language']}]  {message['Subject']}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--spool", type=Path, help="write each message here as a .eml file")
    parser.add_argument("--show", type=Path, metavar="SPOOL", help="list a spool and exit")
    args = parser.parse_args(argv)
    if args.show is not None:
        print("\n".join(show(args.show)) or "No messages.")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # aiosmtpd logs each envelope's sender and recipients at INFO: addresses stay out of logs.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with MailSink(args.host, args.port, args.spool):
        logger.info("SMTP sink on %s:%d, spool %s", args.host, args.port, args.spool)
        stop.wait()


if __name__ == "__main__":
    main()
