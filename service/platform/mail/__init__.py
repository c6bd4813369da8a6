"""Outgoing mail: over SMTP when SMTP_URL is set, else into an outbox folder for local use.

Messages are rendered from one template per message under `templates/`. Sending happens off the
request path, so a slow mail server neither delays answers nor reveals, by timing, whether an
address belongs to an account.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from string import Template
from urllib.parse import unquote, urlsplit

from service.platform.background import Background

log = logging.getLogger("gatehouse.mail")
TEMPLATES = Path(__file__).parent / "templates"


def render(template_name: str, **values: str) -> tuple[str, str]:
    """(subject, body) of a template whose first line is `Subject: ...`."""
    text = Template((TEMPLATES / f"{template_name}.txt").read_text(encoding="utf-8")).substitute(values)
    first, _, body = text.partition("\n")
    return first.removeprefix("Subject:").strip(), body.lstrip("\n")


class Mailer:
    def __init__(self, *, smtp_url: str | None, sender: str, outbox: Path, background: Background) -> None:
        self.smtp_url = smtp_url
        self.sender = sender
        self.outbox = outbox
        self.background = background

    def send_later(self, to: str, template_name: str, **values: str) -> None:
        """Queue a message and return at once; failures are logged, never raised to the caller."""
        subject, body = render(template_name, **values)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message["Message-ID"] = make_msgid(domain="gatehouse")
        message.set_content(body)
        self.background.spawn(self._deliver(message, template_name), f"mail:{template_name}")

    async def _deliver(self, message: EmailMessage, template_name: str) -> None:
        try:
            if self.smtp_url:
                await asyncio.to_thread(self._send_smtp, message)
                log.info("mail sent", extra={"template": template_name})
            else:
                path = await asyncio.to_thread(self._write_outbox, message)
                log.info(
                    "mail written to the outbox (SMTP_URL is not set)",
                    extra={"template": template_name, "path": str(path)},
                )
        except (OSError, smtplib.SMTPException) as exc:
            # The type alone: an SMTP error's text can carry the recipient's address.
            log.error("mail delivery failed", extra={"template": template_name, "error": type(exc).__name__})  # noqa: TRY400

    def _send_smtp(self, message: EmailMessage) -> None:
        url = urlsplit(self.smtp_url or "")
        if url.scheme == "smtps":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                url.hostname or "", url.port or 465, timeout=10, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(url.hostname or "", url.port or 25, timeout=10)
        with smtp:
            if url.scheme == "smtp" and "starttls=true" in url.query:
                smtp.starttls(context=ssl.create_default_context())
            if url.username:
                smtp.login(unquote(url.username), unquote(url.password or ""))
            smtp.send_message(message)

    def _write_outbox(self, message: EmailMessage) -> Path:
        self.outbox.mkdir(parents=True, exist_ok=True)
        path = self.outbox / f"{message['Message-ID'].strip('<>').replace('@', '_')}.eml"
        path.write_bytes(message.as_bytes())
        return path
