"""Atom feeds (RFC 4287) of the news of an area, made from what the public may read.

Each feed has the elements RFC 4287 requires (``id``, ``title``, ``updated``, an
``author``, a ``self`` link) and each entry its ``id``, ``title``, ``updated``, a
``summary`` and an ``alternate`` link to the report's page. Ids are ``urn:uuid`` names
made from the deployment's address and the report's event, so they never change. A feed
is written in the language in use (:mod:`cpted.i18n`), which its ``xml:lang`` names.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime

from cpted import i18n
from cpted.i18n import _
from cpted.messages import SITE, News, category_words, status_words

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MEDIA_TYPE = "application/atom+xml"


def rfc3339(t: datetime) -> str:
    """``t`` (timezone-aware) as an Atom date, in UTC."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stable_id(base_url: str, *parts: object) -> str:
    """A ``urn:uuid`` that names the same thing every time (UUID 5 of the parts)."""
    name = "/".join([base_url, *map(str, parts)])
    return uuid.uuid5(uuid.NAMESPACE_URL, name).urn


def entry_title(news: News) -> str:
    what = _("{category} ({id})").format(category=category_words(news.category),
                                         id=news.request_id)
    if news.kind == "created":
        return _("New report: {what}").format(what=what)
    text = _("Reopened {status}: {what}") if news.kind == "reopened" else _(
        "Now {status}: {what}")
    return text.format(status=status_words(news.status), what=what)


def entry_summary(news: News) -> str:
    text = news.description if news.kind == "created" else news.note
    if text:
        return text.strip()
    if news.sensitive:
        return _("A report of this kind is shown only as an approximate area, without its "
                 "text, to protect the people involved.")
    return _("No public note was given.") if news.kind != "created" else _("No description.")


def feed(*, base_url: str, feed_key: str, title: str, subtitle: str, self_url: str,
         page_url: str, items: Sequence[News], now: datetime) -> bytes:
    """The Atom document (UTF-8 bytes) for ``items``, newest first.

    ``feed_key`` names the feed for its id (``neighborhood/<id>``); ``updated`` is the
    newest item's time, or ``now`` for a feed with none.
    """
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    news = sorted(items, key=lambda n: (n.at, n.event_id), reverse=True)
    root = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: i18n.current()})
    sub(root, "id", stable_id(base_url, "feed", feed_key))
    sub(root, "title", title)
    sub(root, "subtitle", subtitle)
    sub(root, "updated", rfc3339(news[0].at if news else now))
    author = sub(root, "author")
    sub(author, "name", SITE)
    sub(root, "link", rel="self", type=MEDIA_TYPE, href=self_url)
    sub(root, "link", rel="alternate", type="text/html", href=page_url)
    sub(root, "generator", SITE)
    for n in news:
        entry = sub(root, "entry")
        sub(entry, "id", stable_id(base_url, "report", n.request_id, "event", n.event_id))
        sub(entry, "title", entry_title(n))
        sub(entry, "updated", rfc3339(n.at))
        sub(entry, "link", rel="alternate", type="text/html", href=n.link)
        sub(entry, "category", term=n.category)
        sub(entry, "summary", entry_summary(n), type="text")
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
