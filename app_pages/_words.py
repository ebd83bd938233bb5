"""Words the pages show that come from the domain's tables (layer titles, field words,
roles, permissions, plan and spot statuses, the survey's questions, the Progress
measures and charts), marked here for the catalogue and translated where shown.

The domain keeps them in English (``layers`` is not read by ``make messages``, and the
analytics modules are left alone); each table below holds the same English text, keyed
the same way, and tests/test_i18n.py checks that the two stay equal. A word missing here
is shown in English (:func:`word`).
"""

from __future__ import annotations

from collections.abc import Mapping

from cpted import i18n
from cpted.i18n import N_, _

#: ``SCHEMAS[layer].title`` by layer value.
LAYER_TITLES: dict[str, str] = {
    "neighborhoods": N_("Neighborhoods"), "concerns": N_("Concerns"),
    "streetlights": N_("Streetlights"), "streets": N_("Streets"),
    "buildings": N_("Buildings"), "incidents": N_("Incidents"), "parcels": N_("Parcels"),
}

#: Each layer's name inside a sentence ("Import 6 rows into concerns"): its value.
LAYER_WORDS: dict[str, str] = {
    "neighborhoods": N_("neighborhoods"), "concerns": N_("concerns"),
    "streetlights": N_("streetlights"), "streets": N_("streets"),
    "buildings": N_("buildings"), "incidents": N_("incidents"), "parcels": N_("parcels"),
}

#: The values of ``layers.schema.FIELD_WORDS``.
FIELD_WORDS: frozenset[str] = frozenset({
    N_("Neighborhood id"), N_("Neighborhood name"), N_("Population"), N_("Report number"),
    N_("Category code"), N_("Category name"), N_("Description"), N_("Address"),
    N_("Reported on"), N_("Last updated"), N_("Open or closed"), N_("Detailed status"),
    N_("Day or night"), N_("Where it came from"), N_("Answers to the category's questions"),
    N_("Pole number"), N_("Light output (lumens)"), N_("Power (watts)"),
    N_("Mounting height (m)"), N_("Working or out"), N_("Fixture type"),
    N_("Street segment id"), N_("Street name"), N_("Street class"),
    N_("Level (bridge or underpass)"), N_("One way"), N_("Building id"), N_("Height (m)"),
    N_("Incident number"), N_("Offense or call type"), N_("Happened on"),
    N_("Parcel number"), N_("Vacant or occupied"), N_("Kind of owner"),
})

#: ``cpted.privacy.Role`` by value.
ROLES: dict[str, str] = {
    "public": N_("public"), "resident": N_("resident"), "coordinator": N_("coordinator"),
    "officer": N_("officer"), "planner": N_("planner"), "admin": N_("admin"),
}

#: ``cpted.access.Action`` values (what each role may do).
ACTIONS: frozenset[str] = frozenset({
    N_("report a concern"), N_("support a concern (me too)"),
    N_("follow a report or an area by e-mail"),
    N_("answer whether a followed report is fixed"), N_("record a CPTED audit"),
    N_("answer the perception survey"), N_("edit or delete anyone's CPTED audit"),
    N_("see exact locations of sensitive categories"), N_("see internal notes"),
    N_("see reporter contact"), N_("change statuses"), N_("assign reports to staff"),
    N_("follow the reports assigned to oneself"), N_("merge duplicate reports"),
    N_("delete reports"), N_("gather problem spots and make action plans"),
    N_("log and see patrol visits"), N_("edit categories"),
    N_("edit the CPTED instrument"), N_("manage accounts and roles"),
    N_("make and revoke Open311 API keys"), N_("see the change log (audit trail)"),
    N_("import data"), N_("save import profiles for everyone to use"),
    N_("load the sample district"), N_("build digests and send follow messages"),
})

#: ``cpted.spots.PlanStatus``, ``OwnerKind`` and ``SpotStatus`` values.
PLAN_WORDS: frozenset[str] = frozenset({
    N_("planned"), N_("in progress"), N_("done"), N_("dropped"),
    N_("resident"), N_("block association"), N_("police"), N_("city department"),
    N_("other"),
    N_("open, no plan under way"), N_("plan overdue"), N_("plan under way"),
    N_("all reports closed"),
})

#: ``cpted.progress``: the survey's two questions and its scale of answers.
SURVEY_WORDS: frozenset[str] = frozenset({
    N_("How safe do you feel walking here after dark?"),
    N_("Do you know whom to contact about a problem here?"),
    N_("Very unsafe"), N_("Unsafe"), N_("Neither safe nor unsafe"), N_("Safe"),
    N_("Very safe"),
})

#: ``cpted.progress.MEASURES``, the Progress table's column labels, by key; ``{level}`` is
#: the intervals' confidence, written the language's way (:func:`measure`).
MEASURES: dict[str, str] = {
    "opened": N_("Reports opened"), "closed": N_("Reports closed"),
    "median_days_to_close": N_("Median days to close"), "due": N_("Reports due"),
    "closed_within_target": N_("Closed within target"), "reopened": N_("Reopened"),
    "plans_done": N_("Plans done"), "plans_overdue": N_("Plans overdue"),
    "audits_rated": N_("Audits rated"), "audit_score": N_("Mean audit score"),
    "audits_not_rated": N_("Audits with too few answers"), "repairs": N_("Lights repaired"),
    "night_before": N_("Night concerns near them, before"),
    "night_after": N_("Night concerns near them, after"),
    "repairs_watching": N_("Repairs still within their after window"),
    "survey_answers": N_("Survey answers"), "safe_mean": N_("Feeling safe after dark (1-5)"),
    "safe_low": N_("Feeling safe: {level} low"), "safe_high": N_("Feeling safe: {level} high"),
    "knows_contact": N_("Know whom to contact"),
    "knows_low": N_("Know whom to contact: {level} low"),
    "knows_high": N_("Know whom to contact: {level} high"),
}
#: The confidence of every interval the survey's measures show.
LEVEL = 0.95

#: ``cpted.progress_charts.CHARTS``: each chart's title and caption by key.
CHARTS: dict[str, tuple[str, str]] = {
    "reports": (N_("Reports opened and closed"),
                N_("Reports made and closed each month; triangles mark reopenings.")),
    "closing": (N_("Closing on time"),
                N_("Bars: of the reports whose category's target fell in the month, the "
                   "share closed by then (their number above). Line: median days from "
                   "report to close of the reports closed in the month.")),
    "plans": (N_("Action plans"),
              N_("Plans marked done each month, and plans overdue at each month's end.")),
    "audits": (N_("CPTED audit scores"),
               N_("Mean overall score of the audits made in the month, counting only "
                  "audits with enough answers to rate.")),
    "lights": (N_("Night-time concerns near repaired lights"),
               N_("For the lights repaired each month (their number over the bars): "
                  "night-time concerns within 100 m in the 90 days before and after the "
                  "repair. Reports are not crime, and a change is not proof that a repair "
                  "worked.")),
    "safety": (N_("How safe people feel walking here after dark"),
               N_("Survey answers, 1 (very unsafe) to 5 (very safe): the month's mean with "
                  "its 95% t interval; the number of answers along the bottom.")),
    "contact": (N_("People who know whom to contact about a problem"),
                N_("Survey answers: the share answering yes with its 95% Wilson score "
                   "interval; the number of answers along the bottom.")),
}

#: ``cpted.outcomes.CAVEATS``.
CAVEATS = N_(
    "This compares reports, not crime: a change can come from people reporting more or "
    "less. Repairs were not assigned at random, counts near a few lights are small, and "
    "activity may move to nearby streets. A difference here is a reason to look closer, "
    "not proof that the repairs worked."
)

_KNOWN: frozenset[str] = frozenset(
    {*LAYER_TITLES.values(), *FIELD_WORDS, *ROLES.values(), *ACTIONS, *PLAN_WORDS,
     *SURVEY_WORDS, CAVEATS, *(t for pair in CHARTS.values() for t in pair)})


def word(text: str) -> str:
    """``text`` in the language in use when it is one of the words above; anything else
    (a field a deployment named, a new status) as it is."""
    return _(text) if text in _KNOWN else text


def measure(key: str, english: str) -> str:
    """The label of the Progress measure ``key`` in the language in use (``english``, the
    domain's label, when the measure is not in :data:`MEASURES`)."""
    if key not in MEASURES:
        return english
    return _(MEASURES[key]).format(level=i18n.percent(LEVEL))


def layer_title(layer: str) -> str:
    """A layer's title in the language in use: ``"concerns"`` -> ``"Problemas"``."""
    return _(LAYER_TITLES[layer]) if layer in LAYER_TITLES else layer


def layer_word(layer: str) -> str:
    """A layer's name inside a sentence: ``"concerns"`` -> ``"problemas"``."""
    return _(LAYER_WORDS[layer]) if layer in LAYER_WORDS else layer


def words_of(table: Mapping[str, str]) -> dict[str, str]:
    """Each value of ``table`` translated by :func:`word`."""
    return {k: word(v) for k, v in table.items()}
