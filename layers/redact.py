"""Credentials kept out of what people see: store names, messages, CLI output.

A PostGIS URL carries its password (``postgresql+psycopg://user:PASSWORD@host/db``, or
``?password=...`` in its query string). :func:`safe_url` names a store without it (this
is what :attr:`layers.store.Store.label` shows), and :func:`hide_credentials` masks any
URL's or connection string's password inside a longer text, such as an error message
that quotes the URL it could not use.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

#: What a hidden password is shown as.
MASK = "***"

#: Query-string or connection-string keys whose values are secrets.
_SECRET_KEY = r"(?:[a-z_]*pass(?:word|wd)?|[a-z_]*secret|[a-z_]*token|sslkey|api_?key)"  # noqa: S105

# scheme://user:password@  (the user part may be empty; the password ends at the last @
# before the host, so an unescaped @ inside the password is masked too)
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^\s]*)@")
# password=... in a query string or a libpq connection string
_KEY_VALUE = re.compile(rf"(?P<head>\b{_SECRET_KEY}\s*=\s*)(?P<pw>'[^']*'|[^\s&;,)'\"]+)",
                        re.IGNORECASE)


def hide_credentials(text: str) -> str:
    """``text`` with every password in a URL or connection string replaced by ``***``.

    Parameters
    ----------
    text
        Any message: an error, a log line, a URL.

    Returns
    -------
    str
        The same text, each ``scheme://user:PASSWORD@`` and each ``password=VALUE`` (also
        ``sslpassword``, ``secret``, ``token`` and the like) masked.

    Examples
    --------
    >>> hide_credentials("cannot use postgresql://cpted:hunter2@db:5432/cpted")
    'cannot use postgresql://cpted:***@db:5432/cpted'
    """
    out = _USERINFO.sub(lambda m: f"{m['head']}{MASK}@", text)
    return _KEY_VALUE.sub(lambda m: f"{m['head']}{MASK}", out)


def safe_url(url: str | sa.URL) -> str:
    """``url`` as text for people: its password, and any secret query value, masked.

    Parameters
    ----------
    url
        A database URL, as text or as a SQLAlchemy :class:`~sqlalchemy.engine.URL`.

    Returns
    -------
    str
        The URL without any secret in it; text that is not a URL is masked with
        :func:`hide_credentials`.
    """
    try:
        parsed = sa.make_url(url) if isinstance(url, str) else url
    except Exception:  # not a URL SQLAlchemy can read: mask what looks like a secret
        return hide_credentials(str(url))
    query = {k: (MASK if re.fullmatch(_SECRET_KEY, k, re.IGNORECASE) else v)
             for k, v in parsed.query.items()}
    shown = parsed.set(query=query).render_as_string(hide_password=True)
    return hide_credentials(shown)
