"""The outbound channel's settings, from CASESHARE_* environment variables.

    CASESHARE_OUTBOUND            off (default: nothing is sent) | smtp | notify
    CASESHARE_SMTP_HOST, _PORT    the mail server (default 127.0.0.1:2525, the demo's sink)
    CASESHARE_SMTP_FROM           the sender address
    CASESHARE_SMTP_TIMEOUT        seconds before a silent server counts as down (default 10)
    CASESHARE_SMTP_SMS_DOMAIN     an SMS-to-e-mail gateway's domain; empty: SMTP sends no SMS
    CASESHARE_NOTIFY_API_KEY      GOV.UK Notify's API key (a secret: never logged)
    CASESHARE_NOTIFY_BASE_URL     Notify's API (default its production address)
    CASESHARE_NOTIFY_TEMPLATE_{SMS,EMAIL}_{EN,CY}   Notify template ids, one per kind and language

Off unless chosen, so a deployment never sends to a mail server it did not name; `make run`
chooses smtp and starts the local sink (scripts/run.sh). Kept beside the channels rather than
in config.py: only the worker sends, and it reads them once when it starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from caseshare.outbound.channel import Channel

NOTIFY_URL = "https://api.notifications.service.gov.uk"


class OutboundConfigError(Exception):
    """A setting is missing or invalid (the message names the variable, never its value)."""


@dataclass(frozen=True)
class OutboundSettings:
    channel: str = "off"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_from: str = "reminders@caseshare.example"
    smtp_timeout: float = 10.0
    smtp_sms_domain: str = ""
    notify_api_key: str = field(default="", repr=False)
    notify_base_url: str = NOTIFY_URL
    # (kind, language) -> Notify template id
    notify_templates: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OutboundSettings:
        env = os.environ if env is None else env
        channel = env.get("CASESHARE_OUTBOUND", "off").strip().lower()
        if channel not in ("smtp", "notify", "off"):
            raise OutboundConfigError("CASESHARE_OUTBOUND must be smtp, notify or off")
        try:
            port = int(env.get("CASESHARE_SMTP_PORT", "2525"))
            timeout = float(env.get("CASESHARE_SMTP_TIMEOUT", "10"))
        except ValueError as exc:
            raise OutboundConfigError("CASESHARE_SMTP_PORT and CASESHARE_SMTP_TIMEOUT must be "
                                      "numbers") from exc
        templates = {(kind, lang): env[f"CASESHARE_NOTIFY_TEMPLATE_{kind.upper()}_{lang.upper()}"]
                     for kind in ("sms", "email") for lang in ("en", "cy")
                     if env.get(f"CASESHARE_NOTIFY_TEMPLATE_{kind.upper()}_{lang.upper()}")}
        settings = cls(channel=channel, smtp_host=env.get("CASESHARE_SMTP_HOST", "127.0.0.1"),
                       smtp_port=port,
                       smtp_from=env.get("CASESHARE_SMTP_FROM", "reminders@caseshare.example"),
                       smtp_timeout=timeout,
                       smtp_sms_domain=env.get("CASESHARE_SMTP_SMS_DOMAIN", ""),
                       notify_api_key=env.get("CASESHARE_NOTIFY_API_KEY", ""),
                       notify_base_url=env.get("CASESHARE_NOTIFY_BASE_URL", NOTIFY_URL),
                       notify_templates=templates)
        if channel == "notify" and not settings.notify_api_key:
            raise OutboundConfigError("CASESHARE_OUTBOUND=notify needs CASESHARE_NOTIFY_API_KEY")
        return settings


def make_channel(settings: OutboundSettings) -> Channel | None:
    """The configured channel; None when sending is turned off."""
    if settings.channel == "off":
        return None
    if settings.channel == "notify":
        from caseshare.outbound.notify import NotifyChannel

        return NotifyChannel(api_key=settings.notify_api_key, base_url=settings.notify_base_url,
                             templates=settings.notify_templates)
    from caseshare.outbound.smtp import SmtpChannel

    return SmtpChannel(host=settings.smtp_host, port=settings.smtp_port,
                       sender=settings.smtp_from, timeout=settings.smtp_timeout,
                       sms_domain=settings.smtp_sms_domain)
