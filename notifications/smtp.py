"""Email over SMTP, configured by an apprise `mailto://` / `mailtos://` URL in DUBAN_SMTP_URL.

apprise parses the URL (host, port, TLS mode, login, sender); duban writes the MIME itself, so that
each address gets exactly one message (no Cc copies) and Chinese attachment names are encoded per
RFC 2231 (apprise writes RFC 2047 inside the parameter, which strict clients read as no name).

Outcomes: a 4xx answer at any stage (connecting, login, sender, recipient, content) is temporary and
retried; a 5xx is permanent. A connection that fails or goes silent before the content is handed over
is retried; one that goes silent after it is dead, not retried: the message may have been delivered.
"""

from __future__ import annotations

import contextlib
import smtplib
from email.header import decode_header, make_header

from notifications.message import ConfigurationError, Outgoing, SendError, email_message
from notifications.secrets import scrub


class _Watched:
    """Notes when the message content has been handed over whole (the bytes written after DATA's 354)."""

    handed_over = False
    _in_data = False

    def data(self, msg: bytes) -> tuple[int, bytes]:
        self._in_data = True
        try:
            return super().data(msg)
        finally:
            self._in_data = False

    def send(self, s: str | bytes) -> None:
        super().send(s)
        if self._in_data and isinstance(s, bytes):  # commands go as str, the content as bytes
            self.handed_over = True


class _SMTP(_Watched, smtplib.SMTP):
    pass


class _SMTPSSL(_Watched, smtplib.SMTP_SSL):
    pass


class EmailTransport:
    def __init__(self, url: str, timeout: float) -> None:
        config = _parse(url)
        self.host, self.port = config.smtp_host, int(config.port)
        self.user, self.password = config.user, config.password
        self.mode = config.secure_mode if config.secure else "insecure"
        name, address = config.from_addr
        self.sender = (str(make_header(decode_header(name))) if name else "", address)
        self.timeout = timeout
        self._smtp: _SMTP | _SMTPSSL | None = None

    def send(self, message: Outgoing) -> None:
        mail = email_message(message, self.sender, message.address)
        try:
            smtp = self._connection()
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise _refused(exc.smtp_code, _stage(exc)) from None
        except smtplib.SMTPNotSupportedError as exc:
            self.close()
            unsupported = f"邮件服务器 {self.where} 不支持所需功能（{exc}），请核对 DUBAN_SMTP_URL"
            raise ConfigurationError(unsupported) from None
        except OSError as exc:  # smtplib.SMTPException is an OSError too
            self.close()
            raise SendError(self._scrub(f"无法连接邮件服务器 {self.where}（{self._named(exc)}）"), retry=True) from None
        smtp.handed_over = False
        try:
            smtp.send_message(mail, from_addr=self.sender[1], to_addrs=[message.address])
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            code = exc.recipients.get(message.address, (550, b""))[0]
            raise _refused(code, f"收件地址 {message.address}") from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise _refused(exc.smtp_code, _stage(exc)) from None
        except smtplib.SMTPNotSupportedError as exc:
            self.close()
            raise SendError(f"邮件服务器 {self.where} 不支持发送此邮件所需的功能（{exc}）", retry=False) from None
        except OSError as exc:
            self.close()
            raise self._silent(smtp.handed_over, exc) from None

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def _silent(self, handed_over: bool, exc: OSError) -> SendError:
        """The server stopped answering (timeout, dropped connection) after the connection was made."""
        error = self._named(exc)
        if handed_over:
            return SendError(
                self._scrub(
                    f"邮件内容已发出，但邮件服务器 {self.where} 未确认收到（{error}），"
                    "投递结果未知；为免重复不再重试，请人工核实"
                ),
                retry=False,
            )
        return SendError(self._scrub(f"邮件服务器 {self.where} 中途未应答（{error}），邮件未发出"), retry=True)

    def _named(self, exc: OSError) -> str:
        """The error's name; a timeout (which smtplib reports as a disconnection) with the time waited."""
        if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
            return f"TimeoutError，等待{self.timeout:g}秒"
        return type(exc).__name__

    def _scrub(self, text: str) -> str:
        return scrub(text, self.password)

    def _connection(self) -> _SMTP | _SMTPSSL:
        if self._smtp is not None:
            try:
                self._smtp.noop()
                return self._smtp
            except OSError:
                self.close()
        cls = _SMTPSSL if self.mode == "ssl" else _SMTP
        smtp = cls(self.host, self.port, timeout=self.timeout)
        self._smtp = smtp  # closed by close() even if what follows fails
        if self.mode == "starttls":
            smtp.starttls()
        if self.user and self.password:
            smtp.login(self.user, self.password)
        return smtp

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError):
                self._smtp.quit()
            self._smtp = None


_STAGES = (
    (smtplib.SMTPAuthenticationError, "登录"),
    (smtplib.SMTPSenderRefused, "发件地址"),
    (smtplib.SMTPDataError, "邮件内容"),
)


def _stage(exc: smtplib.SMTPResponseException) -> str:
    return next((name for cls, name in _STAGES if isinstance(exc, cls)), "连接")


def _refused(code: int, stage: str) -> SendError:
    """An SMTP refusal: 4xx is temporary (greylisting, a busy mailbox) and retried; 5xx is permanent."""
    if 400 <= code < 500:
        return SendError(f"邮件服务器拒收（{code}）：{stage}，暂时性错误", retry=True)
    return SendError(f"邮件服务器拒收（{code}）：{stage}，永久性错误，不再重试", retry=False)


def _parse(url: str):  # noqa: ANN202 - apprise's NotifyEmail
    """apprise's reading of DUBAN_SMTP_URL; a URL it rejects is a configuration error (the URL is not shown)."""
    import apprise

    try:
        config = apprise.Apprise.instantiate(url)
    except Exception:  # noqa: BLE001 - whatever apprise raises, the URL is unusable
        config = None
    if config is None or type(config).__name__ != "NotifyEmail":
        raise ConfigurationError("DUBAN_SMTP_URL 不是有效的 mailto:// 或 mailtos:// 地址（apprise 无法解析）")
    if not 0 < int(config.port or 0) < 65536:
        raise ConfigurationError(f"DUBAN_SMTP_URL 的端口 {config.port} 无效")
    return config
