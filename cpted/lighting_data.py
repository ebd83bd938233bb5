"""The lighting data table: inventory defaults, luminaire shapes, model constants, targets.

Read from ``cpted/data/lighting.toml`` (or a city's own copy), every figure with its
source named under ``[sources]`` or marked as this project's assumption.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cpted.i18n import _
from cpted.photometry import Distribution, LightingDataError, lateral_type, read_lm63

LIGHTING_DATA = Path(__file__).with_name("data") / "lighting.toml"
#: The default distribution for 1000 lm: IES Type V (see :meth:`Distribution.even_field`).
DEFAULT_DISTRIBUTION = Distribution.even_field(1000.0)


@dataclass(frozen=True)
class Target:
    street_class: str
    category: str
    avg_lux: float
    ev_min_lux: float
    avg_to_min: float
    source: str

    @property
    def min_lux(self) -> float:
        return self.avg_lux / self.avg_to_min


@dataclass(frozen=True)
class Luminaire:
    """A luminaire shape named in fixture names ("cobra head"), with its distribution."""

    name: str
    words: tuple[str, ...]
    lateral: str  # IES lateral type: II, III, IV or V
    distribution: Distribution  # per 1000 lm; from its LM-63 file when it names one
    from_file: bool
    source: str

    def modelled_as(self) -> str:
        """Plain words: "IES Type III, aimed across the nearest street (idealised)"."""
        if self.lateral == "V":
            said = (_("IES Type {type}, the same all round (from its photometric file)")
                    if self.from_file else _("IES Type {type}, the same all round (idealised)"))
        else:
            said = (_("IES Type {type}, aimed across the nearest street (from its photometric "
                      "file)") if self.from_file else
                    _("IES Type {type}, aimed across the nearest street (idealised)"))
        return said.format(type=self.lateral)

    def describe(self) -> str:
        """Plain words for the page: "cobra head: IES Type III, aimed across ..."."""
        return f"{self.name}: {self.modelled_as()}"


@dataclass(frozen=True)
class LightingData:
    maintenance_factor: float
    ignored_share: float
    light_output_ratio: float
    sample_spacing_m: float
    default_height_m: float
    default_watts: float
    default_fixture: str
    fixtures: Mapping[str, Mapping[str, Any]]  # TOML tables
    targets: Mapping[str, Target]
    sources: Mapping[str, str]
    photometry: Mapping[str, Distribution] = field(default_factory=dict)  # per 1000 lm
    luminaires: Mapping[str, Luminaire] = field(default_factory=dict)
    vertical_height_m: float = 1.5

    def fixture_lumens(self, fixture: str, watts: float) -> float | None:
        """Luminaire lumens for ``watts`` of ``fixture`` (None when the type is unknown)."""
        f = self.fixtures.get(fixture)
        if f is None:
            return None
        if "lumens_by_watts" in f:
            table = {float(k): float(v) for k, v in f["lumens_by_watts"].items()}
            nearest = min(table, key=lambda w: abs(w - watts))
            lumens = table[nearest] * watts / nearest
        else:
            lumens = float(f["lumens_per_watt"]) * watts
        return lumens * (self.light_output_ratio if f.get("lamp_lumens") else 1.0)


def load_lighting_data(path: str | Path | None = None) -> LightingData:
    """Defaults, model constants and targets (default: ``cpted/data/lighting.toml``)."""
    p = Path(path) if path else LIGHTING_DATA
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise LightingDataError(f"cannot read the lighting data {p}: {exc}") from None
    problems = []
    sources = raw.get("sources", {})
    targets = {}
    for cls, t in raw.get("targets", {}).items():
        try:
            targets[cls] = Target(cls, str(t["category"]), float(t["avg_lux"]),
                                  float(t["ev_min_lux"]), float(t["avg_to_min"]),
                                  str(t["source"]))
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"target {cls}: {exc!r} (need category, avg_lux, ev_min_lux, "
                            "avg_to_min, source)")
            continue
        if t["source"] not in sources:
            problems.append(f"target {cls}: source {t['source']!r} is not under [sources]")
        if not (targets[cls].avg_lux > 0 and targets[cls].avg_to_min >= 1):
            problems.append(f"target {cls}: avg_lux must be positive and avg_to_min >= 1")
    for name, f in raw.get("fixtures", {}).items():
        if "lumens_by_watts" not in f and "lumens_per_watt" not in f:
            problems.append(f"fixture {name}: give lumens_by_watts or lumens_per_watt")
    photometry = {}
    for name, f in raw.get("fixtures", {}).items():
        if "ies_file" in f:  # relative to the data file
            try:
                dist = read_lm63(p.parent / str(f["ies_file"])).distribution()
                photometry[name] = dist.scaled(1000.0 / dist.lumens())
            except LightingDataError as exc:
                problems.append(f"fixture {name}: {exc}")
    luminaires = {}
    for name, f in raw.get("luminaires", {}).items():
        words = tuple(normal_words(str(w)) for w in f.get("words", [name]))
        lateral = str(f.get("ies_type", "V")).upper()
        if f.get("source") not in sources:
            problems.append(f"luminaire {name}: source {f.get('source')!r} is not under "
                            "[sources]")
        try:
            if "ies_file" in f:
                dist = read_lm63(p.parent / str(f["ies_file"])).distribution()
                lateral = lateral_type(dist)
            elif lateral == "V":
                dist = DEFAULT_DISTRIBUTION
            else:
                dist = Distribution.ies_type(lateral, 1000.0)
        except LightingDataError as exc:
            problems.append(f"luminaire {name}: {exc}")
            continue
        luminaires[name] = Luminaire(name, words, lateral, dist.scaled(1000.0 / dist.lumens()),
                                     "ies_file" in f, str(f.get("source")))
    model, defaults = raw.get("model", {}), raw.get("defaults", {})
    if defaults.get("fixture_type") not in raw.get("fixtures", {}):
        problems.append("defaults.fixture_type must name one of the [fixtures]")
    if problems:
        raise LightingDataError(f"{p.name} has {len(problems)} problem(s)", problems)
    return LightingData(
        maintenance_factor=float(model.get("maintenance_factor", 0.8)),
        ignored_share=float(model.get("ignored_share", 0.01)),
        light_output_ratio=float(model.get("light_output_ratio", 0.75)),
        sample_spacing_m=float(model.get("sample_spacing_m", 5.0)),
        default_height_m=float(defaults.get("mounting_height_m", 9.0)),
        default_watts=float(defaults.get("watts", 150)),
        default_fixture=str(defaults["fixture_type"]),
        fixtures=raw.get("fixtures", {}), targets=targets, sources=sources,
        photometry=photometry, luminaires=luminaires,
        vertical_height_m=float(model.get("vertical_height_m", 1.5)))


def normal_words(text: str) -> str:
    """Lower-case words of ``text`` joined by single spaces ("Cobra-Head" -> "cobra head")."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))
