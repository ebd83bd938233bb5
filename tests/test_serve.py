"""``make run``'s one server: the pages, the map files, the Open311 API and the feeds on one
port."""

from __future__ import annotations

import json
import urllib.request

import pytest

from cpted.maps.assets import missing_files
from tests.browser.conftest import _serve
from tests.conftest import ROOT, need


def sample_neighborhood_id() -> str:
    """The id of the first neighborhood in the bundled sample district."""
    data = json.loads((ROOT / "sample_data" / "neighborhoods.geojson").read_text())
    return str(data["features"][0]["properties"]["id"])


def test_one_server_serves_the_pages_the_map_files_the_api_and_the_feeds(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    need(not missing_files(), "map files not installed: run `make web-assets`")
    server = _serve(tmp_path_factory)
    url = next(server)
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as r:
            assert r.status == 200
        with urllib.request.urlopen(f"{url}/assets/leaflet/dist/leaflet.js", timeout=10) as r:
            assert r.status == 200 and "javascript" in r.headers["Content-Type"]
        with urllib.request.urlopen(f"{url}/open311/v2/services.json", timeout=30) as r:
            services = json.load(r)
        assert {"dark_area", "graffiti"} <= {s["service_code"] for s in services}
        hood = sample_neighborhood_id()
        with urllib.request.urlopen(f"{url}/feeds/neighborhood/{hood}.atom", timeout=30) as r:
            assert r.status == 200 and "atom" in r.headers["Content-Type"]
            assert b"<feed" in r.read()
    finally:
        server.close()
