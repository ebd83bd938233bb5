"""The languages the app speaks: gettext catalogues read with Babel, and Babel's dates,
numbers and money for the language.

Text meant for people is written in English in the code and wrapped, ``_("Save")``;
``N_("Save")`` marks text that is kept (a table of words at module level) and translated
where it is shown, ``_(WORDS[k])``. The catalogue of a language is
``cpted/locale/<code>/LC_MESSAGES/cpted.po``: adding a language is adding that file
(``pybabel init``, see the README), nothing else. Catalogues are read from the ``.po``
text at first use, so no compiled file is kept in the repository.

The language in use is a context variable: the app sets it at the start of each run
(:func:`use`) from the person's choice or their browser's ``Accept-Language``; the CLI,
mail and reports set it for what they make. Data people typed (descriptions, street
names) is never translated.

Strings asked for in a language whose catalogue lacks them are recorded
(:func:`missing`), so a test can render every page in a language and name what is
untranslated.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from babel import Locale, UnknownLocaleError, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from layers import _i18n as _layers_i18n

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "cpted"
#: The language the code is written in.
SOURCE = "en"

_current: ContextVar[str] = ContextVar("cpted_language", default=SOURCE)
_missing: set[tuple[str, str]] = set()


def available() -> list[str]:
    """Language codes with a catalogue, the source language first: ``["en", "es"]``."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return [SOURCE, *(c for c in found if c != SOURCE)]


def language_name(code: str) -> str:
    """A language by its own name, capitalised: ``"es"`` -> ``"Español"``."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


def negotiate(accept_language: str | None) -> str:
    """The best available language for an ``Accept-Language`` header (RFC 9110 quality
    values honoured), or the source language."""
    if not accept_language:
        return SOURCE
    wanted: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            key, _, value = p.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag and tag != "*" and q > 0:
            wanted.append((-q, i, tag.replace("_", "-")))
    preferred = [tag for _, _, tag in sorted(wanted)]
    got = Locale.negotiate(preferred, available(), sep="-")
    return str(got.language) if got else SOURCE


@functools.cache
def _catalogue(code: str, stamp: float) -> NullTranslations:
    """The catalogue of ``code`` as gettext reads it (``stamp``: the file's mtime, so an
    edited catalogue is read again)."""
    path = LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=code, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def translations(code: str) -> NullTranslations:
    if code == SOURCE:
        return NullTranslations()
    path = LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.is_file():
        return NullTranslations()
    return _catalogue(code, path.stat().st_mtime)


def current() -> str:
    """The language in use."""
    return _current.get()


def set_language(code: str) -> None:
    """Use ``code`` from now on in this context (an app run sets it at its start)."""
    _current.set(code if code in available() else SOURCE)


@contextlib.contextmanager
def use(code: str) -> Iterator[None]:
    """Speak ``code`` inside the ``with`` block."""
    token = _current.set(code if code in available() else SOURCE)
    try:
        yield
    finally:
        _current.reset(token)


def _(message: str) -> str:
    """``message`` in the language in use."""
    code = _current.get()
    if code == SOURCE or not message:
        return message
    t = translations(code)
    got = t.gettext(message)
    if got == message and message not in getattr(t, "_catalog", {}):
        _missing.add((code, message))
    return got


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for ``n`` (``"{n} supporter"``/``"{n} supporters"``) in the language in
    use; the caller formats ``n`` in."""
    code = _current.get()
    if code == SOURCE:
        return singular if n == 1 else plural
    t = translations(code)
    got = t.ngettext(singular, plural, n)
    if (singular, 0) not in getattr(t, "_catalog", {}):  # gettext keys plural forms so
        _missing.add((code, singular))
    return got


def N_(message: str) -> str:  # noqa: N802 (the name gettext tools look for)
    """Mark ``message`` for the catalogue without translating it now."""
    return message


def missing(code: str | None = None) -> set[str]:
    """Texts asked for in ``code`` (any language when None) that its catalogue lacks."""
    return {m for c, m in _missing if code is None or c == code}


def forget_missing() -> None:
    _missing.clear()


# -- numbers, money and dates in the language in use ------------------------------------

def _locale() -> str:
    return _current.get()


def number(value: float | int | Decimal, *, digits: int | None = None) -> str:
    """``12345.5`` -> ``"12,345.5"`` in English, ``"12.345,5"`` in Spanish; ``digits``
    fixes the decimals shown."""
    if digits is None:
        return numbers.format_decimal(value, locale=_locale())
    pattern = copy.copy(Locale.parse(_locale()).decimal_formats[None])
    pattern.frac_prec = (digits, digits)
    return numbers.format_decimal(value, format=pattern, locale=_locale())


def percent(share: float, *, digits: int = 0) -> str:
    """``0.512`` -> ``"51%"`` (``"51 %"`` in Spanish), with ``digits`` decimals."""
    pattern = copy.copy(Locale.parse(_locale()).percent_formats[None])
    pattern.frac_prec = (digits, digits)
    return numbers.format_percent(share, format=pattern, locale=_locale())


def money(amount: float | Decimal, currency: str = "USD", *, cents: bool = True) -> str:
    """``100000`` -> ``"$100,000.00"`` (``"100.000,00 US$"`` in Spanish)."""
    if cents:
        return numbers.format_currency(amount, currency, locale=_locale())
    return numbers.format_currency(amount, currency, format="¤#,##0", locale=_locale(),
                                   currency_digits=False)


def when(value: datetime, *, tz: str | None = None, seconds: bool = False) -> str:
    """A moment as a short local date and time: ``"Dec 1, 2026, 8:57 PM"`` in English,
    ``"1 dic 2026, 20:57"`` in Spanish. Naive values are taken as UTC."""
    from zoneinfo import ZoneInfo

    fmt: Literal["medium", "short"] = "medium" if seconds else "short"
    zone = ZoneInfo(tz) if tz else None
    return dates.format_datetime(value, format=f"{_date_format()} {_time_pattern(fmt)}",
                                 tzinfo=zone, locale=_locale())


def day(value: date | datetime) -> str:
    """A date: ``"Dec 1, 2026"``, ``"1 dic 2026"``."""
    return dates.format_date(value, format="medium", locale=_locale())


def _date_format() -> str:
    return str(dates.get_date_format("medium", locale=_locale()).pattern) + ","


def _time_pattern(fmt: Literal["medium", "short"]) -> str:
    return str(dates.get_time_format(fmt, locale=_locale()).pattern)


# layers/ speaks through these too, without importing cpted (see layers/_i18n.py).
_layers_i18n.install(_, ngettext, number, percent)
