"""User text made safe inside the Markdown that Streamlit renders, and the app's words for
the values it stores (:func:`value_word`).

``st.markdown``, ``st.caption``, ``st.write`` of a string, the alerts (``st.info`` ...),
headings, metric and widget labels, expander and tab labels all parse their text as
GitHub-flavoured Markdown, with ``$...$`` as LaTeX and ``:name:`` shortcodes. A pole id
or a place name of ``![x](http://elsewhere/p.png)`` would make every viewer's browser
fetch that picture. Whatever a person typed or a file brought (descriptions, addresses,
notes, names of places, spots, plans, poles, streets and categories, display names,
file names, messages that quote them) goes through :func:`md` before it is put into
such a string; or it is shown with ``st.text``, ``st.dataframe`` or a select box's
options, which are plain text.
"""

from __future__ import annotations

import re

from cpted import i18n
from cpted.i18n import N_, _

#: Characters written as HTML character references: inert in Markdown and in the raw
#: HTML that ``unsafe_allow_html=True`` lets through.
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", ":": "&#58;", "@": "&#64;"}

#: GitHub-flavoured Markdown links a bare ``http://host``, ``www.host`` or ``name@host``
#: found in the text *after* escapes and character references are decoded, so no
#: escaping stops it: a zero-width space (U+200B) inside each of them does, unseen.
_AUTOLINKS = re.compile(r"(?i)(://|www\.|@)")
_ZWSP = "\u200b"

#: Characters that mean something anywhere in a line, backslash-escaped (CommonMark lets
#: any ASCII punctuation be): images and links ``![]()``, emphasis ``*`` ``_`` ``~``,
#: code backticks, ``#``, tables ``|``, the backslash itself, ``$`` (LaTeX in
#: Streamlit).
_ANYWHERE = frozenset("\\`*_[]()!#|$~")

#: What starts a block when it begins the text: a list (``-``, ``+``, ``1.``, ``1)``),
#: a quote, a heading underline (``=``), a thematic break.
_BLOCK_START = re.compile(r"^(\d*)([-+=.)])")

_LINE_BREAKS = re.compile(r"\s*[\r\n]\s*")


def md(value: object) -> str:
    """``value`` as text that Markdown shows literally.

    Parameters
    ----------
    value
        Any user-provided value; ``None`` gives ``""``, anything else its ``str``.

    Returns
    -------
    str
        The text with ``<``, ``>`` and ``&`` as character references, every character
        that is markup anywhere in a line backslash-escaped, a list, quote or heading
        marker at its start escaped, ``www.`` and ``scheme:`` made unlinkable, and line
        breaks (with the indentation around them) made single spaces, so the text
        cannot start a block, a code block or a table either.

    """
    text = _LINE_BREAKS.sub(" ", "" if value is None else str(value)).strip()
    text = _AUTOLINKS.sub(lambda m: m[1][0] + _ZWSP + m[1][1:], text)
    out = "".join(_ENTITIES.get(ch) or ("\\" + ch if ch in _ANYWHERE else ch) for ch in text)
    out = _BLOCK_START.sub(lambda m: m[1] + "\\" + m[2], out)
    return out


# -- the app's words for stored values -----------------------------------------------------

#: A concern's stored values (its status, progress, time of day, how exactly its place is
#: shown) as words on a page. In English a status reads as stored; a time of day in the
#: report form's words (``"Day"``: a msgid ``"day"`` would be a calendar day's too).
VALUE_WORDS = {
    "open": N_("open"), "closed": N_("closed"),
    "submitted": N_("submitted"), "acknowledged": N_("acknowledged"),
    "in progress": N_("in progress"), "action scheduled": N_("action scheduled"),
    "fixed": N_("fixed"), "not fixed - no further action": N_("not fixed - no further action"),
    "duplicate": N_("duplicate"), "referred": N_("referred"),
    "day": N_("Day"), "night": N_("Night"), "unknown": N_("Not known"),
    "exact": N_("exact"),
}
#: How the privacy rules write an approximate place (:func:`cpted.privacy.concerns_for`).
_GRID = re.compile(r"(\d+(?:\.\d+)?) m grid")


def value_word(value: object) -> str:
    """A stored value in the language in use: ``"in progress"`` -> ``"en curso"``; a
    sensitive report's ``"250 m grid"`` with its number written the language's way;
    anything else (a value a deployment added) as it is, ``""`` for none."""
    if not isinstance(value, str):
        return "" if value is None or value != value else str(value)
    if value in VALUE_WORDS:
        return _(VALUE_WORDS[value])
    if grid := _GRID.fullmatch(value):
        return _("{m} m grid").format(m=i18n.number(float(grid[1])))
    return value
