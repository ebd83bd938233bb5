"""The CPTED audit instrument, kept as data and validated on load.

An instrument is a TOML file (see ``cpted/data/instrument.toml``) with a
``[instrument]`` header (id, version, title), ``[sources]`` (key -> citation),
``[[principles]]`` and ``[[items]]``. Loading checks the whole file and raises
:class:`InstrumentError` naming every problem at once.

Every item is phrased so that a higher answer is the better state; answers are
stored as integers on the item's scale (``yes/no`` as 1/0).

The texts are kept in English, as written in the file, and translated where they are
shown (``_(item.question)``; :meth:`Item.label` gives an answer's words in the language
in use): ``cpted.i18n_extract.extract_instrument`` puts the shipped instrument's texts
in the catalogue. A deployment's own wording has no translation and is shown as written.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from cpted.i18n import N_, _
from layers.errors import UnusableInputError

DEFAULT_INSTRUMENT = Path(__file__).with_name("data") / "instrument.toml"

#: The stored answer for "not applicable here".
NA = "na"
#: Largest instrument file taken from an upload, in MB (of 1024 x 1024 bytes).
MAX_FILE_MB = 1


class InstrumentError(UnusableInputError):
    """An instrument file that cannot be used; ``problems`` lists every fault."""


class Scale(StrEnum):
    ZERO_THREE = "0-3"
    ONE_FIVE = "1-5"
    YES_NO = "yes/no"

    @property
    def values(self) -> tuple[int, ...]:
        return {"0-3": (0, 1, 2, 3), "1-5": (1, 2, 3, 4, 5), "yes/no": (0, 1)}[self.value]

    @property
    def default_labels(self) -> tuple[str, ...]:
        return {"0-3": (N_("Poor"), N_("Fair"), N_("Good"), N_("Very good")),
                "1-5": (N_("Very poor"), N_("Poor"), N_("Fair"), N_("Good"),
                        N_("Very good")),
                "yes/no": (N_("No"), N_("Yes"))}[self.value]


class Applies(StrEnum):
    DAY = "day"
    NIGHT = "night"
    BOTH = "both"


class RecommendationKind(StrEnum):
    QUICK_WIN = "quick win"
    CAPITAL = "capital"


class PrincipleKind(StrEnum):
    DESIGN = "design"    # counts toward the overall score
    OUTCOME = "outcome"  # scored on its own (how safe people feel)


@dataclass(frozen=True)
class Principle:
    id: str
    name: str
    description: str = ""
    weight: float = 1.0
    kind: PrincipleKind = PrincipleKind.DESIGN


@dataclass(frozen=True)
class Item:
    id: str
    principle: str
    question: str
    scale: Scale
    labels: tuple[str, ...]
    help: str = ""
    allow_na: bool = True
    applies: Applies = Applies.BOTH
    weight: float = 1.0
    recommendation: str = ""
    recommendation_kind: RecommendationKind = RecommendationKind.QUICK_WIN
    sources: tuple[str, ...] = ()

    def applies_to(self, period: str) -> bool:
        return self.applies is Applies.BOTH or self.applies.value == period

    def normalised(self, answer: int) -> float:
        """``answer`` on 0..1 (lowest value of the scale 0, highest 1)."""
        lo, hi = self.scale.values[0], self.scale.values[-1]
        return (answer - lo) / (hi - lo)

    def label(self, answer: int) -> str:
        """The words of ``answer`` in the language in use (a label the catalogue lacks,
        such as a deployment's own, as written)."""
        return _(self.labels[self.scale.values.index(answer)])


@dataclass(frozen=True)
class Instrument:
    id: str
    version: str
    title: str
    description: str
    weights_note: str
    principles: tuple[Principle, ...]
    items: tuple[Item, ...]
    sources: Mapping[str, str]
    text: str  # the TOML it was loaded from, stored beside assessments made with it

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.version)

    def principle(self, pid: str) -> Principle:
        return next(p for p in self.principles if p.id == pid)

    def item(self, iid: str) -> Item:
        return next(i for i in self.items if i.id == iid)

    def items_of(self, pid: str, period: str | None = None) -> list[Item]:
        return [i for i in self.items
                if i.principle == pid and (period is None or i.applies_to(period))]

    @property
    def equal_weights(self) -> bool:
        return (all(i.weight == 1 for i in self.items)
                and all(p.weight == 1 for p in self.principles))


_ITEM_KEYS = {"id", "principle", "question", "help", "scale", "labels", "allow_na", "applies",
              "weight", "recommendation", "recommendation_kind", "sources"}
_PRINCIPLE_KEYS = {"id", "name", "description", "weight", "kind"}


def _choice(value: Any, enum: type[StrEnum], where: str, field: str,
            problems: list[str]) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(repr(e.value) for e in enum)
        problems.append(f"{where}: {field} {value!r} is not one of {allowed}")
        return None


def _weight(value: Any, where: str, problems: list[str]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        problems.append(f"{where}: weight must be a positive number, got {value!r}")
        return 1.0
    return float(value)


def _text(raw: Mapping[str, Any], key: str, where: str, problems: list[str], *,
          required: bool = True) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        problems.append(f"{where}: {key} must be text, got {value!r}")
        return ""
    if required and not value.strip():
        problems.append(f"{where}: {key} is missing")
    return value.strip()


def parse_instrument(text: str, *, name: str = "instrument") -> Instrument:
    """An :class:`Instrument` from TOML text; raises :class:`InstrumentError`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InstrumentError(f"{name} is not valid TOML: {exc}") from None
    problems: list[str] = []
    head = data.get("instrument")
    if not isinstance(head, dict):
        head = {}
        problems.append("the [instrument] table (id, version, title) is missing")
    iid = _text(head, "id", "[instrument]", problems)
    version = str(head.get("version", "")).strip()
    if not version:
        problems.append("[instrument]: version is missing")
    title = _text(head, "title", "[instrument]", problems)

    sources_raw = data.get("sources", {})
    sources = {str(k): str(v) for k, v in sources_raw.items()} if isinstance(
        sources_raw, dict) else {}

    principles: list[Principle] = []
    seen_p: set[str] = set()
    for n, raw in enumerate(data.get("principles", []), start=1):
        pid = str(raw.get("id", "")).strip()
        where = f"principle {n} ({pid or 'no id'})"
        for extra in sorted(set(raw) - _PRINCIPLE_KEYS):
            problems.append(f"{where}: unknown field {extra!r}")
        if not pid:
            problems.append(f"{where}: id is missing")
        elif pid in seen_p:
            problems.append(f"{where}: duplicate principle id {pid!r}")
        seen_p.add(pid)
        kind = _choice(raw.get("kind", "design"), PrincipleKind, where, "kind", problems)
        principles.append(Principle(
            id=pid, name=_text(raw, "name", where, problems),
            description=_text(raw, "description", where, problems, required=False),
            weight=_weight(raw.get("weight", 1.0), where, problems),
            kind=kind or PrincipleKind.DESIGN))
    if not principles:
        problems.append("no [[principles]] are defined")

    items: list[Item] = []
    seen_i: set[str] = set()
    for n, raw in enumerate(data.get("items", []), start=1):
        item_id = str(raw.get("id", "")).strip()
        where = f"item {n} ({item_id or 'no id'})"
        for extra in sorted(set(raw) - _ITEM_KEYS):
            problems.append(f"{where}: unknown field {extra!r}")
        if not item_id:
            problems.append(f"{where}: id is missing")
        elif item_id in seen_i:
            problems.append(f"{where}: duplicate item id {item_id!r}")
        seen_i.add(item_id)
        principle = str(raw.get("principle", "")).strip()
        if principle not in seen_p:
            problems.append(f"{where}: unknown principle {principle!r}")
        scale = _choice(raw.get("scale"), Scale, where, "scale", problems)
        labels: tuple[str, ...] = ()
        if scale is not None:
            labels = tuple(str(x) for x in raw.get("labels", scale.default_labels))
            if len(labels) != len(scale.values):
                problems.append(f"{where}: scale {scale.value} needs {len(scale.values)} "
                                f"labels, got {len(labels)}")
        applies = _choice(raw.get("applies", "both"), Applies, where, "applies", problems)
        kind = _choice(raw.get("recommendation_kind", "quick win"), RecommendationKind, where,
                       "recommendation_kind", problems)
        item_sources = tuple(str(s) for s in raw.get("sources", []))
        for s in item_sources:
            if s not in sources:
                problems.append(f"{where}: source {s!r} is not listed under [sources]")
        allow_na = raw.get("allow_na", True)
        if not isinstance(allow_na, bool):
            problems.append(f"{where}: allow_na must be true or false, got {allow_na!r}")
        items.append(Item(
            id=item_id, principle=principle, question=_text(raw, "question", where, problems),
            scale=scale or Scale.ZERO_THREE, labels=labels,
            help=_text(raw, "help", where, problems, required=False),
            allow_na=bool(allow_na), applies=applies or Applies.BOTH,
            weight=_weight(raw.get("weight", 1.0), where, problems),
            recommendation=_text(raw, "recommendation", where, problems, required=False),
            recommendation_kind=kind or RecommendationKind.QUICK_WIN,
            sources=item_sources))
    if not items:
        problems.append("no [[items]] are defined")
    used = {i.principle for i in items}
    for p in principles:
        if p.id and p.id not in used:
            problems.append(f"principle {p.id!r} has no items")
    if problems:
        raise InstrumentError(f"{name} has {len(problems)} problem(s)", problems)
    return Instrument(
        id=iid, version=version, title=title,
        description=_text(head, "description", "[instrument]", problems, required=False),
        weights_note=_text(head, "weights_note", "[instrument]", problems, required=False),
        principles=tuple(principles), items=tuple(items), sources=sources, text=text)


def load_instrument(path: str | Path | None = None) -> Instrument:
    """The instrument at ``path`` (default: the bundled CPTED street audit)."""
    p = Path(path) if path else DEFAULT_INSTRUMENT
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InstrumentError(f"cannot read the instrument file {p}: {exc}") from None
    return parse_instrument(text, name=p.name)


def check_answers(instrument: Instrument, answers: Mapping[str, int | str | None],
                  period: str) -> list[str]:
    """Every problem with ``answers`` (unknown items, values off the scale, N/A not allowed)."""
    problems = []
    ids = {i.id for i in instrument.items}
    for key, value in answers.items():
        if key not in ids:
            problems.append(f"{key!r} is not an item of {instrument.title}")
            continue
        item = instrument.item(key)
        if value is None:
            continue
        if value == NA:
            if not item.allow_na:
                problems.append(f"{key}: N/A is not allowed for this item")
        elif isinstance(value, bool) or value not in item.scale.values:
            problems.append(f"{key}: {value!r} is not on the {item.scale.value} scale")
        elif not item.applies_to(period):
            problems.append(f"{key}: this item applies only by {item.applies.value}")
    return problems
