"""Small helpers shared by tests."""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage, Message

from cpted import accounts
from cpted.access import Access
from layers.schema import Layer
from layers.settings import Settings
from layers.store import Store


def exporter(store: Store, *, public: bool) -> Access:
    """The door as the public (``public``) or as the command line's operator (an admin)."""
    return Access(store, accounts.public() if public else accounts.operator())


def two_neighborhoods(store: Store) -> None:
    """West (-94.60 to -94.58) and East (-94.58 to -94.56) of longitude, 39.03 to 39.05
    of latitude: two squares side by side, about 1.7 km wide."""
    import geopandas as gpd
    import shapely

    store.add(Layer.NEIGHBORHOODS, gpd.GeoDataFrame(
        {"id": ["W", "E"], "name": ["Westside", "Eastside"], "population": [1000, 2000]},
        geometry=[shapely.box(-94.60, 39.03, -94.58, 39.05),
                  shapely.box(-94.58, 39.03, -94.56, 39.05)], crs=4326))


def sent_messages(store: Store, settings: Settings | None = None,
                  now: datetime | None = None) -> list[EmailMessage]:
    """Send the outbox to a list, as ``cpted notify`` would to a mail server."""
    out: list[EmailMessage] = []
    Access(store, accounts.operator(), settings).deliver(out.append, now=now)
    return out


def body(message: Message) -> str:
    """A message's plain text, decoded."""
    part = message.get_body(preferencelist=("plain",)) if isinstance(message, EmailMessage) \
        else message
    assert part is not None
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


def link(message: Message, path: str) -> str:
    """The first link in the message's text to ``path`` (``/follow/confirm``)."""
    found = re.findall(r"https?://\S+" + re.escape(path) + r"\S*", body(message))
    assert found, f"no link to {path} in:\n{body(message)}"
    return str(found[0])


def token(url: str) -> str:
    """The ``token`` of a link."""
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(url).query)["token"][0]
