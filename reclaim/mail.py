"""The mail outbox: messages are stored first (keyed, so a retry queues nothing twice), then sent
over SMTP; a send that fails leaves the message queued for the next try."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib
from sqlmodel import Session, select

from reclaim.config import Settings
from reclaim.models import MailMessage, utcnow


def queue_mail(
    *, session: Session, key: str, to: str, subject: str, text: str, html: str | None = None
) -> MailMessage:
    existing = session.exec(select(MailMessage).where(MailMessage.key == key)).first()
    if existing is not None:
        return existing
    message = MailMessage(key=key, to=to, subject=subject[:255], text=text, html=html)
    session.add(message)
    session.flush()
    return message


def smtp_target(settings: Settings) -> tuple[str, int]:
    return settings.smtp_host or "127.0.0.1", settings.smtp_port


async def send_mail(settings: Settings, message: MailMessage) -> None:
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Message-ID"] = f"<{message.key}@reclaim>"
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    host, port = smtp_target(settings)
    await aiosmtplib.send(email, hostname=host, port=port, timeout=15)


def mark_mail(*, session: Session, message_id: int, error: str | None) -> None:
    message = session.get(MailMessage, message_id)
    if message is None:
        return
    message.attempts += 1
    if error is None:
        message.status = "sent"
        message.sent_at = utcnow()
        message.last_error = None
    else:
        message.last_error = error[:500]
    session.add(message)
