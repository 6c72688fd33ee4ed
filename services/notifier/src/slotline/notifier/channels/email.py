"""E-mail over SMTP (aiosmtplib): plain text + HTML, .ics attached as text/calendar."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from slotline.notifier.channels.port import Accepted, Outgoing, Permanent, Transient

_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


class SmtpSender:
    """Sends through one SMTP server; 5xx answers are permanent, the rest transient."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str | None = None,
        password: str | None = None,
        start_tls: bool | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.start_tls = start_tls
        self.timeout = timeout

    def compose(self, message: Outgoing) -> EmailMessage:
        if not _ADDRESS.match(message.to):
            raise Permanent(f"invalid e-mail address {message.to!r}")
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject or ""
        mail["Date"] = formatdate(localtime=False)
        # The idempotency key names the message: a receiving system can drop a duplicate.
        mail["Message-ID"] = make_msgid(idstring=_safe(message.idempotency_key), domain="slotline")
        mail["X-Slotline-Idempotency-Key"] = message.idempotency_key
        mail.set_content(message.body)
        if message.html:
            mail.add_alternative(message.html, subtype="html")
        for attachment in message.attachments:
            maintype, _, rest = attachment.content_type.partition("/")
            subtype, _, params = rest.partition(";")
            extra = dict(p.strip().split("=", 1) for p in params.split(";") if "=" in p)
            mail.add_attachment(
                attachment.content,
                maintype=maintype,
                subtype=subtype.strip(),
                filename=attachment.filename,
                params=extra,
            )
        return mail

    async def send(self, message: Outgoing) -> Accepted:
        mail = self.compose(message)
        try:
            await aiosmtplib.send(
                mail,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                start_tls=self.start_tls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise Permanent(f"recipient refused: {error}") from error
        except aiosmtplib.SMTPResponseException as error:
            if 500 <= error.code < 600:
                raise Permanent(f"SMTP {error.code}: {error.message}") from error
            raise Transient(f"SMTP {error.code}: {error.message}") from error
        except (aiosmtplib.SMTPException, OSError) as error:
            raise Transient(f"SMTP server unreachable: {error!r}") from error
        return Accepted(provider_reference=str(mail["Message-ID"]).strip("<>"))


def _safe(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "-", key)[:100]
