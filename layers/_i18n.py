"""Words for people written in ``layers/``, in the language in use.

``layers/`` never imports ``cpted``, yet its refusals, row rejections and notes are read
by people in their own language. The catalogue and the language in use belong to
:mod:`cpted.i18n`, which installs its functions here when it is imported
(:func:`install`), so there is one implementation of both. Until then (``layers`` used on
its own) text stays as written, in English. ``babel.cfg`` extracts ``layers/`` into the
same catalogue.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

Number = float | int | Decimal


def _same(message: str) -> str:
    return message


def _english_plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def _english_number(value: Number, *, digits: int | None = None) -> str:
    return f"{value:,}" if digits is None else f"{value:,.{digits}f}"


_gettext: Callable[[str], str] = _same
_ngettext: Callable[[str, str, int], str] = _english_plural
def _english_percent(share: float, *, digits: int = 0) -> str:
    return f"{share:.{digits}%}"


_number: Callable[..., str] = _english_number
_percent: Callable[..., str] = _english_percent


def install(gettext: Callable[[str], str], ngettext: Callable[[str, str, int], str],
            number: Callable[..., str], percent: Callable[..., str]) -> None:
    """Translate through these from now on (:mod:`cpted.i18n` calls this once)."""
    global _gettext, _ngettext, _number, _percent
    _gettext, _ngettext, _number, _percent = gettext, ngettext, number, percent


def _(message: str) -> str:
    """``message`` in the language in use."""
    return _gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for ``n`` in the language in use; the caller formats ``n`` in."""
    return _ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 (the name gettext tools look for)
    """Mark ``message`` for the catalogue without translating it now."""
    return message


def number(value: Number, *, digits: int | None = None) -> str:
    """``12345`` -> ``"12,345"`` in English, ``"12.345"`` in Spanish; ``digits`` fixes
    the decimals shown."""
    return _number(value, digits=digits)


def percent(share: float, *, digits: int = 0) -> str:
    """``0.9`` -> ``"90%"`` in English, ``"90 %"`` in Spanish."""
    return _percent(share, digits=digits)
