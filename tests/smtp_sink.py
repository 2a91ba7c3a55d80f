"""The `smtp_sink` fixture: a real local SMTP server (caseshare/outbound/mail_sink.py, aiosmtpd)
on a free port for one test, stopped after it. `smtp_sink.stop()` and `.start()` again on the
same port make "the mail server is down" without any patching. Nothing to install: it starts
from the fixture itself (a pytest plugin listed in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from caseshare.outbound.mail_sink import MailSink
from caseshare.outbound.smtp import SmtpChannel


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Iterator[MailSink]:
    sink = MailSink(spool=tmp_path / "mail").start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def smtp_channel(smtp_sink: MailSink) -> SmtpChannel:
    """The SMTP channel pointed at the sink (a short timeout: the sink answers at once)."""
    return SmtpChannel(host=smtp_sink.host, port=smtp_sink.port,
                       sender="reminders@caseshare.example", timeout=5)
