"""What a transport sends: one message (or digest) to one address on one channel."""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from duban.textgate import INVISIBLE


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
    page: str | None = None  # the portal path a WeCom app card links to
    created: datetime | None = field(default=None, compare=False)  # when it is sent (a replay's day)

    @property
    def send_key(self) -> str:
        """This send's identity (its set of rows): the same rows make the same send, whoever sends it."""
        return hashlib.sha256("|".join(self.keys).encode()).hexdigest()[:32]

    @property
    def message_id(self) -> str:
        """Stable for the same outbox rows, so a mail client can recognise a repeat."""
        return f"<{self.send_key}@duban>"


class SendError(Exception):
    """A send that did not succeed. `retry` False means dead: permanent, or the outcome is unknown."""

    def __init__(self, reason: str, *, retry: bool, wait_seconds: float | None = None, defer: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retry = retry
        self.wait_seconds = wait_seconds
        self.defer = defer  # not a failure: the bot's minute is full, try again when it frees

    def after_parts(self, sent: int, total: int) -> SendError:
        """The same outcome, saying how far a send of several parts got (the rest goes later, or never)."""
        rest = "其余部分稍后续发" if self.retry or self.defer else "其余部分未发送"
        return SendError(
            f"{self.reason}（已发送{sent}/{total}部分，{rest}）",
            retry=self.retry,
            wait_seconds=self.wait_seconds,
            defer=self.defer,
        )


class ConfigurationError(SendError):
    """duban is set up wrongly (an address, a secret, a setting): no retry can help, so dead at once."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"配置错误：{reason}", retry=False)


_TO_SPACE = re.compile(r"\r\n|[\t\r\n\v\f\x85\u2028\u2029]")
_CONTROLS = re.compile(f"[{INVISIBLE}]")  # after line breaks became spaces: nothing else may stay


def header_text(value: str) -> str:
    """Text fit for one mail header (a subject, a name): line breaks become spaces, other controls go.

    Every header duban writes from data passes here, so a title with CR/LF neither injects a header
    nor makes the message unsendable.
    """
    one_line = _CONTROLS.sub("", _TO_SPACE.sub(" ", value))
    return re.sub(r" {2,}", " ", one_line).strip()


def email_message(message: Outgoing, sender: tuple[str, str], to: str) -> EmailMessage:
    """A standard MIME message: text and HTML alternatives, attachments named per RFC 2231."""
    mail = EmailMessage()
    recipient = header_text(message.recipient)
    mail["Subject"] = header_text(message.subject)
    mail["From"] = Address(display_name=header_text(sender[0]), addr_spec=sender[1])
    mail["To"] = Address(display_name=recipient, addr_spec=to) if "@" in to else recipient
    mail["Message-ID"] = message.message_id
    mail["Date"] = format_datetime(message.created or datetime.now().astimezone())
    # base64 named outright: left to choose, the library encodes a digest both ways to pick the
    # shorter, which is base64 for Chinese text anyway, at twice the cost
    mail.set_content(message.body, cte="base64")
    if message.body_html:
        mail.add_alternative(message.body_html, subtype="html", cte="base64")
    for path in message.attachments:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/", 1)
        mail.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=header_text(path.name))
    return mail
