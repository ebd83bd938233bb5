"""Risk terrain: environmental risk factors per grid cell and a regularised count model.

In the style of Risk Terrain Modelling (Caplan, Kennedy and Miller 2011, Justice
Quarterly 28(2):360-381): each factor is measured for every cell, and a Poisson
regression of the cells' event counts on the standardised factors says how much each
one multiplies the expected count (its relative risk per standard deviation,
``exp(coefficient)``). The regression is scikit-learn's ``PoissonRegressor`` with an
L2 penalty (``ALPHA``, our choice, on standardised factors), so a factor that does
not help is pulled towards a relative risk of 1 rather than fitted to noise.

Factors, from what the store holds (a layer that is absent or empty gives none):

* distance from the cell's centre to the nearest vacant lot or building (metres);
* vacant lots and buildings within ``radius_m`` of the centre;
* concerns (resident reports) made within ``radius_m`` before the window's end;
* streetlights recorded as out within ``radius_m``.

Bars and bus stops would be classic RTM factors, but the store has no such layers.
When the concerns are also the events being forecast, "concerns reported nearby" is
their own past density, and the model is close to a kernel density: the validation
window, not the model, decides whether that helps.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from cpted import hotspots as hs

#: L2 penalty of the count model on standardised factors (our choice).
ALPHA = 0.1
VACANT = ("vacant_lot", "vacant_building")


@dataclass
class Factors:
    """Environmental factors per cell: ``values[name]`` aligned on the grid's cells."""

    values: dict[str, NDArray[np.float64]]

    def __bool__(self) -> bool:
        return bool(self.values)

    def matrix(self) -> NDArray[np.float64]:
        return np.column_stack(list(self.values.values())) if self.values else np.empty((0, 0))


def _near_count(centres: NDArray[np.float64], xy: NDArray[np.float64], radius_m: float
                ) -> NDArray[np.float64]:
    if not len(xy):
        return np.zeros(len(centres))
    hits = cKDTree(xy).query_ball_point(centres, radius_m, return_length=True)
    return np.asarray(hits, dtype=float)


def environment(grid: hs.Grid, *, parcels: gpd.GeoDataFrame | None = None,
                concerns: gpd.GeoDataFrame | None = None,
                streetlights: gpd.GeoDataFrame | None = None,
                until: pd.Timestamp | None = None, radius_m: float | None = None) -> Factors:
    """The factors the given layers allow (see the module's notes), per cell of ``grid``.

    ``concerns`` count only when made before ``until`` (so a factor never sees the
    period it is judged on); ``radius_m`` defaults to the cell size.
    """
    from cpted.overlay import parcel_points

    r = float(radius_m or grid.size)
    centres = grid.centres
    out: dict[str, NDArray[np.float64]] = {}
    if parcels is not None and len(parcels) and "status" in parcels:
        vacant = parcels[parcels["status"].isin(VACANT)]
        if len(vacant):
            pts = parcel_points(vacant)
            xy = hs.events_xy(gpd.GeoDataFrame(geometry=pts, crs=vacant.crs), grid.crs)
            d, _ = cKDTree(xy).query(centres)
            out["Distance to a vacant parcel (m)"] = np.asarray(d, dtype=float)
            out["Vacant parcels nearby"] = _near_count(centres, xy, r)
    if concerns is not None and len(concerns):
        sel = concerns
        if until is not None and "requested_datetime" in sel:
            sel = sel[(sel["requested_datetime"] < until).fillna(False).to_numpy(dtype=bool)]
        if len(sel):
            out["Concerns reported nearby"] = _near_count(centres,
                                                          hs.events_xy(sel, grid.crs), r)
    if streetlights is not None and len(streetlights) and "status" in streetlights:
        dark = streetlights[streetlights["status"] == "out"]
        if len(dark):
            out["Streetlights out nearby"] = _near_count(centres,
                                                         hs.events_xy(dark, grid.crs), r)
    return Factors({k: v for k, v in out.items() if np.ptp(v) > 0})


@dataclass
class RiskModel:
    """A fitted count model: standardisation, coefficients and relative risks."""

    names: list[str]
    mean: NDArray[np.float64]
    sd: NDArray[np.float64]
    coef: NDArray[np.float64]
    intercept: float

    def predict(self, factors: Factors) -> NDArray[np.float64]:
        """Expected events per cell (in the fitted window's units)."""
        z = (factors.matrix() - self.mean) / self.sd
        out: NDArray[np.float64] = np.exp(self.intercept + z @ self.coef)
        return out

    def relative_risks(self) -> pd.DataFrame:
        """One row per factor: its relative risk per standard deviation and that SD."""
        return pd.DataFrame({"Factor": self.names,
                             "Relative risk per SD": np.exp(self.coef),
                             "One SD is": self.sd})


def fit(factors: Factors, counts: NDArray[np.float64], *, alpha: float = ALPHA) -> RiskModel:
    """Poisson regression (L2, ``alpha``) of ``counts`` per cell on the standardised factors."""
    from sklearn.linear_model import PoissonRegressor

    x = factors.matrix()
    mean = x.mean(axis=0)
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    model = PoissonRegressor(alpha=alpha, max_iter=1000).fit((x - mean) / sd, counts)
    return RiskModel(list(factors.values), mean, sd, np.asarray(model.coef_, dtype=float),
                     float(model.intercept_))
