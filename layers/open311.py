"""Open311 GeoReport v2: services.json and requests.json, in and out.

Field names follow the GeoReport v2 specification (https://wiki.open311.org/GeoReport_v2).
Requests carry ``service_request_id`` (a string), ``status`` (open/closed),
``status_notes``, ``service_name``, ``service_code``, ``description``,
``agency_responsible``, ``service_notice``, ``requested_datetime``,
``updated_datetime``, ``expected_datetime``, ``address``, ``address_id``,
``zipcode``, ``lat``, ``long`` and ``media_url``; datetimes are ISO 8601 with
a UTC offset. Our finer fields travel in ``extended_attributes``, the
extension object the GeoReport community uses, so a round trip keeps them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.crs import WGS84
from layers.errors import UnusableInputError
from layers.services import Datatype, Service, parse_services

REQUEST_FIELDS = (
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
    "long", "media_url",
)
SERVICE_FIELDS = ("service_code", "service_name", "description", "metadata", "type",
                  "keywords", "group")
EXTENDED = ("detailed_status", "time_of_day", "source", "attributes")


def _load_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnusableInputError(f"{Path(path).name} is not JSON: {exc}") from None


def _records(data: Any, key: str, name: str) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        data = data.get(key, data.get(key.rstrip("s"), data))
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise UnusableInputError(f"{name} should hold a JSON array of {key} objects")
    if not data:
        raise UnusableInputError(f"{name} holds no {key}")
    return data


def read_services(path: Path | str) -> list[Service]:
    """Services from an Open311 ``services.json`` (validated; every problem listed)."""
    path = Path(path)
    return parse_services(_records(_load_json(path), "services", path.name), source=path.name)


def services_json(services: Iterable[Service]) -> list[dict[str, Any]]:
    return [{
        "service_code": s.service_code, "service_name": s.service_name,
        "description": s.description, "metadata": bool(s.attributes), "type": "realtime",
        "keywords": ",".join(s.keywords), "group": s.group,
    } for s in services]


#: How a yes/no question is offered to Open311 clients, which know no boolean datatype.
BOOLEAN_VALUES = ({"key": "true", "name": "Yes"}, {"key": "false", "name": "No"})


def service_definition_json(service: Service) -> dict[str, Any]:
    """A service's GeoReport v2 service definition (``services/{service_code}.json``).

    Every question is ``variable`` (the client asks it), ordered as the Report page asks
    them; a list's values have the same ``key`` and ``name`` (the stored answer); a yes/no
    question is a ``singlevaluelist`` of :data:`BOOLEAN_VALUES`.
    """
    attributes = []
    for order, a in enumerate(service.attributes, start=1):
        boolean = a.datatype is Datatype.BOOLEAN
        values = ([dict(v) for v in BOOLEAN_VALUES] if boolean
                  else [{"key": v, "name": v} for v in a.values])
        attributes.append({
            "variable": True, "code": a.code,
            "datatype": Datatype.SINGLE.value if boolean else a.datatype.value,
            "required": a.required,
            "datatype_description": "true or false" if boolean else None,
            "order": order, "description": a.description or a.code, "values": values,
        })
    return {"service_code": service.service_code, "attributes": attributes}


def read_requests(path: Path | str) -> gpd.GeoDataFrame:
    """An Open311 ``requests.json`` as a frame for the concerns importer (EPSG:4326).

    Rows without ``lat``/``long`` keep no geometry, for the validator to reject by row.
    """
    path = Path(path)
    rows = _records(_load_json(path), "service_requests", path.name)
    flat = []
    for r in rows:
        row = {k: r.get(k) for k in REQUEST_FIELDS}
        ext = r.get("extended_attributes") or {}
        for k in EXTENDED:
            if k in ext:
                row[k] = json.dumps(ext[k], sort_keys=True) if k == "attributes" else ext[k]
        flat.append(row)
    df = pd.DataFrame(flat)
    lon = pd.to_numeric(df.pop("long"), errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(df.pop("lat"), errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    geom = gpd.GeoSeries.from_xy(np.where(ok, lon, 0), np.where(ok, lat, 0), crs=WGS84)
    geom[~ok] = None
    df["service_request_id"] = df["service_request_id"].map(
        lambda v: None if v is None else str(v))
    return gpd.GeoDataFrame(df, geometry=geom.values, crs=WGS84)


def _iso_local(s: pd.Series, tz: str) -> list[str | None]:
    """Times as ISO 8601 in ``tz`` to the second, with the offset (``-05:00``)."""
    utc = pd.to_datetime(s, utc=True)
    # the wall-clock time and its offset from UTC, each a whole column at once: a
    # zone-aware strftime or isoformat goes value by value, 30 us each
    wall = utc.dt.tz_convert(tz).dt.tz_localize(None).to_numpy(dtype="datetime64[s]")
    offset_s = (wall - utc.dt.tz_localize(None).to_numpy(dtype="datetime64[s]")).astype(
        "timedelta64[s]").astype(np.int64)
    text = np.datetime_as_string(wall, unit="s")
    out: list[str | None] = []
    for t, off, missing in zip(text, offset_s, np.isnat(wall), strict=True):
        if missing:
            out.append(None)
            continue
        sign, minutes = ("-" if off < 0 else "+"), abs(int(off)) // 60
        out.append(f"{t}{sign}{minutes // 60:02d}:{minutes % 60:02d}")
    return out


def requests_json(concerns: gpd.GeoDataFrame, *, tz: str,
                  status_notes: Mapping[str, str] | None = None,
                  target_days: Mapping[str, float] | None = None) -> list[dict[str, Any]]:
    """Concerns (EPSG:4326) as GeoReport v2 request objects, datetimes in ``tz``.

    ``status_notes`` gives each request's latest status note; ``target_days``
    per service gives ``expected_datetime`` for open requests.
    """
    notes = dict(status_notes or {})
    targets = dict(target_days or {})
    req = _iso_local(concerns["requested_datetime"], tz)
    upd = _iso_local(concerns["updated_datetime"], tz)
    expected_t = pd.to_datetime(concerns["requested_datetime"], utc=True) + pd.to_timedelta(
        concerns["service_code"].map(targets).astype(float), unit="D")
    exp = _iso_local(expected_t, tz)
    n = len(concerns)

    def column(name: str) -> list[Any]:
        return list(concerns[name]) if name in concerns.columns else [None] * n

    ids, status, code = column("service_request_id"), column("status"), column("service_code")
    names, text, address = column("service_name"), column("description"), column("address")
    attributes = column("attributes")
    extended = {k: column(k) for k in EXTENDED[:3]}
    out = []
    # columns as lists, not row by row (iterrows builds a Series for each row)
    for i, g in enumerate(concerns.geometry):
        ext: dict[str, Any] = {k: v[i] for k, v in extended.items() if v[i] is not None}
        if attributes[i]:
            ext["attributes"] = json.loads(attributes[i])
        rid = str(ids[i])
        out.append({
            "service_request_id": rid,
            "status": status[i],
            "status_notes": notes.get(rid),
            "service_name": names[i],
            "service_code": code[i],
            "description": text[i],
            "agency_responsible": None,
            "service_notice": None,
            "requested_datetime": req[i],
            "updated_datetime": upd[i],
            "expected_datetime": exp[i] if status[i] == "open" else None,
            "address": address[i],
            "address_id": None,
            "zipcode": None,
            "lat": None if g is None else round(float(g.y), 7),
            "long": None if g is None else round(float(g.x), 7),
            "media_url": None,
            "extended_attributes": ext,
        })
    return out


def write_json(items: list[dict[str, Any]], path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(items, indent=1, ensure_ascii=False, default=str),
                    encoding="utf-8")
    return path
