"""The one way a page shows a map: ``show_map`` hands a built map to ``st_folium``.

Every page goes through here so that what each map needs in the browser is decided
once: its scripts and styles come from the app itself, and it is drawn over the
store's own base map.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import streamlit_folium

if TYPE_CHECKING:
    import folium


def show_map(fmap: folium.Map, *, key: str, height: int,
             returned_objects: Sequence[str] = ()) -> Any:
    """Draw ``fmap`` across the page; return what ``st_folium`` returns (clicks, drawings)."""
    return streamlit_folium.st_folium(fmap, height=height, use_container_width=True, key=key,
                                      returned_objects=list(returned_objects))
