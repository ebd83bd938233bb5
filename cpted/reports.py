"""Printable reports: one assessment, and a neighborhood brief for meetings.

Each report is gathered once into plain data, then written as self-contained
HTML (images inlined) or as PDF (reportlab). Maps are drawn with matplotlib
from the stored layers, with no web tiles, so a report can be made offline.
Every piece of user text is escaped for the format it lands in.

A report is written in a language (``language``: the one in use by default): its titles,
headings, table headers, captions and chart words from the catalogue, its dates and
numbers the language's way (:mod:`cpted.i18n`). What people typed (place names, notes,
neighborhood names) is never translated; the shipped instrument's and categories' texts
are, through the catalogue.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape as xml_escape

import geopandas as gpd
import matplotlib
import pandas as pd
import shapely

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from cpted import assessments as au
from cpted import i18n
from cpted.i18n import N_, _, ngettext
from cpted.instrument import Instrument
from cpted.isovist import IsovistError, isovist_at
from cpted.scoring import NOT_ENOUGH_ANSWERS, Scorecard, compare, score_label
from layers.crs import WGS84, metric_crs
from layers.errors import UnusableInputError
from layers.schema import Layer
from layers.store import Store

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

BAND_COLORS = {"Strong": "#1a9850", "Adequate": "#91cf60", "Weak": "#fc8d59",
               "Poor": "#d73027", "Not scored": "#bbbbbb", NOT_ENOUGH_ANSWERS: "#e0e0e0"}


def score_color(value: float | None) -> str:
    return BAND_COLORS[score_label(value)]


#: The labels :mod:`cpted.scoring` computes (kept in English in data: maps colour by
#: them), marked for the catalogue and translated where a report shows one.
LABEL_WORDS = frozenset({N_("Strong"), N_("Adequate"), N_("Weak"), N_("Poor"),
                         N_("Not scored"), N_("Not enough answers"), N_("high"),
                         N_("medium"), N_("low"), N_("Overall (design)")})
#: An audit's period as a table shows it.
PERIOD_WORDS = {"day": N_("Day"), "night": N_("Night")}


def label_word(label: str) -> str:
    """A score's label in the language in use; anything else as it is."""
    return _(label) if label in LABEL_WORDS else label


def data_word(text: str) -> str:
    """A text of the shipped data (an instrument's principle, question, recommendation;
    a category's name) in the language in use: the catalogue holds the shipped ones, and
    a deployment's own reads as written."""
    stripped = (text or "").strip()
    return _(stripped) if stripped else text


@contextmanager
def _speaking(language: str | None) -> Iterator[None]:
    """Inside: ``language`` (None: the one in use)."""
    with i18n.use(language or i18n.current()):
        yield


def _png(fig: Figure) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=150, bbox_inches="tight")
    plt.close(fig)
    return out.getvalue()


# -- charts and static maps ----------------------------------------------------------

def score_chart(card: Scorecard) -> bytes:
    """Horizontal bars of the principle scores (0-100), coloured by label."""
    rows = list(reversed(card.principles))
    fig, ax = plt.subplots(figsize=(6.4, 0.34 * len(rows) + 0.8))
    values = [p.score or 0.0 for p in rows]
    ax.barh([data_word(p.principle.name) for p in rows], values,
            color=[score_color(p.score) for p in rows])
    for y, p in enumerate(rows):
        text = _("not scored") if p.score is None else i18n.number(p.score, digits=0)
        ax.text((p.score or 0) + 1.5, y, text, va="center", fontsize=8)
    ax.set_xlim(0, 105)
    ax.set_xlabel(_("score (0-100)"))
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="y", labelsize=8)
    return _png(fig)


def trend_chart(trend: pd.DataFrame) -> bytes:
    """Overall score of each audit of one place over time, day and night marked.

    ``trend`` holds :func:`cpted.assessments.same_place` rows; an audit with not enough
    answers to rate it is a gap in its line, not a point.
    """
    fig, ax = plt.subplots(figsize=(6.4, 2.4))
    overall = au.rated(trend)
    for period, marker, label in (("night", "s", _("night audits")),
                                  ("day", "o", _("day audits"))):
        sub = trend["period"] == period
        if sub.any():
            ax.plot(trend.loc[sub, "assessed_at"].dt.tz_localize(None), overall[sub],
                    marker=marker, label=label)
    ax.set_ylim(0, 100)
    ax.set_ylabel(_("overall score"))
    ax.legend(fontsize=8, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)
    fig.autofmt_xdate()
    return _png(fig)


def _frame(ax: Axes, bounds: Sequence[float], pad: float) -> None:
    minx, miny, maxx, maxy = bounds
    w, h = maxx - minx, maxy - miny
    side = max(w, h) + 2 * pad
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    ax.set_xlim(cx - side / 2, cx + side / 2)
    ax.set_ylim(cy - side / 2, cy + side / 2)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    # a scale bar of a round length, bottom left
    bar = next(b for b in (2000, 1000, 500, 200, 100, 50, 20) if b <= side / 4)
    x0, y0 = cx - side / 2 + side * 0.05, cy - side / 2 + side * 0.05
    ax.plot([x0, x0 + bar], [y0, y0], color="black", linewidth=2)
    ax.text(x0, y0 + side * 0.015, _("{n} m").format(n=i18n.number(bar)), fontsize=7)


def place_map(store: Store, geometry: shapely.Geometry, *,
              isovist: shapely.Geometry | None = None, pad_m: float = 120.0) -> bytes:
    """A static map of one place among the buildings and streets around it."""
    place = gpd.GeoSeries([geometry], crs=WGS84)
    crs = metric_crs(place)
    here = place.to_crs(crs)
    box = here.total_bounds
    window = shapely.box(*box).buffer(pad_m * 1.5)
    window_ll = gpd.GeoSeries([window], crs=crs).to_crs(WGS84).iloc[0]
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    for layer, style in ((Layer.BUILDINGS, {"color": "#c9c3b8", "edgecolor": "#8c857a",
                                            "linewidth": 0.4}),
                         (Layer.STREETS, {"color": "#777777", "linewidth": 1.2})):
        g = store.read(layer)
        if len(g):
            g = g[g.intersects(window_ll)]
        if len(g):
            g.to_crs(crs).plot(ax=ax, **style)
    if isovist is not None:
        gpd.GeoSeries([isovist], crs=WGS84).to_crs(crs).plot(
            ax=ax, color="#4575b4", alpha=0.25, edgecolor="#4575b4", linewidth=0.6)
    if geometry.geom_type == "Point":
        here.plot(ax=ax, color="#d73027", markersize=60, edgecolor="white", zorder=5)
    elif "Polygon" in geometry.geom_type:
        here.plot(ax=ax, facecolor="#d7302733", edgecolor="#d73027", linewidth=2, zorder=5)
    else:
        here.plot(ax=ax, color="#d73027", linewidth=4, zorder=5)
    _frame(ax, box, pad_m)
    return _png(fig)


def neighborhood_map(hood: gpd.GeoSeries, audits: gpd.GeoDataFrame,
                     concerns: gpd.GeoDataFrame) -> bytes:
    crs = metric_crs(hood)
    fig, ax = plt.subplots(figsize=(6, 6))
    hood.to_crs(crs).boundary.plot(ax=ax, color="#333333", linewidth=1.5)
    if len(concerns):
        concerns.to_crs(crs).plot(ax=ax, color="#7b3294", markersize=6, alpha=0.6)
    if len(audits):
        pts = gpd.GeoSeries(gpd.points_from_xy(audits["lon"], audits["lat"]), crs=WGS84)
        pts.to_crs(crs).plot(ax=ax, color=[BAND_COLORS[str(v)] for v in audits["label"]],
                             markersize=70, edgecolor="black", linewidth=0.6, zorder=5)
    _frame(ax, hood.to_crs(crs).total_bounds, 60.0)
    return _png(fig)


# -- the assessment report -------------------------------------------------------------

@dataclass
class AssessmentReport:
    assessment: au.Assessment
    instrument: Instrument
    card: Scorecard
    neighborhood: str | None
    map_png: bytes
    chart_png: bytes
    photos: list[tuple[str, bytes]]
    sightline: tuple[float, float] | None  # (area m2, openness) for a point place
    previous: pd.DataFrame | None  # comparison with the last audit of the same place
    trend_png: bytes | None = None
    day_night: pd.DataFrame | None = None
    made_at: datetime = field(default_factory=lambda: datetime.now().astimezone())
    #: The audits of the same place (:func:`cpted.assessments.same_place`), so the trend
    #: chart can be drawn again in another language.
    trend: pd.DataFrame | None = None
    #: The language the charts were drawn in.
    language: str = i18n.SOURCE

    def charts_in(self, language: str) -> tuple[bytes, bytes | None]:
        """The score chart and trend chart in ``language`` (drawn again when the report
        was gathered in another)."""
        if language == self.language:
            return self.chart_png, self.trend_png
        with i18n.use(language):
            trend = (trend_chart(self.trend) if self.trend is not None and len(self.trend) > 1
                     else self.trend_png)
            return score_chart(self.card), trend


def _hood_name(store: Store, nid: str | None) -> str | None:
    if nid is None:
        return None
    hoods = store.read(Layer.NEIGHBORHOODS, ids=[nid])
    return None if hoods.empty else str(hoods["name"].iloc[0] or nid)


def assessment_report(store: Store, assessment_id: str, *, language: str | None = None
                      ) -> AssessmentReport:
    """One audit gathered for printing, its charts drawn in ``language`` (default: the
    one in use)."""
    with _speaking(language):
        return _assessment_report(store, assessment_id)


def _assessment_report(store: Store, assessment_id: str) -> AssessmentReport:
    a = au.get_assessment(store, assessment_id)
    instrument = au.instrument_of(store, a)
    card = au.scorecard(store, a)
    iso = None
    sightline = None
    if a.geometry.geom_type == "Point":
        buildings = store.read(Layer.BUILDINGS)
        try:
            placed = isovist_at(a.geometry.x, a.geometry.y, buildings)
            iso = placed.polygon_wgs84
            sightline = (placed.isovist.area_m2, placed.isovist.openness)
        except IsovistError:
            pass
    trend = au.same_place(store, assessment_id)
    earlier = trend[trend["assessed_at"] < a.assessed_at]
    previous = None
    if len(earlier):
        prev = au.get_assessment(store, earlier["id"].iloc[-1])
        previous = compare(au.scorecard(store, prev), card)
        previous.attrs["date"] = prev.assessed_at
    day_night = None
    pair = au.day_and_night(store, assessment_id)
    if pair is not None:
        day_night = compare(au.scorecard(store, pair[0]), au.scorecard(store, pair[1])).rename(
            columns={"before": "day", "after": "night", "change": "night - day"})
    return AssessmentReport(
        assessment=a, instrument=instrument, card=card,
        neighborhood=_hood_name(store, a.neighborhood_id),
        map_png=place_map(store, a.geometry, isovist=iso), chart_png=score_chart(card),
        photos=[(m, d) for _, m, d in au.photos(store, assessment_id)],
        sightline=sightline, previous=previous,
        trend_png=trend_chart(trend) if len(trend) > 1 else None, day_night=day_night,
        trend=trend, language=i18n.current())


def _fmt(v: float | None) -> str:
    return "–" if v is None or pd.isna(v) else i18n.number(float(v), digits=0)


def overall_line(card: Scorecard) -> str:
    """The report's headline: the overall score and band, or why there is none."""
    if card.enough_answers:
        text = _("Overall: {score} / 100 ({label}), confidence {confidence} "
                 "({confidence_label}). Feeling of safety: {safety} / 100.")
    else:
        text = _("Overall: not enough answers ({coverage}), confidence {confidence} "
                 "({confidence_label}). Feeling of safety: {safety} / 100.")
    return text.format(score=_fmt(card.overall), label=label_word(card.label),
                       coverage=card.coverage_note, confidence=i18n.percent(card.confidence),
                       confidence_label=label_word(card.confidence_label),
                       safety=_fmt(card.outcome))


def _when(a: au.Assessment, tz: str) -> str:
    return i18n.when(a.assessed_at.to_pydatetime(), tz=tz)


def _meta_line(r: AssessmentReport, tz: str) -> str:
    """Who audited the place, when, where and with what."""
    a = r.assessment
    text = (_("Night audit on {when} by {assessor}") if a.period == "night"
            else _("Day audit on {when} by {assessor}") if a.period == "day"
            else _("Audit on {when} by {assessor}"))
    parts = [text.format(when=_when(a, tz), assessor=a.assessor)]
    if r.neighborhood:
        parts.append(r.neighborhood)
    parts += [_("{instrument} v{version}").format(instrument=data_word(r.instrument.title),
                                                  version=a.instrument_version),
              _("audit {id}").format(id=a.id)]
    return " · ".join(parts)


def _sightline_line(sightline: tuple[float, float]) -> str:
    return _("Sightlines from the point: {area} m² visible within {radius} m, openness "
             "{openness} (shaded on the map).").format(
        area=i18n.number(sightline[0], digits=0), radius=i18n.number(100),
        openness=i18n.percent(sightline[1]))


def _kind_word(quick_win: bool) -> str:
    return _("Quick win") if quick_win else _("Capital")


def _recommendation(x: Any) -> tuple[str, str]:
    """A recommendation's text, and what it answers: ``(question Answer: label)``."""
    return data_word(x.text), _("({question} Answer: {answer})").format(
        question=data_word(x.item.question), answer=x.item.label(x.answer))


def _principle_table(card: Scorecard) -> pd.DataFrame:
    """The scores by principle, with its headers and words in the language in use."""
    return pd.DataFrame({
        _("Principle"): [data_word(p.principle.name) for p in card.principles],
        _("Score"): [p.score for p in card.principles],
        _("Label"): [label_word(p.label) for p in card.principles],
        _("Answered"): [_("{answered} of {applicable}").format(
            answered=i18n.number(p.answered), applicable=i18n.number(p.applicable))
            for p in card.principles],
    })


def _comparison(frame: pd.DataFrame) -> pd.DataFrame:
    """A :func:`cpted.scoring.compare` frame (renamed for day and night or not) with its
    headers and principles in the language in use."""
    words = {"principle": _("Principle"), "before": _("Before"), "after": _("After"),
             "change": _("Change"), "day": _("Day"), "night": _("Night"),
             "night - day": _("Night − day")}
    out = frame.copy()
    first = out.columns[0]
    out[first] = [label_word(v) if v in LABEL_WORDS else data_word(str(v)) for v in out[first]]
    return _signed(out.rename(columns={c: words.get(str(c), str(c)) for c in out.columns}))


def _img(data: bytes, media: str = "image/png", alt: str = "", style: str = "") -> str:
    b64 = base64.b64encode(data).decode()
    return f'<img src="data:{media};base64,{b64}" alt="{html.escape(alt)}" style="{style}">'


CSS = """body{font-family:Helvetica,Arial,sans-serif;max-width:800px;margin:2em auto;color:#222}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse} td,th{padding:3px 8px;border-bottom:1px solid #eee;
text-align:left} .meta{color:#555} .qw{color:#1a7f37;font-weight:bold}
.cap{color:#8a4b00;font-weight:bold} img{max-width:100%}
@media print{body{margin:0}}"""


def _table_html(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v if isinstance(v, str) else _fmt(v))}</td>"
                         for v in row) + "</tr>"
        for row in frame.itertuples(index=False))
    return f"<table><tr>{head}</tr>{body}</table>"


def _signed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    last = out.columns[-1]
    out[last] = ["–" if pd.isna(v) else ("+" if round(float(v)) > 0 else "-" if
                                          round(float(v)) < 0 else "")
                 + i18n.number(abs(float(v)), digits=0) for v in out[last]]
    return out


def report_html(r: AssessmentReport, *, tz: str = "UTC", language: str | None = None) -> str:
    """The audit's report as one HTML page, in ``language`` (default: the one in use)."""
    with _speaking(language):
        return _report_html(r, tz)


def _report_html(r: AssessmentReport, tz: str) -> str:
    a, card = r.assessment, r.card
    e = html.escape
    chart_png, trend_png = r.charts_in(i18n.current())
    title = _("CPTED assessment: {place}").format(place=a.place_name)
    recs = "".join(
        f'<li><span class="{"qw" if x.quick_win else "cap"}">{e(_kind_word(x.quick_win))}'
        f'</span> {e(_recommendation(x)[0])} <span class="meta">{e(_recommendation(x)[1])}'
        f"</span></li>"
        for x in card.recommendations) or "<li>" + e(_("None: no item was answered low.")) + "</li>"
    parts = [
        f"<!doctype html><html lang='{e(i18n.current())}'><head><meta charset='utf-8'>"
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p class='meta'>{e(_meta_line(r, tz))}</p>",
        f"<p><b>{e(overall_line(card))}</b></p>",
        _img(r.map_png, alt=_("Map of the place"), style="width:48%;vertical-align:top"),
        _img(chart_png, alt=_("Principle scores"), style="width:50%;vertical-align:top"),
    ]
    if r.sightline:
        parts.append(f"<p>{e(_sightline_line(r.sightline))}</p>")
    parts += ["<h2>" + e(_("Scores by principle")) + "</h2>",
              _table_html(_principle_table(card)),
              f"<p class='meta'>{e(data_word(r.instrument.weights_note))}</p>",
              "<h2>" + e(_("Recommendations")) + "</h2>", f"<ol>{recs}</ol>"]
    if r.previous is not None:
        parts += [f"<h2>{e(_since_heading(r.previous, tz))}</h2>",
                  _table_html(_comparison(r.previous))]
    if trend_png:
        parts.append(_img(trend_png, alt=_("Overall score of each audit of this place"),
                          style="width:80%"))
    if r.day_night is not None:
        parts += ["<h2>" + e(_("Day and night")) + "</h2>", _table_html(_comparison(r.day_night))]
    if a.notes:
        parts += ["<h2>" + e(_("Notes")) + "</h2>", f"<p>{e(a.notes)}</p>"]
    if r.photos:
        parts.append("<h2>" + e(_("Photos")) + "</h2>")
        parts += [_img(d, m, alt=_("Photo {n}").format(n=i18n.number(n)),
                       style="width:48%;margin:1%")
                  for n, (m, d) in enumerate(r.photos, 1)]
    parts.append("</body></html>")
    return "\n".join(parts)


def _since_heading(previous: pd.DataFrame, tz: str) -> str:
    day = pd.Timestamp(previous.attrs["date"])
    local = day.tz_convert(tz) if day.tzinfo is not None else day
    return _("Since the last audit ({day})").format(day=i18n.day(local))


# -- PDF -------------------------------------------------------------------------------

def _pdf(story_builder: Callable[[float], list[object]], title: str) -> bytes:
    from reportlab.lib.pagesizes import LETTER
    from reportlab.lib.units import inch
    from reportlab.platypus import SimpleDocTemplate

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=LETTER, title=title, author="cpted-mapper",
                            leftMargin=0.7 * inch, rightMargin=0.7 * inch,
                            topMargin=0.7 * inch, bottomMargin=0.7 * inch)
    doc.build(story_builder(doc.width))
    return out.getvalue()


def _styles() -> Any:
    from reportlab.lib.styles import getSampleStyleSheet

    return getSampleStyleSheet()


def _p(text: str, style: Any) -> object:
    """A paragraph of plain text: reportlab parses markup, so user text is escaped."""
    from reportlab.platypus import Paragraph

    return Paragraph(xml_escape(text), style)


def _image(data: bytes, width: float) -> Any:
    from PIL import Image as PILImage
    from reportlab.platypus import Image

    with PILImage.open(io.BytesIO(data)) as im:
        w, h = im.size
    return Image(io.BytesIO(data), width=width, height=width * h / w)


def _pdf_table(frame: pd.DataFrame, width: float, *, first: float = 0.46,
               font_size: float = 9) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    cells = [list(map(str, frame.columns))]
    for row in frame.itertuples(index=False):
        cells.append([v if isinstance(v, str) else _fmt(v) for v in row])
    t = Table(cells, colWidths=[width * first] + [width * (1 - first)
                                                  / (len(frame.columns) - 1)]
              * (len(frame.columns) - 1))
    t.setStyle(TableStyle([("FONT", (0, 0), (-1, 0), "Helvetica-Bold"),
                           ("FONTSIZE", (0, 0), (-1, -1), font_size),
                           ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey)]))
    return t


def report_pdf(r: AssessmentReport, *, tz: str = "UTC", language: str | None = None) -> bytes:
    """The audit's report as PDF, in ``language`` (default: the one in use)."""
    with _speaking(language):
        return _report_pdf(r, tz)


def _report_pdf(r: AssessmentReport, tz: str) -> bytes:
    a, card = r.assessment, r.card
    chart_png, trend_png = r.charts_in(i18n.current())
    title = _("CPTED assessment: {place}").format(place=a.place_name)

    def story(width: float) -> list[object]:
        from reportlab.platypus import PageBreak, Spacer, Table

        st = _styles()
        out: list[object] = [
            _p(title, st["Title"]),
            _p(_meta_line(r, tz), st["Normal"]),
            Spacer(1, 8),
            _p(overall_line(card), st["Heading3"]),
            Table([[_image(r.map_png, width * 0.48), _image(chart_png, width * 0.5)]]),
        ]
        if r.sightline:
            out.append(_p(_sightline_line(r.sightline), st["Normal"]))
        out += [_p(_("Scores by principle"), st["Heading2"]),
                _pdf_table(_principle_table(card), width),
                _p(data_word(r.instrument.weights_note), st["Italic"]),
                _p(_("Recommendations"), st["Heading2"])]
        if not card.recommendations:
            out.append(_p(_("None: no item was answered low."), st["Normal"]))
        for n, x in enumerate(card.recommendations, 1):
            text, answers = _recommendation(x)
            out.append(_p(f"{n}. [{_kind_word(x.quick_win)}] {text} {answers}", st["Normal"]))
        if r.previous is not None:
            out += [_p(_since_heading(r.previous, tz), st["Heading2"]),
                    _pdf_table(_comparison(r.previous), width)]
        if trend_png:
            out.append(_image(trend_png, width * 0.8))
        if r.day_night is not None:
            out += [_p(_("Day and night"), st["Heading2"]),
                    _pdf_table(_comparison(r.day_night), width)]
        if a.notes:
            out += [_p(_("Notes"), st["Heading2"]), _p(a.notes, st["Normal"])]
        if r.photos:
            out += [PageBreak(), _p(_("Photos"), st["Heading2"])]
            out += [_image(d, width * 0.6) for _, d in r.photos]
        return out

    return _pdf(story, title)


# -- the neighborhood brief ------------------------------------------------------------

@dataclass
class Brief:
    neighborhood_id: str
    name: str
    since: pd.Timestamp
    until: pd.Timestamp
    latest_audits: pd.DataFrame  # one row per place, its latest audit
    score_changes: pd.DataFrame  # places re-audited since: before, after, change
    open_by_category: pd.DataFrame
    new_concerns: int
    closed_concerns: int
    new_audits: int
    map_png: bytes
    #: The neighborhood's measures by month (:class:`cpted.progress.Progress`), when made
    #: through :meth:`cpted.access.Access.neighborhood_brief`.
    progress: Any = None
    #: Vacant lots and vacant buildings in the neighborhood (:func:`cpted.overlay.vacancy`);
    #: ``None`` when the store holds no parcels.
    vacant_lots: int | None = None
    vacant_buildings: int | None = None


def neighborhood_brief(store: Store, neighborhood_id: str, *, concerns: gpd.GeoDataFrame,
                       since: datetime | None = None, now: datetime | None = None) -> Brief:
    """What a block meeting needs: audits, open concerns and what changed since ``since``.

    ``concerns`` are the concerns as the brief's readers may see them (the public's view,
    from :meth:`cpted.access.Access.neighborhood_brief`): they are counted where they are
    shown, so a sensitive report's exact place never decides which neighborhood counts it.
    """
    hoods = store.read(Layer.NEIGHBORHOODS, ids=[neighborhood_id])
    if hoods.empty:
        raise UnusableInputError(f"there is no neighborhood {neighborhood_id!r}")
    until = pd.Timestamp(now or datetime.now().astimezone()).tz_convert("UTC")
    start = pd.Timestamp(since).tz_convert("UTC") if since else until - timedelta(days=90)
    boundary = hoods.geometry.iloc[0]
    audits = au.list_assessments(store, neighborhood_id=neighborhood_id)
    # a meeting compares and ranks places by score: only rated scores take part
    audits = audits.assign(overall=au.rated(audits))
    latest = audits.sort_values("assessed_at").groupby("place_name", sort=True).tail(1)
    latest = latest.sort_values("overall", na_position="first")
    changes = []
    for place, group in audits.sort_values("assessed_at").groupby("place_name"):
        before = group[group["assessed_at"] < start]
        after = group[group["assessed_at"] >= start]
        if len(before) and len(after):
            b, f = before["overall"].iloc[-1], after["overall"].iloc[-1]
            changes.append({"place": place, "before": b, "after": f, "change": f - b})
    concerns = concerns[concerns.within(boundary)]
    open_now = concerns[concerns["status"] == "open"]
    by_cat = (open_now.groupby("service_name").size().sort_values(ascending=False)
              .rename("open concerns").reset_index()
              .rename(columns={"service_name": "category"}))
    requested = concerns["requested_datetime"]
    closed = (concerns["status"] == "closed") & (concerns["updated_datetime"] >= start)
    vacant = _vacancy(store, hoods)
    return Brief(
        neighborhood_id=neighborhood_id, name=str(hoods["name"].iloc[0] or neighborhood_id),
        since=start, until=until, latest_audits=latest,
        score_changes=pd.DataFrame(changes, columns=["place", "before", "after", "change"]),
        open_by_category=by_cat,
        new_concerns=int((requested >= start).sum()), closed_concerns=int(closed.sum()),
        new_audits=int((audits["assessed_at"] >= start).sum()),
        map_png=neighborhood_map(hoods.geometry, latest, open_now),
        vacant_lots=None if vacant is None else int(vacant["vacant_lots"]),
        vacant_buildings=None if vacant is None else int(vacant["vacant_buildings"]))


def _vacancy(store: Store, hood: gpd.GeoDataFrame) -> pd.Series | None:
    """The one neighborhood's vacant lots and buildings, or None with no parcels stored."""
    from cpted.overlay import VACANT, vacancy

    if not store.count(Layer.PARCELS):
        return None
    minx, miny, maxx, maxy = (float(v) for v in hood.total_bounds)
    near = store.read(Layer.PARCELS, where={"status": list(VACANT)},
                      bbox=(minx, miny, maxx, maxy))
    return vacancy(near, hood).iloc[0]


def _audit_rows(b: Brief, tz: str) -> pd.DataFrame:
    la = b.latest_audits
    return pd.DataFrame({
        _("Place"): la["place_name"].astype(str),
        _("Last audit"): [i18n.day(t.tz_convert(tz)) for t in la["assessed_at"]],
        _("Period"): [_(PERIOD_WORDS[p]) if p in PERIOD_WORDS else str(p)
                      for p in la["period"]],
        _("Overall"): la["overall"],
        _("Label"): [label_word(str(v)) for v in la["label"]],
    })


def _changes(b: Brief) -> pd.DataFrame:
    """The places re-audited, with the headers in the language in use (places as typed)."""
    return _signed(b.score_changes.rename(columns={
        "place": _("Place"), "before": _("Before"), "after": _("After"),
        "change": _("Change")}))


def _open_by_category(b: Brief) -> pd.DataFrame:
    frame = b.open_by_category
    return pd.DataFrame({
        _("Category"): [data_word(str(c)) for c in frame["category"]],
        _("Open concerns"): [i18n.number(int(n)) for n in frame["open concerns"]],
    })


def _brief_lines(b: Brief, tz: str) -> list[str]:
    concerns = ngettext("{n} new concern", "{n} new concerns", b.new_concerns)
    closed = ngettext("{n} closed", "{n} closed", b.closed_concerns)
    audits = ngettext("{n} audit made", "{n} audits made", b.new_audits)
    lines = [_("Since last time ({since} to {until}): {concerns}, {closed}, {audits}.").format(
                 since=i18n.day(b.since.tz_convert(tz)), until=i18n.day(b.until.tz_convert(tz)),
                 concerns=concerns.format(n=i18n.number(b.new_concerns)),
                 closed=closed.format(n=i18n.number(b.closed_concerns)),
                 audits=audits.format(n=i18n.number(b.new_audits))),
             _("Open concerns now: {open}; places audited: {places}.").format(
                 open=i18n.number(int(b.open_by_category["open concerns"].sum())),
                 places=i18n.number(len(b.latest_audits)))]
    if b.vacant_lots is not None:
        lots = ngettext("{n} vacant lot", "{n} vacant lots", b.vacant_lots)
        buildings = ngettext("{n} vacant building", "{n} vacant buildings",
                             b.vacant_buildings or 0)
        lines.append(_("Vacant parcels: {lots} and {buildings}.").format(
            lots=lots.format(n=i18n.number(b.vacant_lots)),
            buildings=buildings.format(n=i18n.number(b.vacant_buildings or 0))))
    return lines


#: The caption under the brief's map.
MAP_NOTE = N_("Audits coloured by overall score (red poor to green strong); open concerns "
              "in purple, sensitive categories shown only approximately.")


def brief_html(b: Brief, *, tz: str = "UTC", language: str | None = None) -> str:
    """The brief as one HTML page, in ``language`` (default: the one in use)."""
    with _speaking(language):
        return _brief_html(b, tz)


def _brief_html(b: Brief, tz: str) -> str:
    e = html.escape
    title = _("Neighborhood brief: {name}").format(name=b.name)
    parts = [f"<!doctype html><html lang='{e(i18n.current())}'><head><meta charset='utf-8'>"
             f"<title>{e(title)}</title><style>{CSS}</style></head><body>",
             f"<h1>{e(title)}</h1>",
             *(f"<p>{e(line)}</p>" for line in _brief_lines(b, tz)),
             _img(b.map_png, alt=_("Map of the neighborhood"), style="width:70%"),
             f"<p class='meta'>{e(_(MAP_NOTE))}</p>",
             "<h2>" + e(_("Places audited (latest audit, weakest first)")) + "</h2>",
             _table_html(_audit_rows(b, tz)) if len(b.latest_audits)
             else "<p>" + e(_("No audits yet.")) + "</p>"]
    if len(b.score_changes):
        parts += ["<h2>" + e(_("Places re-audited since last time")) + "</h2>",
                  _table_html(_changes(b))]
    parts += ["<h2>" + e(_("Open concerns by category")) + "</h2>",
              _table_html(_open_by_category(b)) if len(b.open_by_category) else
              "<p>" + e(_("No open concerns.")) + "</p>"]
    if _has_progress(b):
        from cpted import progress_charts as pc

        parts += [f"<h2>{e(_(PROGRESS_HEADING))}</h2>",
                  f"<p class='meta'>{e(_(PROGRESS_NOTE))}</p>",
                  _table_html(progress_table(b.progress, b.neighborhood_id))]
        for chart in pc.CHARTS:
            png = pc.chart_png(b.progress, b.neighborhood_id, chart.key, last=PROGRESS_MONTHS)
            parts += [_img(png, alt=_(chart.title), style="width:100%"),
                      f"<p class='meta'>{e(_(chart.caption))}</p>"]
    parts.append("</body></html>")
    return "\n".join(parts)


#: The brief's progress section: its heading, what it rests on, and the months charted.
PROGRESS_HEADING = N_("Progress by month")
PROGRESS_NOTE = N_("Months in the app's time zone. Reports measure people reporting, not "
                   "crime; survey answers come from whoever chose to answer, not a random "
                   "sample. Brackets hold intervals (95%: t for the mean feeling, Wilson for "
                   "the share); a month with fewer than 5 answers shows its count only.")
PROGRESS_MONTHS = 12


def _has_progress(b: Brief) -> bool:
    return b.progress is not None and b.neighborhood_id in b.progress.names


def _month(month: pd.Period) -> str:
    """A month as a meeting reads it: ``"Mar 2025"``, ``"mar 2025"``."""
    from babel.dates import format_skeleton

    return str(format_skeleton("yMMM", month.start_time.to_pydatetime(),
                               locale=i18n.current()))


def progress_table(progress: Any, neighborhood_id: str, *, last: int = 6) -> pd.DataFrame:
    """The brief's table of :func:`cpted.progress_charts.brief_table`, in the language in
    use: one row a measure, one column each of the ``last`` months (oldest first), every
    value as text; intervals in brackets."""
    m = progress.of(neighborhood_id).iloc[-last:]
    r = list(m.itertuples())

    def num(value: object, digits: int = 0) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return "–"
        return i18n.number(float(value), digits=digits)  # type: ignore[arg-type]

    def share(value: float) -> str:
        return i18n.percent(value)

    def pair(a: object, b: object) -> str:
        return _("{first} / {second}").format(first=num(a), second=num(b))

    rows = [
        (_("Reports opened"), [num(x.opened) for x in r]),
        (_("Reports closed"), [num(x.closed) for x in r]),
        (_("Median days to close"), [num(x.median_days_to_close, 1) for x in r]),
        (_("Closed within target"), [
            _("{share} of {n}").format(share=share(x.closed_within_target), n=num(x.due))
            if x.due and not pd.isna(x.closed_within_target) else "–" for x in r]),
        (_("Reopened"), [num(x.reopened) for x in r]),
        (_("Plans done / overdue"), [pair(x.plans_done, x.plans_overdue) for x in r]),
        (_("Mean audit score (rated)"), [
            _("{score} ({n})").format(score=num(x.audit_score), n=num(x.audits_rated))
            if x.audits_rated else "–" for x in r]),
        (_("Lights repaired"), [num(x.repairs) for x in r]),
        (_("Night concerns near them, before / after"),
         [pair(x.night_before, x.night_after) if x.repairs else "–" for x in r]),
        (_("Survey answers"), [num(x.survey_answers) for x in r]),
        (_("Feeling safe after dark (1-5)"), [
            _("{mean} [{low}-{high}]").format(mean=num(x.safe_mean, 1), low=num(x.safe_low, 1),
                                              high=num(x.safe_high, 1))
            if not pd.isna(x.safe_mean) else "–" for x in r]),
        (_("Know whom to contact"), [
            _("{mean} [{low}-{high}]").format(mean=share(x.knows_contact),
                                              low=share(x.knows_low), high=share(x.knows_high))
            if not pd.isna(x.knows_contact) else "–" for x in r]),
    ]
    cols = [_("Measure"), *(_month(p) for p in m.index)]
    return pd.DataFrame([[label, *values] for label, values in rows], columns=cols)


def brief_pdf(b: Brief, *, tz: str = "UTC", language: str | None = None) -> bytes:
    """The brief as PDF, in ``language`` (default: the one in use)."""
    with _speaking(language):
        return _brief_pdf(b, tz)


def _brief_pdf(b: Brief, tz: str) -> bytes:
    title = _("Neighborhood brief: {name}").format(name=b.name)

    def story(width: float) -> list[object]:
        st = _styles()
        out: list[object] = [_p(title, st["Title"])]
        out += [_p(line, st["Normal"]) for line in _brief_lines(b, tz)]
        out.append(_image(b.map_png, width * 0.7))
        out.append(_p(_(MAP_NOTE), st["Italic"]))
        out.append(_p(_("Places audited (latest audit, weakest first)"), st["Heading2"]))
        out.append(_pdf_table(_audit_rows(b, tz), width) if len(b.latest_audits)
                   else _p(_("No audits yet."), st["Normal"]))
        if len(b.score_changes):
            out += [_p(_("Places re-audited since last time"), st["Heading2"]),
                    _pdf_table(_changes(b), width)]
        out.append(_p(_("Open concerns by category"), st["Heading2"]))
        out.append(_pdf_table(_open_by_category(b), width) if len(b.open_by_category)
                   else _p(_("No open concerns."), st["Normal"]))
        if _has_progress(b):
            from reportlab.platypus import PageBreak

            from cpted import progress_charts as pc

            out += [PageBreak(), _p(_(PROGRESS_HEADING), st["Heading2"]),
                    _p(_(PROGRESS_NOTE), st["Italic"]),
                    _pdf_table(progress_table(b.progress, b.neighborhood_id), width,
                               first=0.28, font_size=7)]
            for chart in pc.CHARTS:
                out += [_image(pc.chart_png(b.progress, b.neighborhood_id, chart.key,
                                            last=PROGRESS_MONTHS), width),
                        _p(_(chart.caption), st["Italic"])]
        return out

    return _pdf(story, title)
