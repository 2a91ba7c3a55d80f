"""The SMTP channel: any mail server (the demo's and the tests' is `mail_sink.py`).

E-mail goes to the preference's address. SMS goes through SMTP only where an SMS-to-e-mail
gateway is configured (`CASESHARE_SMTP_SMS_DOMAIN`: the number's digits @ that domain);
otherwise an SMS is refused with `sms_not_supported` (permanent: use Notify for SMS).
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from caseshare.outbound.channel import Message, SendError


@dataclass
class SmtpChannel:
    host: str
    port: int
    sender: str
    timeout: float = 10.0
    sms_domain: str = ""
    name: str = "smtp"

    def send(self, message: Message) -> None:
        """Hand one message to the mail server; SendError (a code only) when it was not taken."""
        mail = self.build(message)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as server:
                server.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendError("recipient_refused", retry=False) from exc
        except smtplib.SMTPResponseException as exc:
            # 4xx: the server asks us to come back later; 5xx: it will never take this one.
            raise SendError(f"smtp_{exc.smtp_code}", retry=exc.smtp_code < 500) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timed out, DNS
            raise SendError("smtp_unavailable", retry=True) from exc

    def build(self, message: Message) -> EmailMessage:
        """The e-mail for a message (an SMS through the gateway is plain text too)."""
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = self._address(message)
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = f"<{message.reference}@reminders.caseshare>"
        mail.set_content(message.body)
        mail["Content-Language"] = message.language  # after set_content, which resets Content-*
        return mail

    def _address(self, message: Message) -> str:
        if message.kind == "email":
            return message.to
        if not self.sms_domain:
            raise SendError("sms_not_supported", retry=False)
        digits = "".join(ch for ch in message.to if ch.isdigit())
        return f"{digits}@{self.sms_domain}"
