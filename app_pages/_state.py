"""Shared page state: the store (one per URL, kept across reruns) and cached layer reads."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import streamlit as st

from layers.schema import Layer
from layers.settings import Settings, load_settings
from layers.store import Store, open_store


@st.cache_resource
def settings() -> Settings:
    return load_settings()


@st.cache_resource
def store_for(url: str) -> Store:
    return open_store(url)


def store() -> Store:
    return store_for(settings().db_url)


@st.cache_data(show_spinner=False, max_entries=64)
def read_layer(url: str, revision: int, layer: str, where: tuple[tuple[str, tuple[Any, ...]], ...]
               = (), time: tuple[str, Any, Any] | None = None) -> gpd.GeoDataFrame:
    """A layer read from the store; cached on the store's revision, so any write refreshes it."""
    return store_for(url).read(Layer(layer), where=dict(where), time=time)


def layer(name: Layer, **filters: Any) -> gpd.GeoDataFrame:
    s = store()
    where = tuple(sorted((k, tuple(v)) for k, v in filters.get("where", {}).items()))
    return read_layer(s.url, s.revision(), name.value, where, filters.get("time"))


@st.cache_data(show_spinner=False)
def category_names(url: str, revision: int) -> dict[str, str]:
    """service_code -> service_name as stored (the first name seen for each code)."""
    concerns = store_for(url).read(Layer.CONCERNS)
    pairs = concerns[["service_code", "service_name"]].dropna().drop_duplicates("service_code")
    return dict(zip(pairs["service_code"], pairs["service_name"], strict=True))
