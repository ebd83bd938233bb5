"""Sending the outbox: a stored message as an e-mail, and the two ways it leaves.

:class:`SmtpTransport` hands messages to a mail server (``smtp_*`` settings; STARTTLS and
sign-in when configured), one connection per run. With no ``smtp_host``,
:class:`FileTransport` writes each message as an ``.eml`` file to ``outbox_dir``, so a
local demo shows what would be sent. Only the standard library's :mod:`smtplib` and
:mod:`email` are used.

Which messages go, once each and with retries, is decided by
:meth:`cpted.access.Access.deliver`; this module only speaks to the server.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from types import TracebackType
from typing import Protocol
from urllib.parse import urlsplit

from cpted.follows import message_id
from cpted.messages import one_line
from layers.repos.outbox import OutboxRow
from layers.settings import Settings

#: Seconds to wait for the mail server before an attempt counts as failed.
SMTP_TIMEOUT_S = 30.0
#: Headers folded only past RFC 5322's hard limit, so that a long ``List-Unsubscribe``
#: address stays one plain ``<https://...>`` (folding it would encode it, which the
#: clients that read the header do not undo).
POLICY = SMTP.clone(max_line_length=998)


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def __enter__(self) -> Transport: ...

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


def compose(row: OutboxRow, settings: Settings) -> EmailMessage:
    """The e-mail of one outbox row: a plain-text part and the row's headers
    (``List-Unsubscribe``, ``List-Unsubscribe-Post`` and the ``Content-Language`` it is
    written in among them), with a ``Message-ID`` that stays the same across attempts."""
    from datetime import datetime

    msg = EmailMessage(policy=POLICY)
    msg["From"] = settings.mail_from
    msg["To"] = row.to_address
    msg["Subject"] = one_line(row.subject)
    msg["Date"] = format_datetime(datetime.fromisoformat(row.created_at))
    msg["Message-ID"] = message_id(row.dedupe_key, urlsplit(settings.public_url).hostname or "")
    # quoted-printable: 7-bit safe for any server, and each line of it short
    msg.set_content(row.body_text, subtype="plain", charset="utf-8", cte="quoted-printable")
    # after the content, which would drop a Content-Language (RFC 3282) set before it
    for name, value in row.headers.items():
        msg[name] = one_line(value)
    return msg


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` means the server cannot be reached at all (so the rest of a run
    would fail the same way), rather than refusing one message."""
    return isinstance(exc, OSError | smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError
                      | smtplib.SMTPAuthenticationError | smtplib.SMTPNotSupportedError)


class SmtpTransport:
    """Messages to a mail server, over one connection opened at the first message."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=SMTP_TIMEOUT_S)
        try:
            smtp.ehlo()
            if s.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except BaseException as exc:
            if connection_lost(exc):
                self.close()
            raise

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def describe(self) -> str:
        return f"the mail server {self.settings.smtp_host}:{self.settings.smtp_port}"


class FileTransport:
    """Messages as ``.eml`` files in a folder, for a deployment without a mail server."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        key = str(message["Message-ID"]).strip("<>").split("@", 1)[0]
        path = self.folder / f"{key}.eml"
        part = path.with_suffix(".eml.part")
        part.write_bytes(message.as_bytes())
        part.replace(path)  # whole or not at all, so a reader never sees half a message

    def __enter__(self) -> FileTransport:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None

    def describe(self) -> str:
        return f"files in {self.folder}"


def transport_for(settings: Settings) -> SmtpTransport | FileTransport:
    """The mail server when ``smtp_host`` is set, else ``.eml`` files in ``outbox_dir``."""
    if settings.smtp_host:
        return SmtpTransport(settings)
    return FileTransport(settings.outbox_dir)
