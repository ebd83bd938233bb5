"""Streetlights: the darkness map, dark streets, and a work list within a budget."""

from __future__ import annotations

import io

import geopandas as gpd
import pandas as pd
import streamlit as st

from app_pages._maps import show_map
from app_pages._state import layer, store
from app_pages._text import md
from cpted import lighting as lt
from cpted import priorities as pr
from cpted.maps import build_darkness_map
from layers.csvsafe import csv_text
from layers.errors import UnusableInputError
from layers.schema import Layer

s = store()
st.title("Streetlights")
st.caption("Modelled ground illuminance from the pole inventory, judged against the IES RP-8 "
           "walkway targets for each street's class. A model, not a measurement: check the "
           "darkest places on foot at night.")


@st.cache_data(show_spinner="Modelling the light on every street…", max_entries=4)
def model(url: str, revision: int, cell_m: float) -> dict[str, object]:
    src = pr.from_store(s)
    seg = lt.segment_lux(src.streets, src.inv, src.data, vertical=True)
    bounds = src.streets.total_bounds
    lux, box = lt.lux_image(src.inv, src.data, bounds, cell_m, near=src.streets.geometry)
    now = pr.darkness(src.streets, src.inv, src.data, segments=seg)
    return {"src": src, "seg": seg, "lux": lux, "box": box, "darkness": now}


def money(usd: float) -> str:
    """Whole dollars with thousands separators: ``$100,000``."""
    return f"${usd:,.0f}"


#: The work list's columns as the page shows them, names before ids.
WORK_COLUMNS = {"rank": "Rank", "kind": "Work", "streets": "Streets", "pole_id": "Pole",
                "cost_usd": "Cost", "dark_m_fixed": "Dark metres fixed",
                "night_concerns_near": "Night-time concerns near", "benefit": "Benefit"}


def work_table(work: gpd.GeoDataFrame) -> pd.DataFrame:
    """``Plan.work_list()`` with readable headers, in :data:`WORK_COLUMNS` order."""
    table = pd.DataFrame(work[list(WORK_COLUMNS)]).rename(columns=WORK_COLUMNS)
    table["Work"] = table["Work"].str.capitalize()
    return table


def darkness_map(result: dict[str, object], work: gpd.GeoDataFrame | None = None,
                 key: str = "dark-map") -> None:
    src: pr.StoreLighting = result["src"]  # type: ignore[assignment]
    fmap = build_darkness_map(src.streets, result["seg"], result["lux"],  # type: ignore[arg-type]
                              result["box"], src.inv, work=work)  # type: ignore[arg-type]
    show_map(fmap, height=480, key=key, returned_objects=[])


cell = st.sidebar.select_slider("Grid cell (m)", [5, 10, 20], value=10,
                                help="Resolution of the lux picture; streets are sampled "
                                     "every 5 m whatever this is.")
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
DARK_HELP = ("Street length where the modelled lux is under the minimum target of the "
             "street's class (the RP-8 average divided by the allowed average:minimum "
             "ratio). This is what the work list lifts.")
SHORT_HELP = ("Whole streets failing any RP-8 test: average, minimum or uniformity. Lighting "
              "a street's darkest stretch seldom lifts its average to target, so this falls "
              "much more slowly than dark street length.")
c1, c2, c3, c4, c5 = st.columns(5)
c1.metric("Poles", f"{len(src.inv):,}")
c2.metric("Out", f"{int(src.inv.out.sum()):,}", help=lt.POLES_OUT_MEANING)
c3.metric("Dark street length", f"{now.dark_km:.1f} km",
          help=f"Of {now.total_km:.1f} km of street. {DARK_HELP}")
c4.metric("Streets short of RP-8", f"{now.short_km:.1f} km", help=SHORT_HELP)
c5.metric("Light-out reports", f"{len(src.outages):,}",
          help="Open 'streetlight out' reports matched to the pole nearest them.")
st.caption("Modelled lux along the streets and their footways (15 m each side); the key is "
           "on the map. In the layer menu (top right), 'Streets by lux against target' "
           "colours each street against its target average; hover a street for its numbers.")
darkness_map(result)

with st.expander("Targets and model assumptions"):
    st.dataframe(pd.DataFrame([{"Street class": t.street_class, "IES RP-8 category": t.category,
                                "Average lux": t.avg_lux, "Minimum lux": round(t.min_lux, 2),
                                "Average:minimum at most": t.avg_to_min,
                                "Vertical minimum lux": t.ev_min_lux}
                               for t in src.data.targets.values()]),
                 hide_index=True, width="stretch")
    st.caption(md(src.data.sources["rp8"]))
    st.caption(f"Maintenance factor {src.data.maintenance_factor:g}. Each pole's light is "
               "added up as far out as needed to leave out less than "
               f"{src.data.ignored_share:.0%} of a street's average. The fixture name says "
               "the luminaire: cobra heads, wall packs and floods throw their light across "
               "the street (IES Types II to IV, turned to face the nearest street); a pole "
               "with no luminaire named gets IES Type V, the same light all round the pole "
               "(even on the ground out to 70 degrees from straight down, none upward), "
               "which lights back yards as much as the street. A photometric (IES) file "
               "given in the lighting data replaces either.")

st.subheader("How the poles are modelled")
st.dataframe(lt.distribution_table(src.inv, src.data), hide_index=True, width="stretch",
             column_config={"Poles": st.column_config.NumberColumn(format="%,d")})

st.header("Work list")
base = pr.Costs.default()
w1, w2, w3, w4 = st.columns(4)
budget = w1.number_input("Budget (USD)", min_value=0, value=100_000, step=5_000)
repair = w2.number_input("Repair (USD each)", min_value=0, value=round(base.repair_usd),
                         step=50)
upgrade = w3.number_input("Upgrade (USD each)", min_value=0, value=round(base.upgrade_usd),
                          step=50)
new = w4.number_input("New pole (USD each)", min_value=0, value=round(base.new_pole_usd),
                      step=250)
st.caption(f"Budget {money(budget)}: repairs at {money(repair)}, upgrades at {money(upgrade)} "
           f"and new poles at {money(new)} each.")
hoods = layer(Layer.NEIGHBORHOODS)
equity: dict[str, float] = {}
hood_of_street: list[str | None] | None = None
if len(hoods):
    with st.expander("Equity weights by neighborhood (optional)"):
        st.caption("A weight above 1 counts dark street in that neighborhood for more, e.g. "
                   "where fewer households have private lighting or repairs have lagged.")
        table = st.data_editor(pd.DataFrame({"neighborhood": hoods["name"].astype(str),
                                             "id": hoods["id"].astype(str), "weight": 1.0}),
                               hide_index=True, disabled=["neighborhood", "id"],
                               key="equity-weights",
                               column_config={
                                   "neighborhood": st.column_config.TextColumn("Neighborhood"),
                                   "id": st.column_config.TextColumn("Neighborhood id"),
                                   "weight": st.column_config.NumberColumn(
                                       "Weight", min_value=0.0, max_value=10.0, step=0.25)})
        equity = dict(zip(table["id"], table["weight"].astype(float), strict=True))
    hood_of_street = pr.neighborhood_of_streets(src.streets, hoods, src.crs)
if st.button("Make the work list", type="primary"):
    bar = st.progress(0.0, text="Starting…")
    plan = pr.candidates_for(src.streets, src.inv, src.data,
                             pr.Costs(float(repair), float(upgrade), float(new)),
                             night_concerns=src.night, equity=equity or None,
                             hood_of_street=hood_of_street,
                             progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
    bar.progress(1.0, text="Choosing within the budget…")
    pr.choose(plan, float(budget))
    bar.empty()
    st.session_state["work-plan"] = plan
plan = st.session_state.get("work-plan")
if plan is not None:
    work = plan.work_list()
    st.success(plan.summary_text())
    st.dataframe(
        work_table(work), hide_index=True, width="stretch",
        column_config={
            "Cost": st.column_config.NumberColumn(format="$%,d"),
            "Dark metres fixed": st.column_config.NumberColumn(
                format="%,d m", help="Street the list lifts to its minimum target, each "
                                     "stretch shared among the items that light it by the "
                                     "lux each adds: two repairs that only together light "
                                     "a stretch both get a share."),
            "Night-time concerns near": st.column_config.NumberColumn(format="%d"),
            "Benefit": st.column_config.NumberColumn(
                format="%,.0f", help="Dark metres fixed, weighted by pedestrian exposure, "
                                     "night-time concerns near and any equity weight.")})
    st.caption("A street counts as fixed only when, with the work done, it meets all three "
               "RP-8 tests of its class: average, minimum and uniformity (average to "
               "minimum).")
    b1, b2 = st.columns(2)
    csv = work.drop(columns="geometry").assign(lon=work.geometry.x, lat=work.geometry.y)
    b1.download_button("Download CSV for the crews", csv_text(csv),
                       file_name="streetlight-work-list.csv", mime="text/csv")
    buf = io.BytesIO()
    work.to_file(buf, driver="GPKG", layer="work_list")
    b2.download_button("Download GeoPackage", buf.getvalue(),
                       file_name="streetlight-work-list.gpkg",
                       mime="application/geopackage+sqlite3")
    st.subheader("After the work")
    after = pr.after_work(plan, src.inv)
    lux_after, _ = lt.lux_image(after, src.data, src.streets.total_bounds, float(cell),
                                near=src.streets.geometry)
    seg_after = lt.segment_lux(src.streets, after, src.data, vertical=True)
    then = pr.darkness(src.streets, after, src.data, segments=seg_after)
    a1, a2 = st.columns(2)
    a1.metric("Dark street length after the work", f"{then.dark_km:.1f} km",
              delta=f"{then.dark_km - now.dark_km:+.1f} km", delta_color="inverse",
              help=f"Modelled with every item of the list done; now {now.dark_km:.1f} km. "
                   f"{DARK_HELP}")
    a2.metric("Streets short of RP-8 after the work", f"{then.short_km:.1f} km",
              delta=f"{then.short_km - now.short_km:+.1f} km", delta_color="inverse",
              help=f"Now {now.short_km:.1f} km. {SHORT_HELP}")
    darkness_map({**result, "seg": seg_after, "lux": lux_after}, work, key="after-map")

st.header("After repairs")
st.caption("Night-time concerns near lights repaired in a period (closed 'streetlight out' "
           "reports matched to their pole), before and after each repair, against streets of "
           "the same classes away from any repair over the same weeks.")
from cpted import outcomes as oc  # noqa: E402

concerns_all = layer(Layer.CONCERNS)
lights_all = layer(Layer.STREETLIGHTS)
if concerns_all.empty:
    st.info("No concerns stored yet.")
else:
    last = concerns_all["updated_datetime"].max()
    o1, o2, o3 = st.columns(3)
    period = o1.date_input("Repairs between", value=((last - pd.Timedelta(days=365)).date(),
                                                      last.date()), key="repair-window")
    radius = o2.number_input("Radius around each light (m)", 25.0, 500.0, 100.0, 25.0)
    days = o3.number_input("Days before and after", 14, 365, 90, 7)
    if isinstance(period, tuple) and len(period) == 2:
        repairs = oc.repairs_from_reports(concerns_all, lights_all, src.crs,
                                          start=pd.Timestamp(period[0], tz="UTC"),
                                          end=pd.Timestamp(period[1], tz="UTC")
                                          + pd.Timedelta(days=1))
        if repairs.empty:
            st.info("No repaired lights in that period.")
        else:
            res = oc.repair_outcome(repairs, lights_all, src.streets, concerns_all, src.crs,
                                    radius_m=radius, days=float(days))
            m1, m2 = st.columns(2)
            m1.metric("Repairs", f"{res.repairs:,}")
            m2.metric("Difference in differences", f"{res.did:+.2f} per km",
                      help="(change near repaired lights) - (change on comparison streets), in "
                           "night-time concerns per km of street per window. Negative: "
                           "fewer reports near repaired lights than the comparison suggests.")
            st.dataframe(res.table(), hide_index=True, width="stretch",
                         column_config={c: st.column_config.NumberColumn(format="%.2f")
                                        for c in ("street km x windows", "before per km",
                                                  "after per km", "change per km")})
            st.warning(oc.CAVEATS)
