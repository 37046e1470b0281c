"""Channels: e-mail over SMTP (one message at a time on one connection, so at most one
message is ever in doubt), e-mail through Django's other backends (console, locmem), and SMS
through an HTTP gateway.

A transport's ``send`` returns when the server accepted the message and raises
:class:`TemporaryError` (nothing went out; try again later), :class:`PermanentError` (refused
for good; ``bounce`` when the address itself is refused) or :class:`InDoubtError` (the message
was handed over and the answer was lost: it may have gone out).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
import smtplib
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from typing import Protocol

from django.conf import settings


class TemporaryError(Exception):
    """Nothing was sent; the same message may be tried again later."""


class PermanentError(Exception):
    """The message was refused for good; with ``bounce`` the address is refused."""

    def __init__(self, message: str, *, bounce: bool = False) -> None:
        super().__init__(message)
        self.bounce = bounce


class InDoubtError(Exception):
    """The message was handed over and the answer was lost."""


@dataclass(frozen=True)
class Outgoing:
    key: str
    recipient: str
    subject: str
    body_text: str
    body_html: str
    unsubscribe_url: str = ""


class Transport(Protocol):
    broken: bool

    def open(self) -> None: ...

    def send(self, message: Outgoing, *, following: str = "") -> None: ...

    def close(self) -> None: ...


@functools.lru_cache(maxsize=4096)
def _header(value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8").encode()


@functools.lru_cache(maxsize=16)
def _sender(sender: str) -> tuple[str, str]:
    """The From header and the Message-ID domain of a sender address."""
    name, address = parseaddr(sender)
    return formataddr((name, address), charset="utf-8"), address.rpartition("@")[2] or "localhost"


def _b64(text: str) -> bytes:
    return base64.encodebytes(text.encode("utf-8")).replace(b"\n", b"\r\n")


_DOT_LINE = re.compile(rb"(?m)^\.")


def email_bytes(message: Outgoing, *, sender: str) -> bytes:
    """The message as it goes on the wire: a text part and, when there is HTML, an HTML part
    (multipart/alternative), UTF-8 in base64, the outbox key in ``X-Patron-Key`` and the
    Message-ID, and ``List-Unsubscribe`` (one-click, RFC 8058) when there is a link."""
    digest = hashlib.sha256(message.key.encode()).hexdigest()[:24]
    from_header, domain = _sender(sender)
    lines = [
        f"From: {from_header}",
        f"To: {message.recipient}",
        f"Subject: {_header(message.subject)}",
        f"Date: {formatdate(localtime=False)}",
        f"Message-ID: <{digest}@{domain}>",
        f"X-Patron-Key: {_header(message.key)}",
        "MIME-Version: 1.0",
    ]
    if message.unsubscribe_url:
        lines.append(f"List-Unsubscribe: <{message.unsubscribe_url}>")
        lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    head = "\r\n".join(lines).encode()
    text_part = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n"
    if not message.body_html:
        return head + b"\r\n" + text_part + b"\r\n" + _b64(message.body_text)
    boundary = f"=_patron_{digest}".encode()
    html_part = b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n"
    return b"".join(
        (
            head,
            b'\r\nContent-Type: multipart/alternative; boundary="' + boundary + b'"\r\n\r\n',
            b"--" + boundary + b"\r\n" + text_part + b"\r\n" + _b64(message.body_text),
            b"--" + boundary + b"\r\n" + html_part + b"\r\n" + _b64(message.body_html),
            b"--" + boundary + b"--\r\n",
        )
    )


class SmtpTransport:
    """SMTP with the settings Django uses (``PATRON_EMAIL_URL``), the stages of each send told
    apart: a failure before the message's data is handed over is temporary (or permanent on a
    5xx answer), a lost answer after it is in doubt.

    With a server that offers PIPELINING (RFC 2920; Postfix and the other common MTAs do) the
    envelope (MAIL, RCPT, DATA) goes in one write, and the next message's envelope goes in
    the same write as this message's end: about one round trip per message instead of four.
    Nothing of a message's content ever goes out before :meth:`send` is called for it."""

    def __init__(self) -> None:
        self.conn: smtplib.SMTP | None = None
        self.broken = False
        self.sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "patron@localhost"
        self.ahead = ""  # the recipient whose envelope went out with the last message's end

    def open(self) -> None:
        cls = smtplib.SMTP_SSL if settings.EMAIL_USE_SSL else smtplib.SMTP
        try:
            conn = cls(settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=settings.EMAIL_TIMEOUT)
            if conn.sock is not None:  # small commands go out at once (no Nagle delay)
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.ehlo_or_helo_if_needed()
            if settings.EMAIL_USE_TLS:
                conn.starttls()
                conn.ehlo()
            if settings.EMAIL_HOST_USER:
                conn.login(settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD)
        except (OSError, smtplib.SMTPException) as error:
            raise TemporaryError(f"cannot connect to the SMTP server: {error}") from error
        self.conn = conn
        self.broken = False
        self.ahead = ""

    def close(self) -> None:
        if self.conn is not None:
            try:
                if self.ahead:  # in DATA for a message never sent: drop it, no QUIT
                    self.conn.close()
                else:
                    self.conn.quit()
            except (OSError, smtplib.SMTPException):
                self.conn.close()
            self.conn = None
            self.ahead = ""

    def _refused(
        self, stage: str, code: int, text: bytes, *, bounce: bool = False, reset: bool = True
    ) -> Exception:
        assert self.conn is not None
        if reset:
            try:
                self.conn.rset()
            except (OSError, smtplib.SMTPException):
                self.broken = True
        detail = f"{stage} refused: {code} {text.decode(errors='replace')}"
        return PermanentError(detail, bounce=bounce) if code >= 500 else TemporaryError(detail)

    def _envelope_commands(self, recipient: str) -> bytes:
        assert self.conn is not None
        commands = f"MAIL FROM:{smtplib.quoteaddr(self.sender)}\r\n"
        commands += f"RCPT TO:{smtplib.quoteaddr(recipient)}\r\nDATA\r\n"
        return commands.encode(self.conn.command_encoding)

    def _envelope_replies(self) -> None:
        """The three answers to a pipelined envelope; raises as the first refusal says."""
        conn = self.conn
        assert conn is not None
        (mail, mail_text), (rcpt, rcpt_text), (data, data_text) = (
            conn.getreply(),
            conn.getreply(),
            conn.getreply(),
        )
        in_data = data == 354  # a server that took DATA without a sender or recipient
        if mail != 250 or rcpt not in (250, 251):
            self.broken = self.broken or in_data  # leave its DATA by dropping the connection
            if mail != 250:
                raise self._refused("sender", mail, mail_text, reset=not in_data)
            raise self._refused("recipient", rcpt, rcpt_text, bounce=rcpt >= 500, reset=not in_data)
        if not in_data:
            raise self._refused("data", data, data_text)

    def _envelope(self, recipient: str) -> None:
        """MAIL, RCPT and DATA up to the server's 354 (nothing of the message goes out)."""
        conn = self.conn
        assert conn is not None
        if conn.has_extn("pipelining"):
            conn.send(self._envelope_commands(recipient))
            self._envelope_replies()
            return
        code, text = conn.mail(self.sender)
        if code != 250:
            raise self._refused("sender", code, text)
        code, text = conn.rcpt(recipient)
        if code not in (250, 251):
            raise self._refused("recipient", code, text, bounce=code >= 500)
        conn.putcmd("data")
        code, text = conn.getreply()
        if code != 354:
            raise self._refused("data", code, text)

    def send(self, message: Outgoing, *, following: str = "") -> None:
        """Hand ``message`` over; ``following``: the recipient of the message that will be
        sent next on this connection, whose envelope may go out with this one's end."""
        if self.conn is None or self.broken:
            self.close()
            self.open()
        conn = self.conn
        assert conn is not None
        data = _DOT_LINE.sub(b"..", email_bytes(message, sender=settings.DEFAULT_FROM_EMAIL))
        ahead, self.ahead = self.ahead, ""
        try:
            if ahead == message.recipient:
                self._envelope_replies()  # its envelope went out with the last message's end
            else:
                if ahead:  # not the message expected: leave that DATA by reconnecting
                    conn.close()
                    self.conn = None
                    self.open()
                    conn = self.conn
                    assert conn is not None
                self._envelope(message.recipient)
        except (OSError, smtplib.SMTPException) as error:  # nothing of the message went out
            self.broken = True
            raise TemporaryError(f"SMTP connection lost before the message: {error}") from error
        pipelined = bool(following) and conn.has_extn("pipelining")
        end = data + b"\r\n.\r\n"
        try:
            conn.send(end + self._envelope_commands(following) if pipelined else end)
            code, text = conn.getreply()
        except (OSError, smtplib.SMTPException) as error:
            self.broken = True
            raise InDoubtError(
                f"SMTP answer lost after the message was handed over: {error}"
            ) from error
        if pipelined:
            self.ahead = following  # its three answers are read when it is sent
        if code != 250:
            raise (
                PermanentError(f"message refused: {code} {text.decode(errors='replace')}")
                if (code >= 500)
                else TemporaryError(f"message deferred: {code} {text.decode(errors='replace')}")
            )


class DjangoTransport:
    """Django's configured mail backend (console or locmem in development and tests)."""

    def __init__(self) -> None:
        self.connection = None
        self.broken = False

    def open(self) -> None:
        from django.core.mail import get_connection

        self.connection = get_connection()

    def close(self) -> None:
        self.connection = None

    def send(self, message: Outgoing, *, following: str = "") -> None:
        from django.core.mail import EmailMultiAlternatives

        headers = {"X-Patron-Key": message.key}
        if message.unsubscribe_url:
            headers["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        email = EmailMultiAlternatives(
            message.subject,
            message.body_text,
            to=[message.recipient],
            headers=headers,
            connection=self.connection,
        )
        if message.body_html:
            email.attach_alternative(message.body_html, "text/html")
        email.send()


class SmsGatewayTransport:
    """An HTTP SMS gateway: POST ``{"to", "text", "id"}`` as JSON to ``PATRON_SMS_URL``; 2xx is
    accepted, 4xx refused, 5xx or no connection temporary, a lost answer in doubt (the ``id``
    lets a gateway that keeps it drop a duplicate)."""

    TIMEOUT = 15

    def __init__(self) -> None:
        self.broken = False

    def open(self) -> None:
        if not settings.PATRON_SMS_URL:
            raise PermanentError("no SMS gateway is configured (PATRON_SMS_URL)")

    def close(self) -> None:
        return None

    def send(self, message: Outgoing, *, following: str = "") -> None:
        body = json.dumps(
            {"to": message.recipient, "text": message.body_text, "id": message.key}
        ).encode()
        request = urllib.request.Request(
            settings.PATRON_SMS_URL,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        if settings.PATRON_SMS_TOKEN:
            request.add_header("Authorization", f"Bearer {settings.PATRON_SMS_TOKEN}")
        try:
            with urllib.request.urlopen(request, timeout=self.TIMEOUT) as response:
                response.read()
        except urllib.error.HTTPError as error:
            detail = f"SMS gateway answered {error.code}: {error.read()[:200]!r}"
            if 400 <= error.code < 500:
                raise PermanentError(detail, bounce=error.code in (404, 410)) from error
            raise TemporaryError(detail) from error
        except urllib.error.URLError as error:  # no connection: nothing was handed over
            raise TemporaryError(f"SMS gateway unreachable: {error.reason}") from error
        except (TimeoutError, ConnectionError) as error:
            raise InDoubtError(f"SMS gateway answer lost: {error}") from error


def transport_for(channel: str) -> Transport:
    if channel == "sms":
        return SmsGatewayTransport()
    if settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
        return SmtpTransport()
    return DjangoTransport()
