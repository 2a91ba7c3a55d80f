"""The GOV.UK Notify channel through Notify's real Python client, against a local HTTP server
standing in for Notify's API (its base URL is a setting): the request the client makes is
checked on the wire (path, JSON body, the signed token), with nothing patched. No network."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest

from caseshare.outbound.channel import Message, SendError
from caseshare.outbound.notify import NotifyChannel
from caseshare.outbound.settings import OutboundConfigError, OutboundSettings, make_channel

SERVICE_ID = str(uuid.uuid4())
SECRET = str(uuid.uuid4())
API_KEY = f"caseshare_test-{SERVICE_ID}-{SECRET}"  # Notify's key format: name-service-secret
TEMPLATES = {("sms", "en"): "tmpl-sms-en", ("email", "cy"): "tmpl-email-cy"}


class FakeNotify(ThreadingHTTPServer):
    """Answers each POST with the next status in `statuses` (201 when empty); keeps requests."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeNotify

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, "body": body,
                                     "authorization": self.headers["Authorization"]})
        status = self.server.statuses.pop(0) if self.server.statuses else 201
        answer = ({"id": str(uuid.uuid4()), "reference": body.get("reference")} if status == 201
                  else {"errors": [{"error": "Error", "message": "no"}], "status_code": status})
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def notify() -> Iterator[FakeNotify]:
    server = FakeNotify()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _message(kind: str = "sms", language: str = "en") -> Message:
    return Message(kind=kind, to="07700 900982" if kind == "sms" else "j@example.org",  # type: ignore[arg-type]
                   language=language, subject="Reminder", body="Your appointment...",
                   reference="reminder-1", fields={"appointment": "10am on Wednesday",
                                                   "location": "12 Green Lane",
                                                   "message": "Your appointment..."})


def test_an_sms_is_the_request_notify_documents_signed_with_the_key(notify: FakeNotify) -> None:
    channel = NotifyChannel(api_key=API_KEY, templates=TEMPLATES, base_url=notify.url)
    channel.send(_message("sms"))
    [request] = notify.requests
    assert request["path"] == "/v2/notifications/sms"
    assert request["body"] == {"phone_number": "07700 900982", "template_id": "tmpl-sms-en",
                               "personalisation": _message().fields, "reference": "reminder-1"}
    scheme, token = request["authorization"].split(" ")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert scheme == "Bearer" and claims["iss"] == SERVICE_ID


def test_an_email_in_welsh_uses_the_welsh_email_template(notify: FakeNotify) -> None:
    NotifyChannel(api_key=API_KEY, templates=TEMPLATES, base_url=notify.url).send(
        _message("email", "cy"))
    [request] = notify.requests
    assert request["path"] == "/v2/notifications/email"
    assert request["body"]["email_address"] == "j@example.org"
    assert request["body"]["template_id"] == "tmpl-email-cy"


def test_failures_become_codes_retried_only_when_it_may_pass(notify: FakeNotify) -> None:
    channel = NotifyChannel(api_key=API_KEY, templates=TEMPLATES, base_url=notify.url)
    notify.statuses = [500, 429, 400]
    outcomes = []
    for _ in range(3):
        with pytest.raises(SendError) as failed:
            channel.send(_message())
        outcomes.append((failed.value.code, failed.value.retry))
    assert outcomes == [("notify_500", True), ("notify_429", True), ("notify_400", False)]
    with pytest.raises(SendError) as missing:
        channel.send(_message("sms", "cy"))  # no Welsh SMS template configured
    assert (missing.value.code, missing.value.retry) == ("no_notify_template_sms_cy", False)


def test_notify_down_is_retried() -> None:
    channel = NotifyChannel(api_key=API_KEY, templates=TEMPLATES, base_url="http://127.0.0.1:9",
                            timeout=2)
    with pytest.raises(SendError) as failed:
        channel.send(_message())
    assert failed.value.retry


def test_settings_choose_the_channel_and_never_show_the_key() -> None:
    env = {"CASESHARE_OUTBOUND": "notify", "CASESHARE_NOTIFY_API_KEY": API_KEY,
           "CASESHARE_NOTIFY_TEMPLATE_SMS_EN": "t1", "CASESHARE_NOTIFY_TEMPLATE_EMAIL_CY": "t2"}
    settings = OutboundSettings.from_env(env)
    assert settings.notify_templates == {("sms", "en"): "t1", ("email", "cy"): "t2"}
    assert SECRET not in repr(settings)
    channel = make_channel(settings)
    assert isinstance(channel, NotifyChannel) and SECRET not in repr(channel)
    assert make_channel(OutboundSettings.from_env({})) is None  # off unless chosen
    smtp = make_channel(OutboundSettings.from_env({"CASESHARE_OUTBOUND": "smtp",
                                                   "CASESHARE_SMTP_PORT": "2626"}))
    assert smtp is not None and smtp.name == "smtp"
    with pytest.raises(OutboundConfigError, match="CASESHARE_NOTIFY_API_KEY"):
        OutboundSettings.from_env({"CASESHARE_OUTBOUND": "notify"})
    with pytest.raises(OutboundConfigError):
        OutboundSettings.from_env({"CASESHARE_OUTBOUND": "pigeon"})
