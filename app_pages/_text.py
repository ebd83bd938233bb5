"""User text made safe inside the Markdown that Streamlit renders.

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
import string

#: Characters written as HTML character references: inert in Markdown and in the raw
#: HTML that ``unsafe_allow_html=True`` lets through.
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}

#: Every other ASCII punctuation character may be backslash-escaped in CommonMark:
#: ``!``, ``[``, ``]``, ``(``, ``)``, ``*``, ``_``, backticks, ``#``, ``|``, ``\``,
#: ``$`` (LaTeX in Streamlit), ``:`` (shortcodes), ``~``, ``-``, ``+``, ``.`` ...
_BACKSLASHED = frozenset(string.punctuation) - frozenset(_ENTITIES)

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
        The text with ``<``, ``>`` and ``&`` as character references, every other ASCII
        punctuation character backslash-escaped, and line breaks (with the indentation
        after them) made single spaces, so the text cannot start a list, a heading, a
        code block or a table either.

    """
    text = "" if value is None else str(value)
    text = _LINE_BREAKS.sub(" ", text)
    return "".join(_ENTITIES.get(ch) or ("\\" + ch if ch in _BACKSLASHED else ch)
                   for ch in text)
