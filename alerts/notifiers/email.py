"""E-mail notifier: one message over SMTP per notification (a group of notices).

The subject carries the headline (`[FIRING:2] openai_health (critical) site=a`), the
body every alert's name, severity, cause and runbook. Transport security is `starttls`
(default), `tls` (SMTPS, port 465) or `none`; login only over an encrypted connection
unless `allow_plain_auth`. The password is a secret: it never reaches a reason, log or
repr. smtplib is blocking, so a send runs in a thread with a per-operation timeout.
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Literal, Sequence

from vocab.redact import redact
from alerts.notifiers.http import secret_value
from alerts.notifiers.grouping import Group
from alerts.notifiers.notice import Notice
from alerts.notifiers.notifier import NotifyError
from alerts.notifiers.wire import NO_OPTIONS, WireOptions, body_text, headline

Security = Literal["starttls", "tls", "none"]


class EmailNotifier:
    """Sends a group of notices as one e-mail.

    Args:
        name: Receiver name.
        host: SMTP server host.
        port: SMTP port (587 for starttls, 465 for tls, 25 for none, by convention).
        sender: The From address.
        to: Recipients.
        security: "starttls" (upgrade after EHLO; the server must offer it), "tls"
            (TLS from the first byte) or "none".
        username: Login name; None sends no AUTH.
        password: Login password (str or SecretStr).
        ca_file: A CA bundle to verify the server with (default: the system's).
        verify: Verify the server's certificate and name (default True).
        allow_plain_auth: Permit AUTH over an unencrypted connection (off by default).
        timeout_s: Timeout of each SMTP operation.
        subject_prefix: Put before the headline, e.g. "[alice-ops] ".
        opts: External labels and runbook annotations.
    """

    resend_interval_s: float | None = None
    group_notices = True
    """Told one group at a time (`alerts.notifiers.grouping`); `group` names it."""

    def __init__(self, name: str, host: str, port: int, sender: str, to: Sequence[str], *,
                 security: Security = "starttls", username: str | None = None,
                 password: Any = None, ca_file: str | None = None, verify: bool = True,
                 allow_plain_auth: bool = False, timeout_s: float = 10.0,
                 subject_prefix: str = "", opts: WireOptions = NO_OPTIONS) -> None:
        if security not in ("starttls", "tls", "none"):
            raise ValueError(f"email {name}: security must be starttls, tls or none")
        if not to:
            raise ValueError(f"email {name}: at least one recipient is needed")
        self.name, self.host, self.port = name, host, int(port)
        self.sender, self.to = sender, tuple(to)
        self.security: Security = security
        self.username = username
        self._password = secret_value(password)
        self.ca_file, self.verify = ca_file, verify
        self.allow_plain_auth = allow_plain_auth
        self.timeout_s = float(timeout_s)
        self.subject_prefix = subject_prefix
        self.opts = opts

    def __repr__(self) -> str:
        return (f"EmailNotifier(name={self.name!r}, server={self.host}:{self.port}, "
                f"security={self.security!r})")

    def message(self, notices: Sequence[Notice], now: float | None = None) -> EmailMessage:
        """The e-mail for a group of notices (pure but for the Message-ID's randomness)."""
        msg = EmailMessage()
        msg["Subject"] = self._clean(self.subject_prefix + headline(notices, self.opts))
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg["Date"] = formatdate(time.time() if now is None else now, usegmt=True)
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        msg.set_content(self._clean(body_text(notices, self.opts)))
        return msg

    def _clean(self, text: str) -> str:
        return redact(text, [self._password] if self._password else [])

    def _context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=self.ca_file)
        if not self.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def _deliver(self, msg: EmailMessage) -> None:
        smtp: smtplib.SMTP
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s,
                                    context=self._context())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        with smtp:
            smtp.ehlo()
            if self.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise NotifyError(f"{self._where()}: the server does not offer STARTTLS "
                                      "(set security: none to send unencrypted)")
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if self.username is not None:
                if self.security == "none" and not self.allow_plain_auth:
                    raise NotifyError(f"{self._where()}: refusing to send the password over "
                                      "an unencrypted connection (use starttls or tls)")
                smtp.login(self.username, self._password or "")
            refused = smtp.send_message(msg)
            if refused:
                raise NotifyError(f"{self._where()}: recipients refused: "
                                  + ", ".join(sorted(refused)))

    def _where(self) -> str:
        return f"SMTP {self.host}:{self.port}"

    async def send(self, notices: Sequence[Notice], group: Group | None = None) -> None:
        """Send the notices as one e-mail.

        Raises:
            NotifyError: one redacted line naming the server and what went wrong.
        """
        if not notices:
            return
        msg = self.message(notices)
        try:
            await asyncio.to_thread(self._deliver, msg)
        except NotifyError:
            raise
        except smtplib.SMTPAuthenticationError as err:
            raise self._fail(f"login refused ({err.smtp_code})") from None
        except smtplib.SMTPResponseException as err:
            text = err.smtp_error.decode(errors="replace") if isinstance(
                err.smtp_error, bytes) else str(err.smtp_error)
            raise self._fail(f"{err.smtp_code} {text}") from None
        except (socket.timeout, TimeoutError):
            raise self._fail(f"timed out after {self.timeout_s:g}s") from None
        except ssl.SSLError as err:
            raise self._fail(f"TLS: {err.reason or err}") from None
        except (OSError, smtplib.SMTPException) as err:
            raise self._fail(f"{type(err).__name__}: {err}") from None

    def _fail(self, what: str) -> NotifyError:
        return NotifyError(self._clean(f"{self._where()}: {what}"))

    async def aclose(self) -> None:
        """Nothing held between sends (one connection per message)."""
