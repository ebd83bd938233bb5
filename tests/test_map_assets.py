"""Maps that draw on any network: every file from the app, a base map from the store.

Covers :mod:`cpted.maps.assets` (CDN names rewritten to the app's copies),
:mod:`cpted.basemap` (vector tiles made from the store's layers, read back by GDAL),
:mod:`cpted.maps.basemap` (what every map gets before it is shown), the routes of
:mod:`cpted.server` through Starlette's test client, and every page's maps through
AppTest with ``st_folium`` replaced by a recorder.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import pytest
import shapely
from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest

from cpted import basemap as bm
from cpted import server
from cpted.maps import assets
from cpted.maps.basemap import config_of, prepare
from layers.schema import Layer
from layers.store import Store
from tests.conftest import ROOT, need

#: Any absolute URL in a rendered map; the only ones allowed are SVG's namespace name.
URL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s\"'<>)]*")
ALLOWED_URLS = ("http://www.w3.org/2000/svg",)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The web-map tile (x, y) holding a point (OSM's slippy-map formula)."""
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def links(fmap: folium.Map) -> list[str]:
    """Every script and style URL the map asks for, gathered the way st_folium does."""
    out: list[str] = []
    for el in assets._elements(fmap):
        out += [u for _, u in getattr(el, "default_js", None) or []]
        out += [u for _, u in getattr(el, "default_css", None) or []]
    return out


def external(html: str) -> list[str]:
    return [u for u in URL.findall(html) if not u.startswith(ALLOWED_URLS)]


@pytest.fixture
def installed() -> None:
    need(not assets.missing_files(),
         "map files not installed: run `make web-assets` (npm ci --prefix cpted/web)")


@pytest.fixture
def frames(sample_store: Store) -> dict[str, gpd.GeoDataFrame]:
    return bm.base_frames(sample_store.read(Layer.NEIGHBORHOODS), sample_store.read(Layer.STREETS),
                          sample_store.read(Layer.BUILDINGS))


# -- assets ------------------------------------------------------------------------------

def test_a_drawing_map_asks_only_for_the_apps_own_files(installed: None) -> None:
    fmap = folium.Map(location=[39.05, -94.57], zoom_start=15)  # OpenStreetMap by default
    folium.plugins.Draw().add_to(fmap)
    before = links(fmap)
    assert any("cdn.jsdelivr.net" in u for u in before)  # folium's own defaults
    prepare(fmap, base="../../", sources={})
    after = links(fmap)
    assert after and all(u.startswith("../../assets/") for u in after), after
    for u in after:  # each one is installed and inside a folder the route serves
        assert server.asset_path(u.removeprefix("../../assets/")) is not None, u
    assert {Path(u).name for u in after} == {"leaflet.js", "leaflet.css", "leaflet.draw.js",
                                             "leaflet.draw.css"}
    html = fmap.get_root().render()
    assert not external(html), external(html)
    assert "openstreetmap" not in html.lower()  # the default tile layer was removed
    # folium's class-level lists are left alone: only this map's elements changed
    assert any("cdn.jsdelivr.net" in u for _, u in folium.Map.default_js)


def test_leaflet_is_told_where_its_marker_images_are_before_any_marker() -> None:
    fmap = folium.Map(location=[39.05, -94.57], zoom_start=15, tiles=None)
    folium.Marker([39.05, -94.57]).add_to(fmap)  # Leaflet's default blue marker image
    html = prepare(fmap, base="../../", sources={}).get_root().render()
    told = 'L.Icon.Default.imagePath = "../../assets/leaflet/dist/images/";'
    assert told in html and html.index(told) < html.index("L.marker(")
    assert server.asset_path("leaflet/dist/images/marker-icon.png") is not None


def test_a_plugin_the_app_does_not_serve_is_refused() -> None:
    fmap = folium.Map(tiles=None)
    folium.plugins.MarkerCluster().add_to(fmap)
    with pytest.raises(assets.UnservedAssetError, match="markercluster"):
        assets.localise(fmap, "/")


def test_a_configured_tile_server_is_drawn_under_the_base_map_with_its_credit() -> None:
    fmap = folium.Map(location=[39.05, -94.57], zoom_start=15)
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    prepare(fmap, base="/", sources={"streets": "/basemap/k/streets/{z}/{x}/{y}.mvt"},
            tile_url=url, tile_attribution="© City <b>GIS</b>")
    html = fmap.get_root().render()
    assert external(html) == ["https://tiles.example.org/{z}/{x}/{y}.png"]
    # the credit is shown as text: escaped, then written as JSON (\u0026 is "&")
    assert r"City \u0026lt;b\u0026gt;GIS" in html and "<b>GIS</b>" not in html
    tiles_at, base_at = html.index("tiles.example.org"), html.index("= cptedBasemap(")
    assert tiles_at < base_at  # added first, so drawn under the store's base map
    cfg = config_of(html)
    assert cfg is not None and cfg["background"] is None  # transparent over the tiles


def test_the_settings_refuse_a_tile_url_without_its_credit_or_placeholders() -> None:
    from layers.errors import SettingsError
    from layers.settings import Settings

    with pytest.raises(SettingsError, match="tile_attribution"):
        Settings(tile_url="https://t.example.org/{z}/{x}/{y}.png")
    with pytest.raises(SettingsError, match=r"\{z\}"):
        Settings(tile_url="https://t.example.org/tiles.png", tile_attribution="x")
    assert Settings(tile_url="https://t.example.org/{z}/{x}/{y}.png",
                    tile_attribution="© City").tile_url


# -- tiles -------------------------------------------------------------------------------

def test_tiles_hold_the_base_layers_names_and_nothing_else(
        frames: dict[str, gpd.GeoDataFrame], tmp_path: Path) -> None:
    key, names = bm.ensure_basemap(frames, tmp_path)
    assert names == ["areas", "area_labels", "major_streets", "streets", "buildings"]
    # the city view's main streets are the arterials and collectors, and only those
    assert set(frames["major_streets"]["class"]) == {"arterial", "collector"}
    assert len(frames["major_streets"]) == frames["streets"]["class"].isin(
        ["arterial", "collector"]).sum()
    back = bm.layer_frames(tmp_path, key)
    assert set(back) == set(names)
    for name, frame in back.items():
        spec = next(b for b in bm.BASE_LAYERS if b.name == name)
        assert set(frame.columns) - {"geometry", "mvt_id"} <= set(spec.columns), frame.columns
    # every neighborhood name is placed once, inside its own area
    labels = frames["area_labels"]
    assert sorted(labels["name"]) == sorted(frames["areas"]["name"])
    assert all(a.contains(p) for a, p in zip(frames["areas"].geometry, labels.geometry,
                                             strict=True))
    # a tile over the district at zoom 15 holds streets with their names
    lon, lat = shapely.union_all(frames["streets"].geometry.values).centroid.coords[0]
    x, y = tile_of(lon, lat, 15)
    data = bm.read_tile(tmp_path, key, "streets", 15, x, y)
    assert data is not None and b"streets" in data
    named = [n for n in frames["streets"]["name"] if n]
    assert any(n.encode() in data for n in named)
    # buildings only from zoom 15; at zoom 12 the main streets only
    bx, by = tile_of(lon, lat, 12)
    assert bm.read_tile(tmp_path, key, "buildings", 12, bx, by) is None
    assert bm.read_tile(tmp_path, key, "streets", 12, bx, by) is None
    assert bm.read_tile(tmp_path, key, "major_streets", 12, bx, by) is not None


def test_the_key_follows_the_content(frames: dict[str, gpd.GeoDataFrame],
                                     tmp_path: Path) -> None:
    root = tmp_path / "tiles"
    key, _ = bm.ensure_basemap(frames, root)
    assert bm.ensure_basemap(frames, root)[0] == key  # built once, found again
    assert [p.name for p in root.iterdir()] == [key]  # no half-built folder left
    renamed = {**frames, "streets": frames["streets"].assign(
        name=frames["streets"]["name"].where(frames["streets"].index != 0, "Renamed Way"))}
    assert bm.basemap_key(renamed) != key


def test_a_tile_request_names_only_what_was_built(frames: dict[str, gpd.GeoDataFrame],
                                                  tmp_path: Path) -> None:
    key, _ = bm.ensure_basemap(frames, tmp_path)
    for bad_key, name in (("../../etc", "streets"), (key.upper(), "streets"), (key, "concerns"),
                          (key, "../streets"), ("0" * 16, "streets")):
        assert bm.read_tile(tmp_path, bad_key, name, 15, 0, 0) is None
    assert bm.read_tile(tmp_path, key, "streets", 15, 2 ** 15, 0) is None  # off the world


# -- routes ------------------------------------------------------------------------------

@pytest.fixture
def client(frames: dict[str, gpd.GeoDataFrame], tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, str]]:
    monkeypatch.setenv("CPTED_BASEMAP_DIR", str(tmp_path))
    key, _ = bm.ensure_basemap(frames, tmp_path)
    with TestClient(Starlette(routes=server.routes())) as c:
        yield c, key


def test_the_asset_route_serves_installed_files_only(
        installed: None, client: tuple[TestClient, str]) -> None:
    c, _ = client
    r = c.get("/assets/leaflet/dist/leaflet.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "Leaflet" in r.text[:400]
    assert c.get("/assets/leaflet/dist/images/marker-icon.png").headers["content-type"] \
        == "image/png"
    for path in ("/assets/leaflet/package.json", "/assets/leaflet/dist/../package.json",
                 "/assets/leaflet/dist/%2e%2e/package.json", "/assets/pmtiles/package.json",
                 "/assets/leaflet/dist/nothing.js", "/assets//etc/passwd"):
        assert c.get(path).status_code == 404, path


def test_the_tile_route_answers_tiles_empty_tiles_and_unknown_sets(
        client: tuple[TestClient, str], frames: dict[str, gpd.GeoDataFrame]) -> None:
    c, key = client
    lon, lat = frames["streets"].geometry.iloc[0].coords[0]
    x, y = tile_of(lon, lat, 15)
    r = c.get(f"/basemap/{key}/streets/15/{x}/{y}.mvt")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert "immutable" in r.headers["cache-control"]
    assert b"streets" in r.content
    empty = c.get(f"/basemap/{key}/streets/15/0/0.mvt")  # the far north-west: no street
    assert empty.status_code == 204 and empty.content == b""
    assert c.get(f"/basemap/{'f' * 16}/streets/15/{x}/{y}.mvt").status_code == 404
    assert c.get(f"/basemap/{key}/concerns/15/{x}/{y}.mvt").status_code == 404


# -- pages -------------------------------------------------------------------------------

def recorded_maps(sample_db: Path, monkeypatch: pytest.MonkeyPatch, pages: list[str],
                  **env: str) -> list[tuple[str, str, list[str]]]:
    """(page, rendered map HTML, script and style links) of each map the pages show."""
    import streamlit_folium

    seen: list[tuple[str, str, list[str]]] = []
    current = [""]

    def record(fig: Any, **kwargs: Any) -> dict[str, Any]:
        seen.append((current[0], fig.get_root().render(), links(fig)))
        return {}

    monkeypatch.setattr(streamlit_folium, "st_folium", record)
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.setenv("CPTED_STAFF_MODE", "true")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(ROOT)
    for page in pages:
        current[0] = page
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
    return seen


MAP_PAGES = ["app_pages/map.py", "app_pages/report.py",
             "app_pages/neighborhoods.py", "app_pages/survey.py", "app_pages/spots.py",
             "app_pages/assess.py", "app_pages/audits.py", "app_pages/streetlights.py"]


def test_every_page_map_loads_nothing_from_another_host(
        installed: None, sample_db: Path, monkeypatch: pytest.MonkeyPatch,
        fresh_streamlit_caches: None) -> None:
    seen = recorded_maps(sample_db, monkeypatch, MAP_PAGES)
    assert {p for p, _, _ in seen} == set(MAP_PAGES)
    for page, html, asked in seen:
        assert asked and all(u.startswith("../../assets/") for u in asked), (page, asked)
        assert not external(html), (page, external(html))
        cfg = config_of(html)
        assert cfg is not None, f"{page} has no base map"
        sources = cfg["sources"]
        assert isinstance(sources, dict)
        assert set(sources) == {"areas", "area_labels", "major_streets", "streets",
                                "buildings"}, page
        assert all(re.fullmatch(r"\.\./\.\./basemap/[0-9a-f]{16}/\w+/\{z\}/\{x\}/\{y\}\.mvt",
                                s["url"]) for s in sources.values()), sources


def test_a_configured_tile_server_reaches_every_page_map(
        installed: None, sample_db: Path, monkeypatch: pytest.MonkeyPatch,
        fresh_streamlit_caches: None) -> None:
    url = "https://tiles.city.example/{z}/{x}/{y}.png"
    seen = recorded_maps(sample_db, monkeypatch, ["app_pages/map.py", "app_pages/report.py"],
                         CPTED_TILE_URL=url, CPTED_TILE_ATTRIBUTION="© City GIS")
    assert len(seen) == 2
    for page, html, _ in seen:
        assert external(html) == [url], page
        assert r"\u00a9 City GIS" in html


def test_a_map_that_cannot_draw_says_why(sample_db: Path, monkeypatch: pytest.MonkeyPatch,
                                         fresh_streamlit_caches: None,
                                         map_returns: list[dict[str, Any]]) -> None:
    monkeypatch.setenv("CPTED_DB_URL", str(sample_db))
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(server, "SERVING", False)  # started as `streamlit run app.py`
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert any("streamlit run server.py" in w.value for w in at.warning)
    monkeypatch.setattr(assets, "NODE_MODULES", Path("/nonexistent"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert any("its files are not installed" in e.value for e in at.error)
