"""Streetlights: the darkness map, dark streets, and a work list within a budget."""

from __future__ import annotations

import io

import geopandas as gpd
import pandas as pd
import streamlit as st

from app_pages._maps import show_map
from app_pages._state import layer, store
from app_pages._text import md
from app_pages._words import CAVEATS
from cpted import i18n
from cpted import lighting as lt
from cpted import priorities as pr
from cpted.i18n import N_, _
from cpted.maps import build_darkness_map
from layers.csvsafe import csv_text
from layers.errors import UnusableInputError
from layers.schema import Layer

s = store()
st.title(_("Streetlights"))
st.caption(_("Modelled ground illuminance from the pole inventory, judged against the IES "
             "RP-8 walkway targets for each street's class. A model, not a measurement: check "
             "the darkest places on foot at night."))


@st.cache_data(show_spinner=_("Modelling the light on every street…"), max_entries=4)
def model(url: str, revision: int, cell_m: float) -> dict[str, object]:
    src = pr.from_store(s)
    seg = lt.segment_lux(src.streets, src.inv, src.data, vertical=True)
    bounds = src.streets.total_bounds
    lux, box = lt.lux_image(src.inv, src.data, bounds, cell_m, near=src.streets.geometry)
    now = pr.darkness(src.streets, src.inv, src.data, segments=seg)
    return {"src": src, "seg": seg, "lux": lux, "box": box, "darkness": now}


def money(usd: float) -> str:
    """Whole dollars, the language's way: ``$100,000`` (``US$100.000`` in Spanish)."""
    return i18n.money(usd, cents=False)


#: The work list's columns as the page shows them, names before ids.
WORK_COLUMNS = {"rank": N_("Rank"), "kind": N_("Work"), "streets": N_("Streets"),
                "pole_id": N_("Pole"), "cost_usd": N_("Cost"),
                "dark_m_fixed": N_("Dark metres fixed"),
                "night_concerns_near": N_("Night-time concerns near"), "benefit": N_("Benefit")}


def work_table(work: gpd.GeoDataFrame) -> pd.DataFrame:
    """``Plan.work_list()`` with readable headers in the language in use, in
    :data:`WORK_COLUMNS` order."""
    table = pd.DataFrame(work[list(WORK_COLUMNS)])
    table["kind"] = [_(pr.KIND_WORDS.get(k, k)).capitalize() for k in table["kind"]]
    return table.rename(columns={k: _(v) for k, v in WORK_COLUMNS.items()})


def _whole(value: float) -> str:
    return i18n.number(round(value))


def _fixed2(value: float) -> str:
    return "-" if value != value else i18n.number(value, digits=2)


#: ``cpted.outcomes.RepairOutcome.table()``'s two areas.
AREA_WORDS = {"near repaired lights": N_("near repaired lights"),
              "comparison streets": N_("comparison streets")}


def darkness_map(result: dict[str, object], work: gpd.GeoDataFrame | None = None,
                 key: str = "dark-map") -> None:
    src: pr.StoreLighting = result["src"]  # type: ignore[assignment]
    fmap = build_darkness_map(src.streets, result["seg"], result["lux"],  # type: ignore[arg-type]
                              result["box"], src.inv, work=work)  # type: ignore[arg-type]
    show_map(fmap, height=480, key=key, returned_objects=[])


cell = st.sidebar.select_slider(_("Grid cell (m)"), [5, 10, 20], value=10,
                                help=_("Resolution of the lux picture; streets are sampled "
                                       "every 5 m whatever this is."))
try:
    result = model(s.url, s.revision(), float(cell))
except UnusableInputError as exc:
    st.info(md(exc))
    st.stop()
src: pr.StoreLighting = result["src"]  # type: ignore[assignment]
seg: pd.DataFrame = result["seg"]  # type: ignore[assignment]
if warning := src.inv.warning():
    st.warning(md(warning))
now: pr.Darkness = result["darkness"]  # type: ignore[assignment]
DARK_HELP = _("Street length where the modelled lux is under the minimum target of the "
              "street's class (the RP-8 average divided by the allowed average:minimum "
              "ratio). This is what the work list lifts.")
SHORT_HELP = _("Whole streets failing any RP-8 test: average, minimum or uniformity. "
               "Lighting a street's darkest stretch seldom lifts its average to target, so "
               "this falls much more slowly than dark street length.")


def km(value: float, *, sign: bool = False) -> str:
    """Kilometres with one decimal, the language's way (``+`` before a rise when ``sign``)."""
    value = round(value, 1)  # as Python rounds (0.15 -> 0.1), then the language's way
    return ("+" if sign and value >= 0 else "") + i18n.number(value, digits=1) + " km"


c1, c2, c3, c4, c5 = st.columns(5)
c1.metric(_("Poles"), i18n.number(len(src.inv)))
c2.metric(_("Poles out"), i18n.number(int(src.inv.out.sum())),
          help=_(lt.POLES_OUT_WORDS).format(m=i18n.number(lt.OUTAGE_RADIUS_M)))
c3.metric(_("Dark street length"), km(now.dark_km),
          help=_("Of {km} of street. {more}").format(km=km(now.total_km), more=DARK_HELP))
c4.metric(_("Streets short of RP-8"), km(now.short_km), help=SHORT_HELP)
c5.metric(_("Light-out reports"), i18n.number(len(src.outages)),
          help=_("Open 'streetlight out' reports matched to the pole nearest them."))
st.caption(_("Modelled lux along the streets and their footways (15 m each side); the key is "
             "on the map. In the layer menu (top right), 'Streets by lux against target' "
             "colours each street against its target average; hover a street for its "
             "numbers."))
darkness_map(result)

with st.expander(_("Targets and model assumptions")):
    targets = pd.DataFrame([{"class": t.street_class, "category": t.category,
                             "avg": t.avg_lux, "min": round(t.min_lux, 2),
                             "ratio": t.avg_to_min, "vertical": t.ev_min_lux}
                            for t in src.data.targets.values()])
    st.dataframe(targets.style.format({
        "avg": i18n.number, "min": i18n.number, "ratio": i18n.number,
        "vertical": lambda v: "" if v != v else i18n.number(v)}),
        hide_index=True, width="stretch",
        column_config={"class": _("Street class"), "category": _("IES RP-8 category"),
                       "avg": _("Average lux"), "min": _("Minimum lux"),
                       "ratio": _("Average:minimum at most"),
                       "vertical": _("Vertical minimum lux")})
    st.caption(md(src.data.sources["rp8"]))
    st.caption(_("Maintenance factor {factor}. Each pole's light is added up as far out as "
                 "needed to leave out less than {share} of a street's average. The fixture "
                 "name says the luminaire: cobra heads, wall packs and floods throw their "
                 "light across the street (IES Types II to IV, turned to face the nearest "
                 "street); a pole with no luminaire named gets IES Type V, the same light all "
                 "round the pole (even on the ground out to 70 degrees from straight down, "
                 "none upward), which lights back yards as much as the street. A photometric "
                 "(IES) file given in the lighting data replaces either.").format(
                     factor=i18n.number(src.data.maintenance_factor),
                     share=i18n.percent(src.data.ignored_share)))

st.subheader(_("How the poles are modelled"))
st.dataframe(lt.distribution_table(src.inv, src.data).style.format({"Poles": i18n.number}),
             hide_index=True, width="stretch",
             column_config={"Lamp": _("Lamp"), "Luminaire": _("Luminaire"),
                            "Modelled as": _("Modelled as"),
                            "Poles": st.column_config.NumberColumn(_("Poles"))})

st.header(_("Work list"))
base = pr.Costs.default()
w1, w2, w3, w4 = st.columns(4)
budget = w1.number_input(_("Budget (USD)"), min_value=0, value=100_000, step=5_000)
repair = w2.number_input(_("Repair (USD each)"), min_value=0, value=round(base.repair_usd),
                         step=50)
upgrade = w3.number_input(_("Upgrade (USD each)"), min_value=0, value=round(base.upgrade_usd),
                          step=50)
new = w4.number_input(_("New pole (USD each)"), min_value=0, value=round(base.new_pole_usd),
                      step=250)
st.caption(_("Budget {budget}: repairs at {repair}, upgrades at {upgrade} and new poles at "
             "{new} each.").format(budget=money(budget), repair=money(repair),
                                   upgrade=money(upgrade), new=money(new)))
hoods = layer(Layer.NEIGHBORHOODS)
equity: dict[str, float] = {}
hood_of_street: list[str | None] | None = None
if len(hoods):
    with st.expander(_("Equity weights by neighborhood (optional)")):
        st.caption(_("A weight above 1 counts dark street in that neighborhood for more, e.g. "
                     "where fewer households have private lighting or repairs have lagged."))
        table = st.data_editor(pd.DataFrame({"neighborhood": hoods["name"].astype(str),
                                             "id": hoods["id"].astype(str), "weight": 1.0}),
                               hide_index=True, disabled=["neighborhood", "id"],
                               key="equity-weights",
                               column_config={
                                   "neighborhood": st.column_config.TextColumn(
                                       _("Neighborhood")),
                                   "id": st.column_config.TextColumn(_("Neighborhood id")),
                                   "weight": st.column_config.NumberColumn(
                                       _("Weight"), min_value=0.0, max_value=10.0, step=0.25)})
        equity = dict(zip(table["id"], table["weight"].astype(float), strict=True))
    hood_of_street = pr.neighborhood_of_streets(src.streets, hoods, src.crs)
if st.button(_("Make the work list"), type="primary"):
    bar = st.progress(0.0, text=_("Starting…"))
    plan = pr.candidates_for(src.streets, src.inv, src.data,
                             pr.Costs(float(repair), float(upgrade), float(new)),
                             night_concerns=src.night, equity=equity or None,
                             hood_of_street=hood_of_street,
                             progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
    bar.progress(1.0, text=_("Choosing within the budget…"))
    pr.choose(plan, float(budget))
    bar.empty()
    st.session_state["work-plan"] = plan
plan = st.session_state.get("work-plan")
if plan is not None:
    work = plan.work_list()
    st.success(plan.summary_text())
    shown = work_table(work)
    cost, dark_m, near, benefit = (_(WORK_COLUMNS[k]) for k in (
        "cost_usd", "dark_m_fixed", "night_concerns_near", "benefit"))
    dark_help = _("Street the list lifts to its minimum target, each stretch shared among the "
                  "items that light it by the lux each adds: two repairs that only together "
                  "light a stretch both get a share.")
    benefit_help = _("Dark metres fixed, weighted by pedestrian exposure, night-time concerns "
                     "near and any equity weight.")
    if i18n.current() == i18n.SOURCE:  # the table's own formats: "$1,234", "1,234 m"
        st.dataframe(shown, hide_index=True, width="stretch", column_config={
            cost: st.column_config.NumberColumn(format="$%,d"),
            dark_m: st.column_config.NumberColumn(format="%,d m", help=dark_help),
            near: st.column_config.NumberColumn(format="%d"),
            benefit: st.column_config.NumberColumn(format="%,.0f", help=benefit_help)})
    else:  # the grid writes "1,234" whatever the language: Babel's way instead, as text
        st.dataframe(shown.style.format({
            cost: lambda v: money(v), dark_m: lambda v: f"{_whole(v)} m", near: _whole,
            benefit: _whole}), hide_index=True, width="stretch", column_config={
            dark_m: st.column_config.Column(help=dark_help),
            benefit: st.column_config.Column(help=benefit_help)})
    st.caption(_("A street counts as fixed only when, with the work done, it meets all three "
                 "RP-8 tests of its class: average, minimum and uniformity (average to "
                 "minimum)."))
    b1, b2 = st.columns(2)
    csv = work.drop(columns="geometry").assign(lon=work.geometry.x, lat=work.geometry.y)
    b1.download_button(_("Download CSV for the crews"), csv_text(csv),
                       file_name="streetlight-work-list.csv", mime="text/csv")
    buf = io.BytesIO()
    work.to_file(buf, driver="GPKG", layer="work_list")
    b2.download_button(_("Download GeoPackage"), buf.getvalue(),
                       file_name="streetlight-work-list.gpkg",
                       mime="application/geopackage+sqlite3")
    st.subheader(_("After the work"))
    after = pr.after_work(plan, src.inv)
    lux_after, _box = lt.lux_image(after, src.data, src.streets.total_bounds, float(cell),
                                near=src.streets.geometry)
    seg_after = lt.segment_lux(src.streets, after, src.data, vertical=True)
    then = pr.darkness(src.streets, after, src.data, segments=seg_after)
    a1, a2 = st.columns(2)
    a1.metric(_("Dark street length after the work"), km(then.dark_km),
              delta=km(then.dark_km - now.dark_km, sign=True), delta_color="inverse",
              help=_("Modelled with every item of the list done; now {km}. {more}").format(
                  km=km(now.dark_km), more=DARK_HELP))
    a2.metric(_("Streets short of RP-8 after the work"), km(then.short_km),
              delta=km(then.short_km - now.short_km, sign=True), delta_color="inverse",
              help=_("Now {km}. {more}").format(km=km(now.short_km), more=SHORT_HELP))
    darkness_map({**result, "seg": seg_after, "lux": lux_after}, work, key="after-map")

st.header(_("After repairs"))
st.caption(_("Night-time concerns near lights repaired in a period (closed 'streetlight out' "
             "reports matched to their pole), before and after each repair, against streets "
             "of the same classes away from any repair over the same weeks."))
from cpted import outcomes as oc  # noqa: E402

concerns_all = layer(Layer.CONCERNS)
lights_all = layer(Layer.STREETLIGHTS)
if concerns_all.empty:
    st.info(_("No concerns stored yet."))
else:
    last = concerns_all["updated_datetime"].max()
    o1, o2, o3 = st.columns(3)
    period = o1.date_input(_("Repairs between"), value=(
        (last - pd.Timedelta(days=365)).date(), last.date()), key="repair-window")
    radius = o2.number_input(_("Radius around each light (m)"), 25.0, 500.0, 100.0, 25.0,
                             format="%g")
    days = o3.number_input(_("Days before and after"), 14, 365, 90, 7)
    if isinstance(period, tuple) and len(period) == 2:
        repairs = oc.repairs_from_reports(concerns_all, lights_all, src.crs,
                                          start=pd.Timestamp(period[0], tz="UTC"),
                                          end=pd.Timestamp(period[1], tz="UTC")
                                          + pd.Timedelta(days=1))
        if repairs.empty:
            st.info(_("No repaired lights in that period."))
        else:
            res = oc.repair_outcome(repairs, lights_all, src.streets, concerns_all, src.crs,
                                    radius_m=radius, days=float(days))
            m1, m2 = st.columns(2)
            m1.metric(_("Repairs"), i18n.number(res.repairs))
            m2.metric(_("Difference in differences"), _("{n} per km").format(
                n=("+" if res.did >= 0 else "") + i18n.number(res.did, digits=2)),
                      help=_("(change near repaired lights) - (change on comparison streets), "
                             "in night-time concerns per km of street per window. Negative: "
                             "fewer reports near repaired lights than the comparison "
                             "suggests."))
            outcome = res.table()
            outcome["area"] = [_(AREA_WORDS.get(a, a)) for a in outcome["area"]]
            two = _fixed2
            st.dataframe(outcome.style.format({
                "street km x windows": two, "before": _whole, "after": _whole,
                "before per km": two, "after per km": two, "change per km": two}),
                hide_index=True, width="stretch",
                column_config={"area": _("Area"),
                               "street km x windows": _("Street km x windows"),
                               "before": _("Before"), "after": _("After"),
                               "before per km": _("Before per km"),
                               "after per km": _("After per km"),
                               "change per km": _("Change per km")})
            st.warning(_(CAVEATS))
