"""Charts of :mod:`cpted.agreement` for the Audits page: matplotlib PNGs, axes in words
(the language in use), readable in black and white (positions and markers, not colour
alone). The items' and principles' names are drawn as given: the caller passes them in
the reader's language."""

from __future__ import annotations

import io

import matplotlib
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from cpted import i18n
from cpted.agreement import KAPPA_WORDS, Driver
from cpted.i18n import N_, _

BLUE, GREY = "#2c7bb6", "#777777"
#: :mod:`cpted.agreement`'s words for kappa (:data:`~cpted.agreement.KAPPA_WORDS`, what
#: :func:`~cpted.agreement.kappa_words` says of no kappa, and an item where every auditor
#: answered alike), for the catalogue; a test holds them equal to the domain's.
KAPPA_SAID: frozenset[str] = frozenset({
    N_("almost perfect"), N_("substantial"), N_("moderate"), N_("fair"), N_("slight"),
    N_("poor (less than chance)"), N_("not defined"), N_("everyone gave the same answer")})


def kappa_said(words: str) -> str:
    """Words of :mod:`cpted.agreement` about a kappa in the language in use (others as
    they are)."""
    return _(words) if words in KAPPA_SAID else words


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=150)
    plt.close(fig)
    return out.getvalue()


def _numbers(ax: Axes) -> None:
    """The x axis's numbers written the language's way (``0,2`` in Spanish)."""
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: i18n.number(round(v, 2))))


def kappa_chart(items: pd.DataFrame) -> bytes:
    """Fleiss' kappa of each item (``Agreement.items``), one bar an item, with Landis and
    Koch's bands marked; items where kappa is not defined are left out."""
    rows = items.dropna(subset=["kappa"]).iloc[::-1]
    fig, ax = plt.subplots(figsize=(8.0, 0.22 * len(rows) + 1.6), layout="constrained")
    labels = [f"{p}: {q[:40]}{'…' if len(q) > 40 else ''}"
              for p, q in zip(rows["principle"], rows["question"], strict=True)]
    ax.barh(range(len(rows)), rows["kappa"].astype(float), color=BLUE, height=0.7)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels, fontsize=6)
    # Landis and Koch's bands, named above the plot where each starts
    for lo, word in KAPPA_WORDS[:-1]:
        ax.axvline(lo, color=GREY, linewidth=0.6, linestyle=":")
        ax.text(lo + 0.01, 1.005, kappa_said(word), transform=ax.get_xaxis_transform(), fontsize=6,
                color=GREY, ha="left", va="bottom", rotation=35)
    ax.axvline(0, color="black", linewidth=0.8)
    _numbers(ax)
    ax.set_xlim(min(-0.4, float(rows["kappa"].min()) - 0.05) if len(rows) else -0.4, 1.0)
    ax.set_xlabel(_("Fleiss' kappa: agreement beyond chance\n(0 = as chance would give, "
                    "1 = always the same answer)"), fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def drivers_chart(drivers: list[Driver]) -> bytes:
    """Each principle's rank correlation with feeling safe and its 95% interval (a dot and
    a line); principles with too few audits are left out."""
    rows = [d for d in drivers if d.rho is not None][::-1]
    fig, ax = plt.subplots(figsize=(6.4, 0.32 * len(rows) + 1.0), layout="constrained")
    for y, d in enumerate(rows):
        assert d.rho is not None and d.low is not None and d.high is not None
        ax.plot([d.low, d.high], [y, y], color=GREY, linewidth=2)
        ax.plot([d.rho], [y], "o", color=BLUE)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([d.principle for d in rows], fontsize=8)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlim(-1, 1)
    _numbers(ax)
    ax.set_xlabel(_("rank correlation with feeling safe (dot)\nand its {level} interval "
                    "(line)").format(level=i18n.percent(0.95)), fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)
