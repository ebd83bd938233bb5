"""Luminous intensity distributions: the default, the IES lateral types, LM-63 files.

A :class:`Distribution` gives candela by vertical angle ``theta`` (degrees from the
nadir) and, when it is not the same all round, by horizontal angle ``psi`` in IES
type C convention (ANSI/IESNA LM-63-2002, the photometric data file format):
``psi`` is measured counter-clockwise seen from above, the 0-180 degree plane runs
along the street and 90 degrees points across it to the street side ("front"),
270 degrees to the house side. A pole's luminaire is turned so its 90 degree plane
faces the nearest street (:func:`cpted.lighting.orient_to_streets`).

Lateral types (the IES lateral light distribution classification, as given in ANSI/IES
RP-8, Roadway Lighting, and the IES Lighting Handbook): the half-maximum isocandela trace on
the ground, in mounting heights (MH) across the street from the pole, reaches on the
street side up to 1.0 MH (Type I), 1.0-1.75 MH (Type II), 1.75-2.75 MH (Type III) or
beyond 2.75 MH (Type IV); Type V is circularly symmetric. :func:`lateral_type`
applies that rule to any distribution.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from layers.errors import UnusableInputError

FloatArray = NDArray[np.float64]
#: Where the default (Type V) distribution peaks (degrees from the nadir).
DEFAULT_PEAK_DEG = 70.0
#: The street-side reach of the half-maximum candela trace bounding each lateral type,
#: in mounting heights (IES lateral classification, ANSI/IES RP-8; IES Lighting Handbook).
LATERAL_LIMITS_MH = {"I": 1.0, "II": 1.75, "III": 2.75}
LateralType = Literal["I", "II", "III", "IV", "V"]


class LightingDataError(UnusableInputError):
    """A photometric file or lighting data table that cannot be used."""


@dataclass(frozen=True)
class Distribution:
    """Candela by vertical angle (degrees from the nadir) and, optionally, horizontal angle.

    With ``horizontal_deg`` None, ``candela`` has one value per vertical angle and the
    intensity is the same in every horizontal direction. Otherwise ``horizontal_deg``
    runs from 0 to 360 degrees (type C, see the module docstring) and ``candela`` has
    shape ``(len(horizontal_deg), len(angles_deg))``.
    """

    angles_deg: FloatArray
    candela: FloatArray
    horizontal_deg: FloatArray | None = None
    _reach: dict[float, float] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        a = np.asarray(self.angles_deg, dtype=float)
        if a.ndim != 1 or len(a) < 2 or np.any(np.diff(a) < 0) or a[0] < 0 or a[-1] > 180:
            raise LightingDataError("vertical angles must increase within 0-180 degrees")
        cd = np.asarray(self.candela)
        if self.horizontal_deg is None:
            if cd.shape != a.shape:
                raise LightingDataError("one candela value is needed per vertical angle")
            return
        h = np.asarray(self.horizontal_deg, dtype=float)
        if h.ndim != 1 or len(h) < 2 or h[0] != 0 or h[-1] != 360 or np.any(np.diff(h) <= 0):
            raise LightingDataError("horizontal angles must increase from 0 to 360 degrees, "
                                    f"got {h.tolist()[:3]}...{h.tolist()[-1:]}")
        if cd.shape != (len(h), len(a)):
            raise LightingDataError(f"candela should be {len(h)} x {len(a)} (horizontal x "
                                    f"vertical), got {cd.shape}")

    @property
    def symmetric(self) -> bool:
        """Whether the intensity is the same in every horizontal direction (Type V)."""
        return self.horizontal_deg is None

    def intensity(self, theta_deg: FloatArray, psi_deg: FloatArray | None = None) -> FloatArray:
        """Candela toward ``(theta_deg, psi_deg)``, bilinear between tabulated angles.

        Zero beyond the last vertical angle. ``psi_deg`` (any real value, taken modulo
        360) is needed only by an asymmetric distribution; without it such a
        distribution gives its mean over horizontal angles (:meth:`averaged`).
        """
        theta = np.asarray(theta_deg, dtype=float)
        if self.horizontal_deg is None:
            flat: FloatArray = np.interp(theta, self.angles_deg, self.candela, right=0.0)
            return flat
        if psi_deg is None:
            return self.averaged().intensity(theta)
        h = self.horizontal_deg
        psi = np.mod(np.asarray(psi_deg, dtype=float), 360.0)
        i = np.clip(np.searchsorted(h, psi, side="right") - 1, 0, len(h) - 2)
        fh = (psi - h[i]) / (h[i + 1] - h[i])
        v = self.angles_deg
        j = np.clip(np.searchsorted(v, theta, side="right") - 1, 0, len(v) - 2)
        span = v[j + 1] - v[j]
        fv = np.where(span > 0, (theta - v[j]) / np.where(span > 0, span, 1.0), 0.0)
        fv = np.clip(fv, 0.0, 1.0)
        c = self.candela
        low = (1 - fv) * c[i, j] + fv * c[i, j + 1]
        high = (1 - fv) * c[i + 1, j] + fv * c[i + 1, j + 1]
        out: FloatArray = (1 - fh) * low + fh * high
        return np.where(theta > v[-1], 0.0, out)

    def averaged(self) -> Distribution:
        """The mean over horizontal angles (trapezoidal over 0-360), same in every direction."""
        if self.horizontal_deg is None:
            return self
        h = self.horizontal_deg
        mean = np.trapezoid(self.candela, h, axis=0) / 360.0
        return Distribution(self.angles_deg, np.asarray(mean, dtype=float))

    def lumens(self) -> float:
        """Total flux: the integral of I(theta, psi) sin(theta) over the sphere."""
        t = np.linspace(0, 180, 3601)
        s = np.sin(np.radians(t))
        if self.horizontal_deg is None:
            return float(2 * np.pi * np.trapezoid(self.intensity(t) * s, np.radians(t)))
        t = np.linspace(0, 180, 1441)
        s = np.sin(np.radians(t))
        p = np.linspace(0, 360, 361)
        tt, pp = np.meshgrid(t, p)
        per_plane = np.trapezoid(self.intensity(tt, pp) * s, np.radians(t), axis=1)
        return float(np.trapezoid(per_plane, np.radians(p)))

    def scaled(self, factor: float) -> Distribution:
        out = Distribution(self.angles_deg, self.candela * factor, self.horizontal_deg)
        out._reach.update(self._reach)  # the reach is a share, unchanged by scaling
        return out

    def reach_heights(self, ignored_share: float = 0.01) -> float:
        """How far (in mounting heights) contributions must be summed so that what is
        left out is under ``ignored_share`` of a street's average.

        Along a straight street lit by a row of these poles at any even spacing, the
        average illuminance on a line is the line integral of one pole's illuminance
        divided by the spacing; so the share of that average left out by a cut at
        radius ``R`` is the share of the line integral beyond ``R``. It is taken as
        the worst over lines parallel to the street 0 to 1 MH behind and 0 to 2 MH in
        front of the pole (for an asymmetric distribution, along its 0-180 plane),
        and ``R`` is the smallest whole quarter mounting height meeting it. On a street
        whose average is at or below its target, the only streets whose verdict the
        cut could change, what is left out is then under ``ignored_share`` of the
        target average.
        """
        key = float(ignored_share)
        if key not in self._reach:
            self._reach[key] = _reach_heights(self, key)
        return self._reach[key]

    @classmethod
    def uniform(cls, candela: float) -> Distribution:
        """The same intensity in every direction (an isotropic source)."""
        return cls(np.array([0.0, 180.0]), np.array([candela, candela]))

    @classmethod
    def lower_hemisphere(cls, lumens: float) -> Distribution:
        """``lumens`` spread evenly below the horizontal (I = lumens / 2 pi): symmetric,
        so IES lateral Type V, like :meth:`even_field`."""
        cd = lumens / (2 * np.pi)
        return cls(np.array([0.0, 90.0, 90.0, 180.0]), np.array([cd, cd, 0.0, 0.0]))

    @classmethod
    def even_field(cls, lumens: float, *, peak_deg: float = DEFAULT_PEAK_DEG) -> Distribution:
        """The default: IES lateral Type V, the same in every horizontal direction.

        Intensity grows as 1/cos^3(theta) out to ``peak_deg`` from the nadir, which
        lights level ground evenly out to ``h * tan(peak_deg)`` (2.75 mounting heights
        at 70 degrees) all round the pole, then falls linearly to nothing at the
        horizontal; no light goes up. Being circularly symmetric it is a Type V
        distribution: it lights back yards as much as the street. Used when the
        inventory names no luminaire shape with a lateral type or photometric file;
        scaled to ``lumens``.
        """
        inner = np.linspace(0.0, peak_deg, 141)
        outer = np.linspace(peak_deg, 90.0, 41)[1:]
        i_peak = 1 / np.cos(np.radians(peak_deg)) ** 3
        cd = np.concatenate([1 / np.cos(np.radians(inner)) ** 3,
                             i_peak * (90.0 - outer) / (90.0 - peak_deg), [0.0]])
        base = cls(np.concatenate([inner, outer, [180.0]]), cd)
        return base.scaled(lumens / base.lumens())

    @classmethod
    def ies_type(cls, lateral: str, lumens: float) -> Distribution:
        return _ies_type_1000(lateral).scaled(lumens / 1000.0)

    @classmethod
    def _ies_type(cls, lateral: str, lumens: float) -> Distribution:
        """An idealised asymmetric street distribution of IES lateral Type II, III or IV.

        Like :meth:`even_field`, it is defined by the light it puts on level ground:
        in mounting heights (MH), with ``x`` along the street and ``w`` across it
        (positive on the street side), illuminance is even over the rectangle
        ``|x| <= 3``, ``-b <= w <= f`` and falls linearly to nothing over the next
        0.5 MH; intensity is that illuminance times ``(1 + x^2 + w^2)^(3/2)`` (the
        inverse of ``cos^3 / h^2``). Intensity is greatest toward the far corners, and
        the half-maximum trace reaches about ``f + 0.25`` MH across the street:
        ``f`` = 1.25, 2.0 and 3.0 MH give Types II, III and IV (checked by
        :func:`lateral_type`), with ``b`` = 0.5, 0.5 and 0.25 MH behind the pole. No
        light goes up. Scaled to ``lumens``.
        """
        shapes = {"II": (1.25, 0.5), "III": (2.0, 0.5), "IV": (3.0, 0.25)}
        if lateral not in shapes:
            raise LightingDataError(f"a lateral type must be one of {sorted(shapes)} for an "
                                    f"asymmetric distribution (V is the default), got "
                                    f"{lateral!r}")
        front, back = shapes[lateral]
        theta = np.concatenate([np.arange(0.0, 89.5, 0.5), [89.5, 90.0, 180.0]])
        psi = np.arange(0.0, 361.0, 1.0)
        tt, pp = np.meshgrid(np.radians(np.minimum(theta, 89.9)), np.radians(psi))
        r = np.tan(tt)
        x, w = r * np.cos(pp), r * np.sin(pp)
        outside = np.hypot(np.maximum(np.abs(x) - 3.0, 0.0),
                           np.maximum(np.maximum(w - front, -back - w), 0.0))
        ground = np.clip(1.0 - outside / 0.5, 0.0, 1.0)
        cd = ground * (1.0 + r * r) ** 1.5
        cd[:, theta >= 90.0] = 0.0
        base = cls(theta, cd, psi)
        return base.scaled(lumens / base.lumens())


@functools.lru_cache(maxsize=8)
def _ies_type_1000(lateral: str) -> Distribution:
    return Distribution._ies_type(lateral, 1000.0)


def ground_pattern(dist: Distribution, *, extent_mh: float = 8.0,
                   step_mh: float = 0.02) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Candela toward each point of level ground around a pole 1 MH high.

    Returns ``(x, w, candela)`` on a square grid (x along the 0-180 plane, w toward
    90 degrees, the street side), in mounting heights.
    """
    ax = np.arange(-extent_mh, extent_mh + step_mh / 2, step_mh)
    x, w = np.meshgrid(ax, ax)
    theta = np.degrees(np.arctan(np.hypot(x, w)))
    psi = np.degrees(np.arctan2(w, x))
    return x, w, dist.intensity(theta, None if dist.symmetric else psi)


def lateral_type(dist: Distribution) -> LateralType:
    """The IES lateral type of ``dist`` by its half-maximum candela trace on the ground.

    A symmetric distribution is Type V; otherwise the trace's furthest reach on the
    street side (toward 90 degrees), in mounting heights, against
    :data:`LATERAL_LIMITS_MH`.
    """
    if dist.symmetric:
        return "V"
    _x, w, cd = ground_pattern(dist)
    reach = float(w[cd >= cd.max() / 2].max())
    for name, limit in LATERAL_LIMITS_MH.items():
        if reach <= limit:
            return name  # type: ignore[return-value]
    return "IV"


def _line_integrals(dist: Distribution, offset_mh: float, radii: FloatArray) -> FloatArray:
    """Integral of E (pole 1 MH high) along the line ``w = offset_mh`` beyond each radius,
    the last entry being the whole line."""
    x = np.linspace(-80.0, 80.0, 64001)
    r = np.hypot(x, offset_mh)
    theta = np.degrees(np.arctan(r))
    psi = np.degrees(np.arctan2(offset_mh, x))
    e = dist.intensity(theta, None if dist.symmetric else psi) * np.cos(np.radians(theta)) ** 3
    dx = x[1] - x[0]
    order = np.argsort(r)
    beyond = np.concatenate([np.cumsum(e[order][::-1])[::-1], [0.0]]) * dx  # r >= r[order][k]
    first = np.searchsorted(r[order], radii, side="right")
    return np.concatenate([beyond[first], [beyond[0]]])


def _reach_heights(dist: Distribution, share: float) -> float:
    radii = np.arange(1.0, 40.01, 0.25)
    offsets = [0.0, 0.5, 1.0] if dist.symmetric else [-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0]
    lines = [_line_integrals(dist, w, radii) for w in offsets]
    biggest = max(float(line[-1]) for line in lines)
    need = 1.0
    for line in lines:
        if line[-1] < 0.01 * biggest:  # a line this faint sets no reach
            continue
        ok = np.flatnonzero(line[:-1] < share * line[-1])
        need = max(need, float(radii[ok[0]]) if len(ok) else float(radii[-1]))
    return need


# -- IES LM-63 ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Photometry:
    """The content of an IES LM-63 file (type C photometry)."""

    keywords: Mapping[str, str]
    lamps: int
    lumens_per_lamp: float  # -1: absolute photometry
    multiplier: float
    vertical_deg: FloatArray
    horizontal_deg: FloatArray
    candela: FloatArray  # (horizontal, vertical)
    ballast_factor: float = 1.0
    input_watts: float = 0.0

    def distribution(self) -> Distribution:
        """The file's distribution, kept asymmetric (all horizontal angles used).

        The horizontal angles say the file's symmetry (LM-63-2002; the
        90-270 form is LM-63-1995's): one angle, the same all round; 0-90, each
        quadrant the same; 0-180, symmetric about the 0-180 plane; 90-270, symmetric
        about the 90-270 plane; 0-360, no symmetry. The table is unfolded onto 0-360
        degrees accordingly.
        """
        cd = self.candela * self.multiplier * self.ballast_factor
        h = self.horizontal_deg.astype(float)
        v = self.vertical_deg.astype(float)
        if len(h) == 1:
            return Distribution(v, np.asarray(cd[0], dtype=float))
        span = (float(h[0]), float(h[-1]))
        fold = _FOLDS.get(span)
        if fold is None:
            raise LightingDataError(f"horizontal angles {span[0]:g}-{span[1]:g} are not a "
                                    "type C symmetry (0, 0-90, 0-180, 90-270 or 0-360)")
        images = np.concatenate([h, 180 - h, 180 + h, 360 - h, h - 180, h + 180])
        full = np.unique(np.round(np.mod(images, 360.0), 9))
        full = np.concatenate([full, [360.0]])
        src = fold(full)
        table = np.stack([np.interp(src, h, cd[:, k]) for k in range(len(v))], axis=1)
        return Distribution(v, table, full)


def _fold_quadrant(t: FloatArray) -> FloatArray:
    q = np.mod(t, 180.0)
    out: FloatArray = np.where(q > 90.0, 180.0 - q, q)
    return out


def _fold_half(t: FloatArray) -> FloatArray:
    out: FloatArray = np.where(t <= 180.0, t, 360.0 - t)
    return out


def _fold_back(t: FloatArray) -> FloatArray:
    out: FloatArray = np.where((t >= 90.0) & (t <= 270.0), t, np.mod(180.0 - t, 360.0))
    return out


def _fold_none(t: FloatArray) -> FloatArray:
    return t


#: Where each angle of the full circle is read from, for each LM-63 horizontal span.
_FOLDS: dict[tuple[float, float], Callable[[FloatArray], FloatArray]] = {
    (0.0, 90.0): _fold_quadrant,
    (0.0, 180.0): _fold_half,
    (90.0, 270.0): _fold_back,
    (0.0, 360.0): _fold_none,
}


def _numbers(tokens: Sequence[str], n: int, what: str, pos: int) -> tuple[FloatArray, int]:
    if pos + n > len(tokens):
        raise LightingDataError(f"the LM-63 file ends early: expected {n} value(s) for {what}")
    try:
        return np.array([float(t) for t in tokens[pos:pos + n]]), pos + n
    except ValueError as exc:
        raise LightingDataError(f"the LM-63 file has a non-number among the {what}: "
                                f"{exc}") from None
def parse_lm63(text: str) -> Photometry:
    """A :class:`Photometry` from the text of an IES LM-63 (1991, 1995, 2002, 2019) file."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    keywords: dict[str, str] = {}
    i = 0
    if lines and lines[0].strip().upper().startswith("IESNA"):
        i = 1
    while i < len(lines) and not lines[i].strip().upper().startswith("TILT"):
        m = re.match(r"\s*\[([^\]]+)\]\s*(.*)", lines[i])
        if m:
            keywords[m.group(1).strip().upper()] = m.group(2).strip()
        i += 1
    if i == len(lines):
        raise LightingDataError("not an IES LM-63 file: no TILT= line found")
    tilt = lines[i].split("=", 1)[1].strip().upper() if "=" in lines[i] else ""
    tokens = " ".join(lines[i + 1:]).replace(",", " ").split()
    pos = 0
    if tilt == "INCLUDE":
        (_geometry, n_tilt), pos = _numbers(tokens, 2, "tilt header", pos)
        _, pos = _numbers(tokens, 2 * int(n_tilt), "tilt angles and factors", pos)
    elif tilt != "NONE":
        raise LightingDataError(f"TILT={tilt} (a separate tilt file) is not supported; "
                                "use TILT=NONE or TILT=INCLUDE")
    head, pos = _numbers(tokens, 13, "header numbers", pos)
    lamps, lumens, mult, n_v, n_h, ptype = head[:6]
    ballast, _future, watts = head[10:13]
    if int(ptype) != 1:
        raise LightingDataError(f"photometric type {int(ptype)} is not supported (only type C, "
                                "used for street and area lighting)")
    n_v, n_h = int(n_v), int(n_h)
    if n_v < 2 or n_h < 1:
        raise LightingDataError(f"the file gives {n_v} vertical and {n_h} horizontal angles")
    v, pos = _numbers(tokens, n_v, "vertical angles", pos)
    h, pos = _numbers(tokens, n_h, "horizontal angles", pos)
    cd, pos = _numbers(tokens, n_v * n_h, "candela values", pos)
    if np.any(np.diff(v) <= 0) or v[0] < 0 or v[-1] > 180:
        raise LightingDataError("vertical angles must increase within 0-180 degrees")
    if n_h > 1 and (np.any(np.diff(h) <= 0) or (h[0], h[-1]) not in _FOLDS):
        raise LightingDataError("horizontal angles must increase from 0 to 90, 180 or 360, "
                                f"or from 90 to 270; got {h[0]:g} to {h[-1]:g}")
    if np.any(cd < 0):
        raise LightingDataError("candela values cannot be negative")
    return Photometry(keywords=keywords, lamps=int(lamps), lumens_per_lamp=float(lumens),
                      multiplier=float(mult), vertical_deg=v, horizontal_deg=h,
                      candela=cd.reshape(n_h, n_v), ballast_factor=float(ballast),
                      input_watts=float(watts))


def read_lm63(path: str | Path) -> Photometry:
    try:
        text = Path(path).read_text(encoding="latin-1")
    except OSError as exc:
        raise LightingDataError(f"cannot read {path}: {exc}") from None
    return parse_lm63(text)


def format_lm63(p: Photometry) -> str:
    """LM-63-2002 text for ``p`` (what :func:`parse_lm63` reads back)."""
    out = ["IESNA:LM-63-2002", *(f"[{k}] {v}" for k, v in p.keywords.items()), "TILT=NONE"]
    out.append(f"{p.lamps} {p.lumens_per_lamp:g} {p.multiplier:g} {len(p.vertical_deg)} "
               f"{len(p.horizontal_deg)} 1 2 0 0 0")
    out.append(f"{p.ballast_factor:g} 1 {p.input_watts:g}")
    out.append(" ".join(f"{a:g}" for a in p.vertical_deg))
    out.append(" ".join(f"{a:g}" for a in p.horizontal_deg))
    out += [" ".join(f"{c:.6g}" for c in row) for row in p.candela]
    return "\n".join(out) + "\n"

