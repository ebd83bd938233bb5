"""Printable reports: one assessment, and a neighborhood brief for meetings.

Each report is gathered once into plain data, then written as self-contained
HTML (images inlined) or as PDF (reportlab). Maps are drawn with matplotlib
from the stored layers, with no web tiles, so a report can be made offline.
Every piece of user text is escaped for the format it lands in.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence
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
    ax.barh([p.principle.name for p in rows], values,
            color=[score_color(p.score) for p in rows])
    for y, p in enumerate(rows):
        text = "not scored" if p.score is None else f"{p.score:.0f}"
        ax.text((p.score or 0) + 1.5, y, text, va="center", fontsize=8)
    ax.set_xlim(0, 105)
    ax.set_xlabel("score (0-100)")
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
    for period, marker in (("night", "s"), ("day", "o")):
        sub = trend["period"] == period
        if sub.any():
            ax.plot(trend.loc[sub, "assessed_at"].dt.tz_localize(None), overall[sub],
                    marker=marker, label=f"{period} audits")
    ax.set_ylim(0, 100)
    ax.set_ylabel("overall score")
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
    ax.text(x0, y0 + side * 0.015, f"{bar:g} m", fontsize=7)


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
        concerns.to_crs(crs).plot(ax=ax, color="#7b3294", markersize=6, alpha=0.6,
                                  label="open concerns")
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


def _hood_name(store: Store, nid: str | None) -> str | None:
    if nid is None:
        return None
    hoods = store.read(Layer.NEIGHBORHOODS, ids=[nid])
    return None if hoods.empty else str(hoods["name"].iloc[0] or nid)


def assessment_report(store: Store, assessment_id: str) -> AssessmentReport:
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
        trend_png=trend_chart(trend) if len(trend) > 1 else None, day_night=day_night)


def _fmt(v: float | None) -> str:
    return "–" if v is None or pd.isna(v) else f"{float(v):.0f}"


def overall_line(card: Scorecard) -> str:
    """The report's headline: the overall score and band, or why there is none."""
    if card.enough_answers:
        head = f"Overall: {_fmt(card.overall)} / 100 ({card.label})"
    else:
        head = f"Overall: {card.label.lower()} ({card.coverage_note})"
    return (f"{head}, confidence {card.confidence:.0%} ({card.confidence_label}). "
            f"Feeling of safety: {_fmt(card.outcome)} / 100.")


def _when(a: au.Assessment, tz: str) -> str:
    when: str = a.assessed_at.tz_convert(tz).strftime("%Y-%m-%d %H:%M")
    return when


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
    out[last] = ["–" if pd.isna(v) else f"{v:+.0f}" for v in out[last]]
    return out


def report_html(r: AssessmentReport, *, tz: str = "UTC") -> str:
    a, card = r.assessment, r.card
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(p.principle.name)}</td><td>{_fmt(p.score)}</td><td>{e(p.label)}</td>"
        f"<td>{p.answered} of {p.applicable}</td></tr>" for p in card.principles)
    recs = "".join(
        f'<li><span class="{"qw" if x.quick_win else "cap"}">'
        f'{"Quick win" if x.quick_win else "Capital"}</span> {e(x.text)} '
        f'<span class="meta">({e(x.item.question)} Answer: {e(x.item.label(x.answer))})</span></li>'
        for x in card.recommendations) or "<li>None: no item was answered low.</li>"
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>CPTED assessment: {e(a.place_name)}</title><style>{CSS}</style></head><body>",
        f"<h1>CPTED assessment: {e(a.place_name)}</h1>",
        f"<p class='meta'>{e(a.period.capitalize())} audit on {e(_when(a, tz))} by "
        f"{e(a.assessor)}{' · ' + e(r.neighborhood) if r.neighborhood else ''} · "
        f"{e(r.instrument.title)} v{e(a.instrument_version)} · audit {e(a.id)}</p>",
        f"<p><b>{e(overall_line(card))}</b></p>",
        _img(r.map_png, alt="Map of the place", style="width:48%;vertical-align:top"),
        _img(r.chart_png, alt="Principle scores", style="width:50%;vertical-align:top"),
    ]
    if r.sightline:
        parts.append(f"<p>Sightlines from the point: {r.sightline[0]:,.0f} m² visible within "
                     f"100 m, openness {r.sightline[1]:.0%} (shaded on the map).</p>")
    parts += ["<h2>Scores by principle</h2>",
              f"<table><tr><th>Principle</th><th>Score</th><th>Label</th><th>Answered</th>"
              f"</tr>{rows}</table>",
              f"<p class='meta'>{e(r.instrument.weights_note)}</p>",
              "<h2>Recommendations</h2>", f"<ol>{recs}</ol>"]
    if r.previous is not None:
        parts += [f"<h2>Since the last audit ({e(r.previous.attrs['date'].strftime('%Y-%m-%d'))})"
                  "</h2>", _table_html(_signed(r.previous))]
    if r.trend_png:
        parts.append(_img(r.trend_png, alt="Trend", style="width:80%"))
    if r.day_night is not None:
        parts += ["<h2>Day and night</h2>", _table_html(_signed(r.day_night))]
    if a.notes:
        parts += ["<h2>Notes</h2>", f"<p>{e(a.notes)}</p>"]
    if r.photos:
        parts.append("<h2>Photos</h2>")
        parts += [_img(d, m, alt=f"Photo {n}", style="width:48%;margin:1%")
                  for n, (m, d) in enumerate(r.photos, 1)]
    parts.append("</body></html>")
    return "\n".join(parts)


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


def report_pdf(r: AssessmentReport, *, tz: str = "UTC") -> bytes:
    a, card = r.assessment, r.card

    def story(width: float) -> list[object]:
        from reportlab.platypus import PageBreak, Spacer, Table

        st = _styles()
        out: list[object] = [
            _p(f"CPTED assessment: {a.place_name}", st["Title"]),
            _p(f"{a.period.capitalize()} audit on {_when(a, tz)} by {a.assessor}"
               f"{' · ' + r.neighborhood if r.neighborhood else ''} · {r.instrument.title} "
               f"v{a.instrument_version} · audit {a.id}", st["Normal"]),
            Spacer(1, 8),
            _p(overall_line(card), st["Heading3"]),
            Table([[_image(r.map_png, width * 0.48), _image(r.chart_png, width * 0.5)]]),
        ]
        if r.sightline:
            out.append(_p(f"Sightlines from the point: {r.sightline[0]:,.0f} m² visible within "
                          f"100 m, openness {r.sightline[1]:.0%} (shaded on the map).",
                          st["Normal"]))
        out += [_p("Scores by principle", st["Heading2"]),
                _pdf_table(card.table(), width),
                _p(r.instrument.weights_note, st["Italic"]),
                _p("Recommendations", st["Heading2"])]
        if not card.recommendations:
            out.append(_p("None: no item was answered low.", st["Normal"]))
        for n, x in enumerate(card.recommendations, 1):
            kind = "Quick win" if x.quick_win else "Capital"
            out.append(_p(f"{n}. [{kind}] {x.text} ({x.item.question} Answer: "
                          f"{x.item.label(x.answer)})", st["Normal"]))
        if r.previous is not None:
            out += [_p(f"Since the last audit ({r.previous.attrs['date']:%Y-%m-%d})",
                       st["Heading2"]), _pdf_table(_signed(r.previous), width)]
        if r.trend_png:
            out.append(_image(r.trend_png, width * 0.8))
        if r.day_night is not None:
            out += [_p("Day and night", st["Heading2"]), _pdf_table(_signed(r.day_night), width)]
        if a.notes:
            out += [_p("Notes", st["Heading2"]), _p(a.notes, st["Normal"])]
        if r.photos:
            out += [PageBreak(), _p("Photos", st["Heading2"])]
            out += [_image(d, width * 0.6) for _, d in r.photos]
        return out

    return _pdf(story, f"CPTED assessment: {a.place_name}")


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
        "place": la["place_name"].astype(str),
        "last audit": la["assessed_at"].dt.tz_convert(tz).dt.strftime("%Y-%m-%d").astype(str),
        "period": la["period"].astype(str),
        "overall": la["overall"],
        "label": la["label"].astype(str),
    })


def _brief_lines(b: Brief, tz: str) -> list[str]:
    span = f"{b.since.tz_convert(tz):%Y-%m-%d} to {b.until.tz_convert(tz):%Y-%m-%d}"
    lines = [f"Since last time ({span}): {b.new_concerns} new concern(s), "
             f"{b.closed_concerns} closed, {b.new_audits} audit(s) made.",
             f"Open concerns now: {int(b.open_by_category['open concerns'].sum())}; "
             f"places audited: {len(b.latest_audits)}."]
    if b.vacant_lots is not None:
        lines.append(f"Vacant parcels: {b.vacant_lots} vacant lot(s) and "
                     f"{b.vacant_buildings} vacant building(s).")
    return lines


def brief_html(b: Brief, *, tz: str = "UTC") -> str:
    e = html.escape
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>Neighborhood brief: {e(b.name)}</title><style>{CSS}</style></head><body>",
             f"<h1>Neighborhood brief: {e(b.name)}</h1>",
             *(f"<p>{e(line)}</p>" for line in _brief_lines(b, tz)),
             _img(b.map_png, alt="Map of the neighborhood", style="width:70%"),
             "<p class='meta'>Audits coloured by overall score (red poor to green strong); "
             "open concerns in purple, sensitive categories shown only approximately.</p>",
             "<h2>Places audited (latest audit, weakest first)</h2>",
             _table_html(_audit_rows(b, tz)) if len(b.latest_audits) else "<p>No audits yet.</p>"]
    if len(b.score_changes):
        parts += ["<h2>Places re-audited since last time</h2>",
                  _table_html(_signed(b.score_changes))]
    parts += ["<h2>Open concerns by category</h2>",
              _table_html(b.open_by_category) if len(b.open_by_category) else
              "<p>No open concerns.</p>"]
    if _has_progress(b):
        from cpted import progress_charts as pc

        parts += [f"<h2>{e(PROGRESS_HEADING)}</h2>", f"<p class='meta'>{e(PROGRESS_NOTE)}</p>",
                  _table_html(pc.brief_table(b.progress, b.neighborhood_id))]
        for chart in pc.CHARTS:
            png = pc.chart_png(b.progress, b.neighborhood_id, chart.key, last=PROGRESS_MONTHS)
            parts += [_img(png, alt=chart.title, style="width:100%"),
                      f"<p class='meta'>{e(chart.caption)}</p>"]
    parts.append("</body></html>")
    return "\n".join(parts)


#: The brief's progress section: its heading, what it rests on, and the months charted.
PROGRESS_HEADING = "Progress by month"
PROGRESS_NOTE = ("Months in the app's time zone. Reports measure people reporting, not "
                 "crime; survey answers come from whoever chose to answer, not a random "
                 "sample. Brackets hold 95% intervals (t for the mean feeling, Wilson for "
                 "the share); a month with fewer than 5 answers shows its count only.")
PROGRESS_MONTHS = 12


def _has_progress(b: Brief) -> bool:
    return b.progress is not None and b.neighborhood_id in b.progress.names


def brief_pdf(b: Brief, *, tz: str = "UTC") -> bytes:
    def story(width: float) -> list[object]:
        st = _styles()
        out: list[object] = [_p(f"Neighborhood brief: {b.name}", st["Title"])]
        out += [_p(line, st["Normal"]) for line in _brief_lines(b, tz)]
        out.append(_image(b.map_png, width * 0.7))
        out.append(_p("Audits coloured by overall score (red poor to green strong); open "
                      "concerns in purple, sensitive categories shown only approximately.",
                      st["Italic"]))
        out.append(_p("Places audited (latest audit, weakest first)", st["Heading2"]))
        out.append(_pdf_table(_audit_rows(b, tz), width) if len(b.latest_audits)
                   else _p("No audits yet.", st["Normal"]))
        if len(b.score_changes):
            out += [_p("Places re-audited since last time", st["Heading2"]),
                    _pdf_table(_signed(b.score_changes), width)]
        out.append(_p("Open concerns by category", st["Heading2"]))
        out.append(_pdf_table(b.open_by_category, width) if len(b.open_by_category)
                   else _p("No open concerns.", st["Normal"]))
        if _has_progress(b):
            from reportlab.platypus import PageBreak

            from cpted import progress_charts as pc

            out += [PageBreak(), _p(PROGRESS_HEADING, st["Heading2"]),
                    _p(PROGRESS_NOTE, st["Italic"]),
                    _pdf_table(pc.brief_table(b.progress, b.neighborhood_id), width,
                               first=0.28, font_size=7)]
            for chart in pc.CHARTS:
                out += [_image(pc.chart_png(b.progress, b.neighborhood_id, chart.key,
                                            last=PROGRESS_MONTHS), width),
                        _p(chart.caption, st["Italic"])]
        return out

    return _pdf(story, f"Neighborhood brief: {b.name}")
