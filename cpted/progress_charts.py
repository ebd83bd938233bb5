"""Charts and tables of :mod:`cpted.progress` for a meeting: matplotlib PNGs (the Progress
page's downloads and the neighborhood brief's figures) and tables with plain labels.

Every chart is of one neighborhood over its months, titled with the neighborhood's name,
its axes labelled in words, and readable in black and white (markers and hatching, not
colour alone).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from babel import dates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FuncFormatter, MaxNLocator

from cpted import i18n
from cpted.i18n import N_, _, ngettext
from cpted.progress import MEASURES, SAFETY_SCALE, Progress

BLUE, ORANGE, GREY = "#2c7bb6", "#d7191c", "#999999"


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    caption: str
    draw: Callable[[Axes, pd.DataFrame, Progress], None]


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    # a constrained layout draws once; bbox_inches="tight" would draw twice
    fig.savefig(out, format="png", dpi=150)
    plt.close(fig)
    return out.getvalue()


def month_label(month: pd.Period) -> str:
    """``Mar 2025`` (``mar 2025``): a month as a meeting reads it, in the language in use."""
    return dates.format_skeleton("yMMM", month.to_timestamp(), locale=i18n.current())


def _level(share: float) -> str:
    """A confidence level as the language writes a share: ``95%``, ``95 %``."""
    return i18n.percent(share)


def _months_axis(ax: Axes, months: pd.PeriodIndex) -> None:
    step = max(1, int(np.ceil(len(months) / 12)))
    ticks = list(range(0, len(months), step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([dates.format_date(m.to_timestamp(), "LLL", locale=i18n.current())
                        + "\n" + dates.format_date(m.to_timestamp(), "y",
                                                    locale=i18n.current())
                        for m in months[ticks]], fontsize=7)
    ax.set_xlim(-0.7, len(months) - 0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="y", labelsize=8)


def _legend(ax: Axes, *extra: Axes, inside: bool = False) -> None:
    """The legend above the plot, right, on the title's line (the title is left); or
    inside it, top left, for a longer one."""
    handles, labels = ax.get_legend_handles_labels()
    for other in extra:
        h, lab = other.get_legend_handles_labels()
        handles, labels = handles + h, labels + lab
    if inside:
        ax.legend(handles, labels, fontsize=7, loc="upper left", framealpha=0.85)
        return
    ax.legend(handles, labels, fontsize=7, frameon=False, loc="lower right",
              bbox_to_anchor=(1.0, 1.0), ncols=len(labels), borderaxespad=0.2)


def _counts_axis(ax: Axes, top: float) -> None:
    """A y axis of whole numbers from 0, with room over the highest bar."""
    ax.set_ylim(0, max(1.0, top) * 1.2)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def _nothing(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=9,
            color="#555555")


def _bars(ax: Axes, x: np.ndarray, series: list[tuple[str, pd.Series, str, str]]) -> None:
    width = 0.8 / len(series)
    for k, (label, values, colour, hatch) in enumerate(series):
        ax.bar(x - 0.4 + width * (k + 0.5), values.to_numpy(dtype=float), width, label=label,
               color=colour, hatch=hatch, edgecolor="black", linewidth=0.3)


def _reports(ax: Axes, m: pd.DataFrame, _progress: Progress) -> None:
    x = np.arange(len(m))
    _bars(ax, x, [(_("reports opened"), m["opened"], BLUE, ""),
                  (_("reports closed"), m["closed"], ORANGE, "//")])
    re = m["reopened"].to_numpy(dtype=float)
    if re.any():
        ax.plot(x[re > 0], re[re > 0], "kv", markersize=5, label=_("reopened"))
    _legend(ax)
    _counts_axis(ax, float(m[["opened", "closed"]].to_numpy(dtype=float).max(initial=0)))
    ax.set_ylabel(_("reports"))


def _closing(ax: Axes, m: pd.DataFrame, _progress: Progress) -> None:
    x = np.arange(len(m))
    share = m["closed_within_target"].to_numpy(dtype=float) * 100
    ax.bar(x, np.nan_to_num(share), 0.7, color=BLUE, edgecolor="black", linewidth=0.3,
           label=_("closed within target (%)"))
    for xi, s, n in zip(x, share, m["due"], strict=True):
        if n:
            ax.text(float(xi), (0 if np.isnan(s) else s) + 2, f"{n}", ha="center", fontsize=6,
                    color="#333333")
    ax.set_ylim(0, 110)
    ax.set_ylabel(_("% of reports due"))
    right = ax.twinx()
    right.plot(x, m["median_days_to_close"].to_numpy(dtype=float), "o-", color=ORANGE,
               markersize=3, label=_("median days to close"))
    right.set_ylabel(_("median days to close"), fontsize=8)
    right.set_ylim(bottom=0)
    right.spines[["top"]].set_visible(False)
    right.tick_params(axis="y", labelsize=8)
    _legend(ax, right)


def _plans(ax: Axes, m: pd.DataFrame, _progress: Progress) -> None:
    x = np.arange(len(m))
    ax.bar(x, m["plans_done"].to_numpy(dtype=float), 0.7, color=BLUE, edgecolor="black",
           linewidth=0.3, label=_("plans done"))
    ax.plot(x, m["plans_overdue"].to_numpy(dtype=float), "s-", color=ORANGE, markersize=3,
            label=_("overdue at month end"))
    ax.set_ylabel(_("action plans"))
    _counts_axis(ax, float(m[["plans_done", "plans_overdue"]].to_numpy(dtype=float)
                           .max(initial=0)))
    _legend(ax)
    if not m[["plans_done", "plans_overdue"]].to_numpy().any():
        _nothing(ax, _("No action plan done or overdue here in these months"))


def _audits(ax: Axes, m: pd.DataFrame, _progress: Progress) -> None:
    x = np.arange(len(m))
    score = m["audit_score"].to_numpy(dtype=float)
    ax.plot(x, score, "o", color=BLUE, markersize=6, label=_("mean overall score"))
    for xi, s, n in zip(x, score, m["audits_rated"], strict=True):
        if n:
            ax.annotate(f"n={i18n.number(int(n))}", (xi, s), textcoords="offset points",
                        xytext=(0, 6), ha="center", fontsize=6)
    ax.set_ylim(0, 105)
    ax.set_ylabel(_("score (0-100)"))
    _legend(ax)
    if not m["audits_rated"].any():
        _nothing(ax, _("No rated audit here in these months"))
    left_out = int(m["audits_not_rated"].sum())
    if left_out:
        ax.text(0.0, 0.02, ngettext("{n} audit left out: too few answers",
                                    "{n} audits left out: too few answers",
                                    left_out).format(n=i18n.number(left_out)),
                transform=ax.transAxes, fontsize=6, color="#555555")


def _lights(ax: Axes, m: pd.DataFrame, _progress: Progress) -> None:
    x = np.arange(len(m))
    _bars(ax, x, [(_("before the repair"), m["night_before"], GREY, ""),
                  (_("after the repair"), m["night_after"], BLUE, "//")])
    top = np.maximum(m["night_before"].to_numpy(dtype=float),
                     m["night_after"].to_numpy(dtype=float))
    for xi, t, n, w in zip(x, top, m["repairs"], m["repairs_watching"], strict=True):
        if n:
            ax.annotate(f"{i18n.number(int(n))}{'*' if w else ''}", (xi, t),
                        textcoords="offset points",
                        xytext=(0, 3), ha="center", fontsize=6)
    ax.set_ylabel(_("night-time concerns"))
    _counts_axis(ax, float(top.max(initial=0)))
    _legend(ax)
    if not m["repairs"].any():
        _nothing(ax, _("No light repaired here in these months"))
    if m["repairs_watching"].any():
        ax.text(0.0, 0.97, _("* after window not over yet: counted so far"),
                transform=ax.transAxes, va="top", fontsize=6, color="#555555")


def _intervals(ax: Axes, m: pd.DataFrame, mean: str, low: str, high: str, scale: float,
               p: Progress, colour: str, label: str) -> None:
    x = np.arange(len(m))
    centre = m[mean].to_numpy(dtype=float) * scale
    lo = m[low].to_numpy(dtype=float) * scale
    hi = m[high].to_numpy(dtype=float) * scale
    ok = ~np.isnan(centre)
    err = np.vstack([centre - np.where(np.isnan(lo), centre, lo),
                     np.where(np.isnan(hi), centre, hi) - centre])
    ax.errorbar(x[ok], centre[ok], yerr=err[:, ok], fmt="o", color=colour, ecolor=colour,
                elinewidth=1, capsize=3, markersize=4, label=label)
    # the number of answers along the bottom, inside the plot (the caller leaves room)
    bottom = ax.get_xaxis_transform()
    for xi, n, good in zip(x, m["survey_answers"], ok, strict=True):
        if n:
            ax.text(float(xi), 0.02, i18n.number(int(n)), ha="center", fontsize=6,
                    transform=bottom, color="black" if good else GREY)
    ax.plot([], [], " ", label=_("along the bottom: answers (grey: fewer than {n}, not "
                                 "shown)").format(n=i18n.number(p.min_survey_answers)))
    _legend(ax, inside=True)
    if not m["survey_answers"].any():
        _nothing(ax, _("No survey answers here in these months"))


def _safety(ax: Axes, m: pd.DataFrame, p: Progress) -> None:
    _intervals(ax, m, "safe_mean", "safe_low", "safe_high", 1.0, p, BLUE,
               _("mean, {level} t interval").format(level=_level(0.95)))
    ax.set_ylim(0.5, 5.9)
    ax.set_yticks(list(SAFETY_SCALE))
    # the scale's words are marked for the catalogue in app_pages/_words.py (SURVEY_WORDS)
    ax.set_yticklabels([f"{k} {_(v).lower()}" for k, v in SAFETY_SCALE.items()], fontsize=7)


def _contact(ax: Axes, m: pd.DataFrame, p: Progress) -> None:
    _intervals(ax, m, "knows_contact", "knows_low", "knows_high", 100.0, p, ORANGE,
               _("share yes, {level} Wilson interval").format(level=_level(0.95)))
    ax.set_ylim(-9, 125)
    ax.set_yticks([0, 20, 40, 60, 80, 100])
    ax.set_ylabel(_("% who know"), fontsize=8)


CHARTS: tuple[Chart, ...] = (
    Chart("reports", N_("Reports opened and closed"),
          "Reports made and closed each month; triangles mark reopenings.", _reports),
    Chart("closing", N_("Closing on time"),
          "Bars: of the reports whose category's target fell in the month, the share closed "
          "by then (their number above). Line: median days from report to close of the "
          "reports closed in the month.", _closing),
    Chart("plans", N_("Action plans"),
          "Plans marked done each month, and plans overdue at each month's end.", _plans),
    Chart("audits", N_("CPTED audit scores"),
          "Mean overall score of the audits made in the month, counting only audits with "
          "enough answers to rate.", _audits),
    Chart("lights", N_("Night-time concerns near repaired lights"),
          "For the lights repaired each month (their number over the bars): night-time "
          "concerns within 100 m in the 90 days before and after the repair. Reports are "
          "not crime, and a change is not proof that a repair worked.", _lights),
    Chart("safety", N_("How safe people feel walking here after dark"),
          "Survey answers, 1 (very unsafe) to 5 (very safe): the month's mean with its 95% "
          "t interval; the number of answers along the bottom.", _safety),
    Chart("contact", N_("People who know whom to contact about a problem"),
          "Survey answers: the share answering yes with its 95% Wilson score interval; the "
          "number of answers along the bottom.", _contact),
)


def chart_png(progress: Progress, neighborhood_id: str, key: str, *,
              last: int | None = None) -> bytes:
    """One chart (``key`` of :data:`CHARTS`) of one neighborhood as PNG bytes, over its
    ``last`` months (all when None).

    Raises
    ------
    KeyError
        An unknown chart or neighborhood (the message lists the known ones).
    """
    charts = {c.key: c for c in CHARTS}
    if key not in charts:
        raise KeyError(f"no chart {key!r}; expected one of {', '.join(charts)}")
    if str(neighborhood_id) not in progress.names:
        raise KeyError(f"no neighborhood {neighborhood_id!r}; expected one of "
                       f"{', '.join(progress.names)}")
    chart = charts[key]
    m = progress.of(neighborhood_id)
    if last is not None:
        m = m.iloc[-last:]
    fig, ax = plt.subplots(figsize=(7.5, 3.1), layout="constrained")
    chart.draw(ax, m, progress)
    _months_axis(ax, pd.PeriodIndex(m.index))
    for axis in fig.axes:  # tick numbers written the language's way ("2,5" in Spanish)
        if not isinstance(axis.yaxis.get_major_formatter(), FixedFormatter):
            axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: i18n.number(v)))
    ax.set_title(_("{neighborhood}: {chart}").format(
        neighborhood=progress.names[str(neighborhood_id)], chart=_(chart.title)), fontsize=10,
        loc="left")
    return _png(fig)


def chart_pngs(progress: Progress, neighborhood_id: str, *,
               last: int | None = None) -> dict[str, bytes]:
    """Every chart of :data:`CHARTS` for one neighborhood, by key, in order."""
    return {c.key: chart_png(progress, neighborhood_id, c.key, last=last) for c in CHARTS}


def month_table(progress: Progress, neighborhood_id: str, *,
                last: int | None = None) -> pd.DataFrame:
    """One neighborhood's months as a table with plain column labels (:data:`MEASURES`),
    newest first; shares as percentages (0-100)."""
    m = progress.of(neighborhood_id)
    if last is not None:
        m = m.iloc[-last:]
    out = m.copy()
    for share in ("closed_within_target", "knows_contact", "knows_low", "knows_high"):
        out[share] = out[share] * 100
    out.insert(0, "month", [month_label(p) for p in m.index])
    return out.iloc[::-1].rename(columns={"month": "Month", **MEASURES}).reset_index(drop=True)


def _fmt(value: object, kind: str) -> str:
    """A value of the brief's table written the way of the language in use."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    v = float(value)  # type: ignore[arg-type]
    if kind == "share":
        return i18n.percent(v)
    if kind == "one":
        return i18n.number(v, digits=1)
    return i18n.number(v, digits=0)


def brief_table(progress: Progress, neighborhood_id: str, *, last: int = 6) -> pd.DataFrame:
    """The brief's table: one row a measure, one column each of the ``last`` months (oldest
    first), every value as text in the language in use; intervals in brackets. The first
    column is named "Measure" (in the language in use)."""
    m = progress.of(neighborhood_id).iloc[-last:]
    rows: list[tuple[str, list[str]]] = []

    def add(label: str, values: list[str]) -> None:
        rows.append((label, values))

    def pair(a: object, b: object) -> str:
        return f"{_fmt(a, 'n')} / {_fmt(b, 'n')}"

    r = list(m.itertuples())
    add(_("Reports opened"), [_fmt(x.opened, "n") for x in r])
    add(_("Reports closed"), [_fmt(x.closed, "n") for x in r])
    add(_("Median days to close"), [_fmt(x.median_days_to_close, "one") for x in r])
    add(_("Closed within target"), [
        _("{share} of {due}").format(share=_fmt(x.closed_within_target, "share"),
                                      due=_fmt(x.due, "n"))
        if x.due else "–" for x in r])
    add(_("Reopened"), [_fmt(x.reopened, "n") for x in r])
    add(_("Plans done / overdue"), [pair(x.plans_done, x.plans_overdue) for x in r])
    add(_("Mean audit score (rated)"), [f"{_fmt(x.audit_score, 'n')} ({_fmt(x.audits_rated, 'n')})"
                                        if x.audits_rated else "–" for x in r])
    add(_("Lights repaired"), [_fmt(x.repairs, "n") for x in r])
    add(_("Night concerns near them, before / after"),
        [pair(x.night_before, x.night_after) if x.repairs else "–" for x in r])
    add(_("Survey answers"), [_fmt(x.survey_answers, "n") for x in r])
    add(_("Feeling safe after dark (1-5)"),
        [f"{_fmt(x.safe_mean, 'one')} [{_fmt(x.safe_low, 'one')}-{_fmt(x.safe_high, 'one')}]"
         if not np.isnan(x.safe_mean) else "–" for x in r])
    add(_("Know whom to contact"),
        [f"{_fmt(x.knows_contact, 'share')} [{_fmt(x.knows_low, 'share')}-"
         f"{_fmt(x.knows_high, 'share')}]"
         if not np.isnan(x.knows_contact) else "–" for x in r])
    cols = [_("Measure"), *(month_label(p) for p in m.index)]
    return pd.DataFrame([[label, *values] for label, values in rows], columns=cols)
