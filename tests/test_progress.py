"""Measures of success (:mod:`cpted.progress`), the perception survey and its intervals
(:mod:`cpted.intervals`).

The intervals are checked against a hand computation written out below with the
quantiles from printed tables (t(0.975, 5) = 2.570582, z(0.975) = 1.959964): that is the
independent reference. scipy.stats (``binomtest(...).proportion_ci(method="wilson")`` and
``t.interval``) is a second check of the same numbers; it shares the t quantile's
implementation with the module (both come from scipy) but not the interval's arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

from cpted import accounts as acc
from cpted import concerns as cc
from cpted import progress as pg
from cpted import progress_charts as pc
from cpted import reports
from cpted.access import Access, RateLimitError
from cpted.accounts import Actor
from cpted.concerns import ReportDraft
from cpted.intervals import t_interval, wilson_interval
from cpted.privacy import Role
from layers.errors import UnusableInputError
from layers.repos import survey as survey_repo
from layers.schema import Layer
from layers.settings import Settings
from layers.store import Store, open_store
from tests.conftest import ROOT, by_label, frame_with

TZ = "America/Chicago"
#: Two neighborhoods side by side (WGS84): A west, B east.
BOX_A = shapely.box(-94.60, 39.00, -94.58, 39.02)
BOX_B = shapely.box(-94.58, 39.00, -94.56, 39.02)
IN_A = (-94.59, 39.01)
POLE = (-94.57, 39.01)  # in B
M_LAT = 1 / 111_000  # degrees of latitude in a metre, near enough at 39° N

#: The hand-computed survey month: six answers, four knowing whom to contact.
SAFE = [2, 3, 3, 4, 4, 5]
KNOWS = [True, True, True, True, False, False]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def hand_t_interval() -> tuple[float, float, float]:
    """The mean of :data:`SAFE` and its 95% t interval, step by step."""
    n = 6
    mean = (2 + 3 + 3 + 4 + 4 + 5) / n  # 3.5
    squares = (2 - 3.5) ** 2 + 2 * (3 - 3.5) ** 2 + 2 * (4 - 3.5) ** 2 + (5 - 3.5) ** 2  # 5.5
    s = math.sqrt(squares / (n - 1))  # sqrt(1.1) = 1.048809
    half = 2.570582 * s / math.sqrt(n)  # t(0.975, 5) from a table: 1.100657
    return mean, mean - half, mean + half


def hand_wilson() -> tuple[float, float]:
    """The 95% Wilson score interval of 4 yes in 6, step by step."""
    z, n, p = 1.959964, 6, 4 / 6
    denom = 1 + z**2 / n  # 1.640243
    centre = (p + z**2 / (2 * n)) / denom  # 0.601611
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom  # 0.301618
    return centre - half, centre + half


def test_the_hand_computation_itself() -> None:
    # the written-out arithmetic, to four decimals, as a calculator gives it
    mean, low, high = hand_t_interval()
    assert (mean, round(low, 4), round(high, 4)) == (3.5, 2.3993, 4.6007)
    assert tuple(round(v, 4) for v in hand_wilson()) == (0.3000, 0.9032)


def test_intervals_equal_the_hand_computation_and_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    mean, low, high = t_interval(SAFE)
    h_mean, h_low, h_high = hand_t_interval()
    assert mean == h_mean
    assert low == pytest.approx(h_low, abs=1e-5) and high == pytest.approx(h_high, abs=1e-5)
    w_low, w_high = wilson_interval(4, 6)
    hw = hand_wilson()
    assert (w_low, w_high) == pytest.approx(hw, abs=1e-5)
    # scipy as a second reference
    se = float(np.std(SAFE, ddof=1)) / math.sqrt(6)
    assert (low, high) == pytest.approx(stats.t.interval(0.95, 5, loc=3.5, scale=se), abs=1e-9)
    ci = stats.binomtest(4, 6).proportion_ci(confidence_level=0.95, method="wilson")
    assert (w_low, w_high) == pytest.approx((ci.low, ci.high), abs=1e-9)


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    (0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0), (5, 10, 0.2366, 0.7634)])
def test_wilson_interval_at_the_ends_stays_in_zero_one(k: int, n: int, low: float,
                                                       high: float) -> None:
    # (0, 10): z²/(n + z²) = 3.8415 / 13.8415 = 0.2775 by hand; the others by symmetry and
    # the formula
    got = wilson_interval(k, n)
    assert got == pytest.approx((low, high), abs=1e-4)


def test_intervals_refuse_or_say_nothing_where_there_is_nothing() -> None:
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    with pytest.raises(ValueError, match="between 0 and n=3"):
        wilson_interval(4, 3)
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 3, confidence=95)
    mean, low, high = t_interval([4])
    assert mean == 4 and math.isnan(low) and math.isnan(high)
    # five answers whose interval would pass 5: cut to the scale
    mean, low, high = t_interval([2, 3, 4, 4, 5])
    assert mean == 3.6 and high == 5.0
    assert low == pytest.approx(3.6 - 2.776445 * math.sqrt(1.3 / 5), abs=1e-5)


def test_months_are_local() -> None:
    times = pd.Series(pd.to_datetime(["2026-03-01T03:00:00Z", "2026-03-01T07:00:00Z"]))
    assert [str(m) for m in pg.local_month(times, TZ)] == ["2026-02", "2026-03"]
    assert pg.month_end(pd.Period("2026-02", "M"), TZ) == pd.Timestamp("2026-03-01T06:00Z")


def test_survey_months_hand_set_and_too_few() -> None:
    feb = [utc(2026, 2, d, 18) for d in (2, 5, 9, 14, 20)] + [utc(2026, 3, 1, 3)]  # local Feb
    answers = pd.DataFrame({
        "at": pd.to_datetime(feb + [utc(2026, 3, 2, 18)] * 3, utc=True),
        "neighborhood_id": ["A"] * 9, "safe_after_dark": [*SAFE, 1, 1, 1],
        "knows_contact": KNOWS + [False] * 3})
    got = pg.survey_months(answers, tz=TZ)
    feb_row = got.loc[("A", pd.Period("2026-02", "M"))]
    mean, low, high = hand_t_interval()
    assert feb_row["survey_answers"] == 6
    assert feb_row[["safe_mean", "safe_low", "safe_high"]].tolist() == pytest.approx(
        [mean, low, high], abs=1e-5)
    assert feb_row[["knows_contact", "knows_low", "knows_high"]].tolist() == pytest.approx(
        [4 / 6, *hand_wilson()], abs=1e-5)
    march = got.loc[("A", pd.Period("2026-03", "M"))]
    assert march["survey_answers"] == 3 and march[["safe_mean", "knows_contact"]].isna().all()


def test_plan_months_done_and_overdue_at_each_month_end() -> None:
    plans = pd.DataFrame({
        "id": ["P1", "P2", "P3"], "status": ["done", "planned", "dropped"],
        "due_date": ["2026-01-20", "2026-03-01", "2026-01-05"],
        "created_at": ["2026-01-05T15:00:00.000Z", "2026-01-10T15:00:00.000Z",
                       "2026-01-02T15:00:00.000Z"],
        "updated_at": ["2026-02-10T15:00:00.000Z", "2026-01-10T15:00:00.000Z",
                       "2026-01-08T15:00:00.000Z"]})
    got = pg.plan_months(plans, pd.Series(["A", "A", "A"]), tz=TZ,
                         now=pd.Timestamp("2026-03-15T12:00Z"))
    # at January's end P1 is late (due the 20th, done only in February), P3 is not (due
    # the 5th but dropped on the 8th); in February P1 is done; in March so far P2 (due
    # the 1st) is late
    by_month = got.droplevel(0).fillna(0)
    assert by_month.loc[pd.Period("2026-01", "M"), "plans_overdue"] == 1
    assert by_month.loc[pd.Period("2026-02", "M")].tolist() == [1, 0]
    assert by_month.loc[pd.Period("2026-03", "M"), "plans_overdue"] == 1


# -- the monthly measures on a small hand-made store ---------------------------------------

def hand_store(store: Store) -> dict[str, str]:
    """Two neighborhoods, a handful of reports, a repair, audits, plans and survey answers.

    Times are fixed and past; graffiti's target is set to 10 days.
    """
    store.set_setting("timezone", TZ)
    store.add(Layer.NEIGHBORHOODS, gpd.GeoDataFrame(
        {"id": ["A", "B"], "name": ["Alder", "Birch"]},
        geometry=[shapely.MultiPolygon([BOX_A]), shapely.MultiPolygon([BOX_B])], crs=4326))
    store.add(Layer.STREETLIGHTS, gpd.GeoDataFrame(
        {"id": ["L1"], "lumens": [8000.0], "mounting_height_m": [9.0]},
        geometry=[shapely.Point(*POLE)], crs=4326))
    staff = Access(store, Actor("c1", "Casey", Role.COORDINATOR),
                   Settings(max_writes_per_minute=1000))
    staff.save_services([replace(cc.services(store)["graffiti"], target_days=10)])

    def report(code: str, where: tuple[float, float], at: datetime, **kw: Any) -> str:
        return cc.submit_report(store, ReportDraft(code, *where, "x", **kw), now=at)

    def status(rid: str, to: str, at: datetime) -> None:
        cc.change_status(store, rid, to, "done", actor="Casey", now=at)

    ids = {"r1": report("graffiti", IN_A, utc(2026, 1, 10, 15)),
           "r2": report("graffiti", (-94.591, 39.011), utc(2026, 1, 20, 15)),
           # 21:00 on 31 January in Chicago: a January report
           "r3": report("graffiti", (-94.592, 39.012), utc(2026, 2, 1, 3)),
           "r4": report("graffiti", (-94.593, 39.013), utc(2026, 2, 10, 15)),
           "r5": report("graffiti", (-94.565, 39.005), utc(2026, 1, 5, 15))}
    status(ids["r1"], "fixed", utc(2026, 1, 15, 15))
    status(ids["r2"], "fixed", utc(2026, 2, 25, 15))
    status(ids["r4"], "fixed", utc(2026, 2, 12, 15))
    status(ids["r4"], "in progress", utc(2026, 2, 22, 15))  # reopened
    status(ids["r5"], "fixed", utc(2026, 1, 7, 15))
    # the light at L1 out, repaired on 10 January; night concerns 50 m away before, 30 m
    # away after, and 500 m away (too far to count)
    out = report("streetlight_out", POLE, utc(2026, 1, 1, 15), answers={"light_state": "Out"})
    status(out, "fixed", utc(2026, 1, 10, 15))
    night = {"time_of_day": "night"}
    report("graffiti", (POLE[0], POLE[1] + 50 * M_LAT), utc(2025, 12, 20, 4), **night)
    report("graffiti", (POLE[0], POLE[1] - 30 * M_LAT), utc(2026, 1, 20, 4), **night)
    report("graffiti", (POLE[0], POLE[1] + 500 * M_LAT), utc(2026, 1, 25, 4), **night)
    # audits in A in January: one answered fully, one with too few answers to rate
    from cpted.assessments import AssessmentDraft
    from cpted.instrument import load_instrument

    inst = load_instrument()
    full = {i.id: i.scale.values[-1] for i in inst.items if i.applies_to("night")}
    for name, answers in (("Full", full), ("Sparse", dict(list(full.items())[:2]))):
        staff.save_audit(AssessmentDraft(place_name=name, geometry=shapely.Point(*IN_A),
                                         assessor="Pat", assessed_at=utc(2026, 1, 12, 3),
                                         period="night", answers=answers), inst)
    # plans: one at A's spot, long overdue; one on B's report, done
    spot = staff.create_spot("Corner", [ids["r1"]])
    staff.create_plan("Paint over", owner_kind="city department", owner_name="Parks",
                      due=date(2026, 1, 1), spot_id=spot)
    ids["plan_b"] = staff.create_plan("Trim", owner_kind="resident", owner_name="Kim",
                                      due=date(2026, 1, 1), request_ids=[ids["r5"]])
    staff.set_plan_status(ids["plan_b"], "done", "trimmed")
    # the survey: the hand set in A in February (one at 03:00 UTC on 1 March, local
    # February), three in March, each from its own browser
    feb = [utc(2026, 2, d, 18) for d in (2, 5, 9, 14, 20)] + [utc(2026, 3, 1, 3)]
    for n, (at, safe, knows) in enumerate(zip(feb, SAFE, KNOWS, strict=True)):
        Access(store, acc.public(f"browser-{n}")).answer_survey(
            IN_A[0] + n * 1e-4, IN_A[1], safe, knows, now=at)
    for n in range(3):
        Access(store, acc.public(f"march-{n}")).answer_survey(*IN_A, 1, False,
                                                              now=utc(2026, 3, 10, 18))
    return ids


def test_monthly_measures_on_a_hand_made_store(store: Store) -> None:
    hand_store(store)
    now = datetime.now(UTC)
    p = Access(store, acc.public("reader")).progress(now=now)
    assert p.tz == TZ and p.names == {"A": "Alder", "B": "Birch"}
    a, b = p.of("A"), p.of("B")
    jan, feb, mar = (pd.Period(m, "M") for m in ("2026-01", "2026-02", "2026-03"))
    # A, January: r1, r2 and r3 (local 31 January) opened; r1 closed after 5 days; of the
    # two due in January (r1 on the 20th, r2 on the 30th) r1 was closed in time
    assert a.loc[jan, ["opened", "closed", "median_days_to_close", "due"]].tolist() == [
        3, 1, 5.0, 2]
    assert a.loc[jan, "closed_within_target"] == 0.5
    # February: r4 opened; r2 closed after 36 days; r3 and r4 fell due, neither closed
    # (r4 was closed in time but reopened, and is open); r4's reopening
    assert a.loc[feb, ["opened", "closed", "median_days_to_close", "due", "reopened"]
                 ].tolist() == [1, 1, 36.0, 2, 1]
    assert a.loc[feb, "closed_within_target"] == 0.0
    # audits: the full one rated (all answers at the top of the scale: 100), the sparse
    # one left out
    assert a.loc[jan, ["audits_rated", "audit_score", "audits_not_rated"]].tolist() == [
        1, 100.0, 1]
    # the repair in B: one night concern in the 90 days before, one after, the far one not
    assert b.loc[jan, ["repairs", "night_before", "night_after", "repairs_watching"]
                 ].tolist() == [1, 1, 1, 0]
    assert a["repairs"].sum() == 0
    # plans: A's (at its spot) overdue this month; B's (on its report) done this month
    this = pg.local_month(pd.Series([now]), TZ).iloc[0]
    assert a.loc[this, "plans_overdue"] == 1 and a["plans_done"].sum() == 0
    assert b.loc[this, "plans_done"] == 1 and b["plans_overdue"].sum() == 0
    # the survey equals the hand computation; March has too few answers for a mean
    mean, low, high = hand_t_interval()
    assert a.loc[feb, "survey_answers"] == 6
    assert a.loc[feb, ["safe_mean", "safe_low", "safe_high"]].tolist() == pytest.approx(
        [mean, low, high], abs=1e-5)
    assert a.loc[feb, ["knows_contact", "knows_low", "knows_high"]].tolist() == pytest.approx(
        [4 / 6, *hand_wilson()], abs=1e-5)
    assert a.loc[mar, "survey_answers"] == 3 and np.isnan(a.loc[mar, "safe_mean"])
    assert b["survey_answers"].sum() == 0
    # every month from the first (December 2025, the night concern before the repair) to
    # now, for both neighborhoods
    assert a.index[0] == pd.Period("2025-12", "M") and a.index[-1] == this
    assert len(p.months) == 2 * len(a)


def test_charts_and_brief_carry_the_measures(store: Store) -> None:
    hand_store(store)
    p = Access(store, acc.public("reader")).progress()
    pngs = pc.chart_pngs(p, "A", last=6)
    assert list(pngs) == [c.key for c in pc.CHARTS]
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
               for png in pngs.values())
    with pytest.raises(KeyError, match="expected one of A, B"):
        pc.chart_png(p, "Z", "reports")
    table = pc.brief_table(p, "A", last=12)
    row = table.set_index("Measure").loc["Feeling safe after dark (1-5)"]
    assert row["Feb 2026"] == "3.5 [2.4-4.6]"
    assert table.set_index("Measure").loc["Know whom to contact", "Feb 2026"] == (
        "67% [30%-90%]")
    # a brief made in April: its table holds the six months to April
    brief = Access(store, Actor("c1", "Casey", Role.COORDINATOR)).neighborhood_brief(
        "A", now=utc(2026, 4, 15, 12))
    assert brief.progress is not None and brief.progress.names == p.names
    assert brief.progress.months["month"].max() == pd.Period("2026-04", "M")
    html = reports.brief_html(brief, tz=TZ)
    assert reports.PROGRESS_HEADING in html and "3.5 [2.4-4.6]" in html
    assert html.count("data:image/png;base64,") == 1 + len(pc.CHARTS)
    pdf = reports.brief_pdf(brief, tz=TZ)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Subtype /Image") >= 1 + len(pc.CHARTS)


# -- the survey through the door -------------------------------------------------------

def two_hoods(store: Store) -> None:
    store.add(Layer.NEIGHBORHOODS, gpd.GeoDataFrame(
        {"id": ["A", "B"], "name": ["Alder", "Birch"]},
        geometry=[shapely.MultiPolygon([BOX_A]), shapely.MultiPolygon([BOX_B])], crs=4326))


def stored(store: Store) -> int:
    with store.engine.connect() as conn:
        return survey_repo.count(conn)


def test_survey_answers_are_rate_limited(store: Store) -> None:
    two_hoods(store)
    now = utc(2026, 5, 1, 18)
    me = Access(store, acc.public("browser-1", "198.51.100.7"),
                Settings(max_writes_per_minute=1))
    assert me.answer_survey(*IN_A, 4, True, now=now) == "Alder"
    with pytest.raises(RateLimitError, match=r"limit is 1 a minute.*try again in \d+ s"):
        me.answer_survey(*POLE, 3, False, now=now + timedelta(seconds=5))
    assert stored(store) == 1
    # a new browser session from the same address shares the address's quota
    again = Access(store, acc.public("browser-2", "198.51.100.7"),
                   Settings(max_writes_per_minute=1))
    with pytest.raises(RateLimitError):
        again.answer_survey(*POLE, 3, False, now=now + timedelta(seconds=10))
    # the public as a whole: two answers a minute, from any number of addresses
    crowd = Settings(max_writes_per_minute=100, max_public_writes_per_minute=2)
    later = now + timedelta(minutes=5)
    for n in range(2):
        Access(store, acc.public(f"c{n}", f"203.0.113.{n}"), crowd).answer_survey(
            *IN_A, 2, True, now=later)
    with pytest.raises(RateLimitError, match="from the public as a whole"):
        Access(store, acc.public("c9", "203.0.113.9"), crowd).answer_survey(
            *IN_A, 2, True, now=later)
    assert stored(store) == 3


def test_one_answer_a_day_a_neighborhood_and_every_problem_at_once(store: Store) -> None:
    two_hoods(store)
    now = utc(2026, 5, 1, 18)
    me = Access(store, acc.public("browser-1"))
    me.answer_survey(*IN_A, 4, True, now=now)
    with pytest.raises(UnusableInputError, match="already answered for Alder today"):
        me.answer_survey(IN_A[0] + 0.001, IN_A[1], 2, False, now=now + timedelta(hours=3))
    me.answer_survey(*POLE, 3, False, now=now + timedelta(hours=3))  # another neighborhood
    me.answer_survey(*IN_A, 2, False, now=now + timedelta(days=1, minutes=1))
    assert stored(store) == 3
    with pytest.raises(UnusableInputError) as info:
        me.answer_survey(-95.5, 38.0, 7, "yes", now=now)  # type: ignore[arg-type]
    assert len(info.value.problems) == 3
    assert any("1 (Very unsafe)" in p and "5 (Very safe)" in p for p in info.value.problems)
    assert any("outside every neighborhood" in p for p in info.value.problems)
    with pytest.raises(UnusableInputError, match="not saved"):
        me.answer_survey(*IN_A, True, True, now=now)  # type: ignore[arg-type]
    assert stored(store) == 3


def test_the_survey_is_read_as_totals_only(store: Store) -> None:
    two_hoods(store)
    for n, safe in enumerate([2, 3, 3, 4, 4, 5]):
        Access(store, acc.public(f"b{n}")).answer_survey(IN_A[0] + n * 1e-4, IN_A[1], safe,
                                                         n < 4, now=utc(2026, 2, 10, 18))
    got = Access(store, acc.public("reader")).survey_summary()
    assert list(got["name"]) == ["Alder", "Birch"]
    assert got["survey_answers"].tolist() == [6, 0]
    assert got.loc[0, "safe_mean"] == 3.5 and np.isnan(got.loc[1, "safe_mean"])
    assert not {"lon", "lat", "client", "at", "geometry"} & set(got.columns)
    since = Access(store, acc.public("reader")).survey_summary(since=utc(2026, 3, 1))
    assert since["survey_answers"].tolist() == [0, 0]
    # the change log says that an answer came and for which neighborhood, nothing more
    trail = Access(store, Actor("root", "Root", Role.ADMIN)).audit_trail()
    answers = trail[trail["action"] == "survey answer"]
    assert len(answers) == 6 and set(answers["detail"]) == {'{"neighborhood": "A"}'}


def test_survey_map_shades_by_totals_and_escapes_names() -> None:
    from cpted.maps import build_survey_map
    from cpted.maps.survey import FEELING_COLORS, NO_ANSWERS_COLOR

    hoods = gpd.GeoDataFrame(
        {"id": ["A", "B"], "name": ["<img src=x onerror=alert(1)>", "Birch"]},
        geometry=[shapely.MultiPolygon([BOX_A]), shapely.MultiPolygon([BOX_B])], crs=4326)
    summary = pd.DataFrame({"neighborhood_id": ["A", "B"], "survey_answers": [12, 2],
                            "safe_mean": [3.62, np.nan]})
    page = build_survey_map(hoods, summary, pin=shapely.Point(*IN_A),
                            scale=pg.SAFETY_SCALE).get_root().render()
    assert "<img src=x" not in page and "lt;img src=x" in page  # &lt;, as JSON writes it
    assert "3.6 of 5 (12 answers)" in page and "too few answers (2)" in page
    # A's mean rounds to 4: its colour; B has none
    assert '"klass": 4' in page and '"klass": 0' in page
    assert FEELING_COLORS[4] in page and NO_ANSWERS_COLOR in page
    assert f"[{IN_A[1]}, {IN_A[0]}]" in page  # the pin, [lat, lon]
    assert "5 very safe" in page and "1 very unsafe" in page


# -- the pages ---------------------------------------------------------------------------

@pytest.fixture
def public_app(sample_db: Path, monkeypatch: pytest.MonkeyPatch,
               fresh_streamlit_caches: None) -> AppTest:
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.delenv("CPTED_STAFF_MODE", raising=False)
    monkeypatch.chdir(ROOT)
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)


def test_progress_page_charts_downloads_and_table(public_app: AppTest,
                                                  sample_db: Path) -> None:
    at = public_app
    at.switch_page("app_pages/progress.py").run()
    assert not at.exception, at.exception
    by_label(at.selectbox, "Neighborhood").set_value("N2").run()
    assert not at.exception, at.exception
    assert any(c.value.startswith("Cedar Bend, ") for c in at.caption)
    assert [h.value for h in at.subheader][:len(pc.CHARTS)] == [c.title for c in pc.CHARTS]
    downloads = [d.proto.label for d in at.get("download_button")]
    assert downloads.count("Download this chart (PNG)") == len(pc.CHARTS)
    assert "Download the table (CSV)" in downloads
    images = at.get("image")
    assert [i.captions for i in images] == [[c.caption] for c in pc.CHARTS]
    table = at.dataframe[0].value
    assert table.columns[0] == "Month" and "Feeling safe after dark (1-5)" in table.columns
    assert not [c for c in table.columns if "_" in c]  # plain labels only
    # what the page shows is the door's computation for the public, month by month
    with open_store(sample_db) as s:
        every = Access(s, acc.public()).progress().of("N2")
    expected = every.iloc[-12:]
    shown = table.set_index("Month")
    for month, row in expected.iterrows():
        label = pc.month_label(month)
        assert shown.loc[label, "Reports opened"] == row["opened"]
        assert shown.loc[label, "Survey answers"] == row["survey_answers"]
        if not np.isnan(row["safe_mean"]):
            assert shown.loc[label, "Feeling safe: 95% low"] == pytest.approx(row["safe_low"])
    assert expected["survey_answers"].sum() > 0  # the sample district has a survey
    by_label(at.radio, "Months shown").set_value(0).run()  # all months
    assert len(at.dataframe[0].value) == len(every) > 12


def test_answering_the_survey_on_the_map(public_app: AppTest, sample_db: Path,
                                         map_returns: list[dict[str, Any]]) -> None:
    at = public_app
    with open_store(sample_db) as s:
        before = stored(s)
        hoods = s.read(Layer.NEIGHBORHOODS)
    target = hoods.iloc[2]
    inside = target.geometry.representative_point()
    at.switch_page("app_pages/survey.py").run()
    assert not at.exception, at.exception
    assert any("No place chosen" in i.value for i in at.info)
    by_label(at.button, "Send my answers").click().run()
    assert any("click the map where you mean" in w.value for w in at.warning)
    map_returns[0] = {"last_clicked": {"lat": inside.y, "lng": inside.x}}
    at.run()
    assert any(c.value == f"Chosen place: in **{target['name']}**." for c in at.caption)
    by_label(at.radio, pg.SAFETY_QUESTION).set_value(2).run()
    by_label(at.radio, pg.CONTACT_QUESTION).set_value("Yes").run()
    by_label(at.button, "Send my answers").click().run()
    assert not at.exception, at.exception
    assert any(f"your answers count for {target['name']}" in m.value for m in at.success)
    with open_store(sample_db) as s:
        assert stored(s) == before + 1
        with s.engine.connect() as conn:
            last = survey_repo.answers(conn).iloc[-1]
    assert (last["neighborhood_id"], last["safe_after_dark"], last["knows_contact"]) == (
        str(target["id"]), 2, True)
    # the same browser again, for the same neighborhood: refused, said on the page
    at.run()
    by_label(at.radio, pg.SAFETY_QUESTION).set_value(4).run()
    by_label(at.radio, pg.CONTACT_QUESTION).set_value("No").run()
    by_label(at.button, "Send my answers").click().run()
    assert any("already answered" in e.value for e in at.error)
    with open_store(sample_db) as s:
        assert stored(s) == before + 1
    # the totals table has plain labels and counts the answer
    totals = frame_with(at, "survey_answers").value.set_index("name")
    assert totals.loc[target["name"], "survey_answers"] >= 1
