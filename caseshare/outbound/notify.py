"""The GOV.UK Notify channel (production), through Notify's own Python client.

One Notify template per kind and language (`CASESHARE_NOTIFY_TEMPLATE_SMS_EN` ...), each with
the personalisation fields `appointment`, `location` and `message`; the outbox row's id goes as
Notify's `reference`. A kind or language without a template is refused (permanent).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from notifications_python_client.errors import APIError, HTTPError
from notifications_python_client.notifications import NotificationsAPIClient

from caseshare.outbound.channel import Message, SendError
from caseshare.outbound.settings import NOTIFY_URL


@dataclass
class NotifyChannel:
    api_key: str = field(repr=False)
    templates: dict[tuple[str, str], str]
    base_url: str = NOTIFY_URL
    timeout: float = 10.0
    name: str = "notify"

    def __post_init__(self) -> None:
        # Notify's client has no type hints, hence the ignores on its calls.
        self.client = NotificationsAPIClient(  # type: ignore[no-untyped-call]
            self.api_key, base_url=self.base_url, timeout=self.timeout)

    def send(self, message: Message) -> None:
        """Ask Notify to send one message; SendError (a code only) when it did not take it."""
        template = self.templates.get((message.kind, message.language))
        if template is None:
            raise SendError(f"no_notify_template_{message.kind}_{message.language}", retry=False)
        try:
            if message.kind == "sms":
                self.client.send_sms_notification(  # type: ignore[no-untyped-call]
                    phone_number=message.to, template_id=template,
                    personalisation=message.fields, reference=message.reference)
            else:
                self.client.send_email_notification(  # type: ignore[no-untyped-call]
                    email_address=message.to, template_id=template,
                    personalisation=message.fields, reference=message.reference)
        except HTTPError as exc:
            status = exc.status_code
            # 429 and 5xx (and no answer at all: status 503 from the client) may pass later;
            # 400 and 403 (a bad number, a bad key) will not.
            retry = not isinstance(status, int) or status == 429 or status >= 500
            raise SendError(f"notify_{status}", retry=retry) from exc
        except APIError as exc:
            raise SendError("notify_invalid_response", retry=True) from exc
