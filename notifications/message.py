"""What a transport sends: one message (or digest) to one address on one channel."""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path


@dataclass(frozen=True)
class Outgoing:
    ids: tuple[int, ...]
    keys: tuple[str, ...]
    recipient: str
    channel: str
    address: str
    subject: str
    body: str
    body_html: str | None = None
    attachments: tuple[Path, ...] = ()
    mentions: tuple[str, ...] = ()
    urgent: bool = False
    created: datetime | None = field(default=None, compare=False)  # when it is sent (a replay's day)

    @property
    def message_id(self) -> str:
        """Stable for the same outbox rows, so a mail client can recognise a repeat."""
        digest = hashlib.sha256("|".join(self.keys).encode()).hexdigest()[:32]
        return f"<{digest}@duban>"


class SendError(Exception):
    """A send that did not succeed. `retry` False means dead: permanent, or the outcome is unknown."""

    def __init__(
        self, reason: str, *, retry: bool, wait_seconds: float | None = None, defer: bool = False, report: bool = False
    ):
        super().__init__(reason)
        self.reason = reason
        self.retry = retry
        self.wait_seconds = wait_seconds
        self.defer = defer  # not a failure: the bot's minute is full, try again when it frees
        self.report = report  # tell the Office's operator at once (an invalid webhook)


def email_message(message: Outgoing, sender: tuple[str, str], to: str) -> EmailMessage:
    """A standard MIME message: text and HTML alternatives, attachments named per RFC 2231."""
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = Address(display_name=sender[0], addr_spec=sender[1])
    mail["To"] = Address(display_name=message.recipient, addr_spec=to) if "@" in to else message.recipient
    mail["Message-ID"] = message.message_id
    mail["Date"] = format_datetime(message.created or datetime.now().astimezone())
    mail.set_content(message.body)
    if message.body_html:
        mail.add_alternative(message.body_html, subtype="html")
    for path in message.attachments:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/", 1)
        mail.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return mail
