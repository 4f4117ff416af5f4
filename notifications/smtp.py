"""Email over SMTP, configured by an apprise `mailto://` / `mailtos://` URL in DUBAN_SMTP_URL.

apprise parses the URL (host, port, TLS mode, login, sender); duban writes the MIME itself, so that
each address gets exactly one message (no Cc copies) and Chinese attachment names are encoded per
RFC 2231 (apprise writes RFC 2047 inside the parameter, which strict clients read as no name).
"""

from __future__ import annotations

import contextlib
import smtplib
from email.header import decode_header, make_header

from notifications.message import Outgoing, SendError, email_message
from notifications.secrets import scrub


class EmailTransport:
    def __init__(self, url: str, timeout: float = 20) -> None:
        import apprise

        config = apprise.Apprise.instantiate(url)
        if config is None or type(config).__name__ != "NotifyEmail":
            raise ValueError("DUBAN_SMTP_URL 不是有效的 mailto:// 或 mailtos:// 地址")
        self.host, self.port = config.smtp_host, int(config.port)
        self.user, self.password = config.user, config.password
        self.mode = config.secure_mode if config.secure else "insecure"
        name, address = config.from_addr
        self.sender = (str(make_header(decode_header(name))) if name else "", address)
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: Outgoing) -> None:
        mail = email_message(message, self.sender, message.address)
        try:
            smtp = self._connection()
            smtp.send_message(mail, from_addr=self.sender[1], to_addrs=[message.address])
        except smtplib.SMTPResponseException as exc:
            self.close()
            permanent = 500 <= exc.smtp_code < 600
            raise SendError(f"邮件服务器拒收（{exc.smtp_code}）", retry=not permanent) from None
        except smtplib.SMTPRecipientsRefused:
            self.close()
            raise SendError(f"邮件服务器拒绝收件地址 {message.address}", retry=False) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            reason = scrub(f"无法连接邮件服务器 {self.host}:{self.port}（{type(exc).__name__}）", self.password)
            raise SendError(reason, retry=True) from None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            try:
                self._smtp.noop()
                return self._smtp
            except (OSError, smtplib.SMTPException):
                self.close()
        cls = smtplib.SMTP_SSL if self.mode == "ssl" else smtplib.SMTP
        smtp = cls(self.host, self.port, timeout=self.timeout)
        if self.mode == "starttls":
            smtp.starttls()
        if self.user and self.password:
            smtp.login(self.user, self.password)
        self._smtp = smtp
        return smtp

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._smtp = None
