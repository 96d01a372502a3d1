"""The local SMTP sink `reclaim up` starts: keeps every message it receives for /mail."""

from __future__ import annotations

import asyncio
import email
import email.policy
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import Engine
from sqlmodel import Session

from reclaim.models import ReceivedMail


class StoringHandler:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain", "html"))
        text = body.get_content() if body is not None else raw.decode(errors="replace")

        def store() -> None:
            with Session(self.engine) as db:
                db.add(ReceivedMail(
                    mail_from=str(envelope.mail_from or "")[:255],
                    to=", ".join(envelope.rcpt_tos)[:1000],
                    subject=str(message.get("subject", ""))[:255],
                    body=text,
                ))
                db.commit()

        await asyncio.to_thread(store)
        return "250 Message accepted for delivery"


async def serve(engine: Engine, *, host: str, port: int) -> None:
    controller = Controller(StoringHandler(engine), hostname=host, port=port)
    controller.start()
    try:
        await asyncio.Event().wait()
    finally:
        controller.stop()
