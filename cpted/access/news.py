"""The news of areas and the sending of the outbox, through the door.

What an area's follower or a feed reader hears is what the public may read, whoever
asks: new reports and changes placed by their public point (a sensitive report at its
grid cell, without its text or any note), public notes of other reports, never contact
or an address. Building digests and sending the outbox are for the ``SEND_MESSAGES``
role (the command line's ``cpted notify``); feeds are public.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from cpted import atom, i18n
from cpted import concerns as cc
from cpted import follows as fl
from cpted import messages as msg
from cpted.access.follows import FollowDoor, stored_time
from cpted.access.permissions import Action, require
from cpted.i18n import _
from cpted.privacy import Role, concerns_for
from layers.clock import iso
from layers.errors import UnusableInputError
from layers.repos import concerns as concern_repo
from layers.repos import follows as repo
from layers.repos import outbox
from layers.schema import Layer
from layers.services import sensitive_codes

if TYPE_CHECKING:
    from email.message import EmailMessage

    from sqlalchemy.engine import Connection

#: How long a sender holds a message it is sending before another may try it.
CLAIM_LEASE = timedelta(minutes=10)
#: Waits after failed attempts: 1 min, 2, 4... doubling up to 6 hours.
RETRY_FIRST, RETRY_MOST = timedelta(minutes=1), timedelta(hours=6)
#: How far back a neighborhood's feed goes, and how many entries it holds at most.
FEED_DAYS, FEED_ENTRIES = 90, 200


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt (exponential, capped)."""
    wait: timedelta = RETRY_FIRST * 2 ** min(max(0, attempts - 1), 20)
    return min(wait, RETRY_MOST)


@dataclass
class Delivery:
    """What one sending run did."""

    sent: int = 0
    failed: int = 0
    #: Due messages another sender took first.
    skipped: int = 0
    #: The run stopped early: the server could not be reached.
    stopped: bool = False
    errors: list[str] = field(default_factory=list)


class NewsDoor(FollowDoor):
    # -- news of areas: digests and feeds --------------------------------------------------
    def _events_between(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """The news events after ``since`` up to ``until``: the history's (reports made,
        status changes, reopenings), and for reports imported without a history (a
        city's 311 feed) their filing, at the time they were requested."""
        with self.store.engine.connect() as conn:
            events = concern_repo.events_since(conn, iso(since), until=iso(until))
            recorded = concern_repo.ids_with_event(conn, "created")
        imported = self.store.read(Layer.CONCERNS, time=(
            "requested_datetime", since + timedelta(milliseconds=1), until))
        events += [{"id": 0, "service_request_id": str(rid), "at": iso(at), "kind": "created",
                    "from_status": None, "to_status": None, "note": None,
                    "visibility": "internal"}
                   for rid, at in zip(imported["service_request_id"],
                                      imported["requested_datetime"], strict=True)
                   if str(rid) not in recorded and at is not None and not pd.isna(at)]
        return sorted(events, key=lambda e: (str(e["at"]), int(e["id"])))

    def _news(self, events: Sequence[Mapping[str, Any]]
              ) -> list[tuple[msg.News, BaseGeometry | None, str]]:
        """Events as the public may read them, each with its report's public point and
        category code (a sensitive report at its grid cell, without text or notes)."""
        ids = sorted({str(e["service_request_id"]) for e in events})
        if not ids:
            return []
        catalogue = cc.services(self.store)
        hidden = set(sensitive_codes(catalogue.values()))
        rows = concerns_for(Role.PUBLIC, self.store.read(
            Layer.CONCERNS, where={"service_request_id": ids}), hidden,
            grid_m=self.settings.sensitive_grid_m)
        by_id = {str(r["service_request_id"]): r for _, r in rows.iterrows()}
        out = []
        for e in events:
            row = by_id.get(str(e["service_request_id"]))
            if row is None:  # deleted since
                continue
            code = str(row["service_code"])
            sensitive = code in hidden
            description = row.get("description")
            note = e["note"] if e["visibility"] == "public" and not sensitive else None
            out.append((msg.News(
                event_id=int(e["id"]), at=stored_time(str(e["at"])), kind=str(e["kind"]),
                request_id=str(e["service_request_id"]),
                category=catalogue[code].service_name if code in catalogue
                else str(row.get("service_name") or code),
                sensitive=sensitive, status=e["to_status"],
                note=note if isinstance(note, str) and note.strip() else None,
                description=description if isinstance(description, str)
                and description.strip() and not sensitive else None,
                link=self._report_link(str(e["service_request_id"]))), row.geometry, code))
        return out

    @staticmethod
    def _within(news: Sequence[tuple[msg.News, BaseGeometry | None, str]],
                area: BaseGeometry | None, categories: Sequence[str], since: datetime
                ) -> list[msg.News]:
        if area is None or not news:
            return []
        points = np.array([p for _, p, _ in news], dtype=object)
        inside = shapely.covers(area, points)
        return [n for (n, _, code), keep in zip(news, inside, strict=True)
                if keep and n.at > since and (not categories or code in categories)]

    def _area_of(self, row: Mapping[str, Any], polygons: Mapping[str, BaseGeometry]
                 ) -> BaseGeometry | None:
        if row.get("neighborhood_id"):
            return polygons.get(str(row["neighborhood_id"]))
        return shapely.from_geojson(row["area_geojson"]) if row.get("area_geojson") else None

    @staticmethod
    def _digest_since(row: Mapping[str, Any]) -> datetime:
        return stored_time(str(row["last_digest_at"] or row["confirmed_at"]))

    def build_digests(self, *, now: datetime | None = None) -> int:
        """Queue the digest of every area follow whose day or week is over: the news of
        its area since its last digest (none when nothing happened), and move its clock
        on, in one transaction. Return how many digests were queued."""
        require(self.actor, Action.SEND_MESSAGES)
        now = now or datetime.now(UTC)
        with self.store.engine.connect() as conn:
            due = [f for f in repo.area_follows(conn)
                   if self._digest_since(f) + fl.PERIODS[fl.Frequency(f["frequency"])] <= now]
            if not due:
                return 0
            since = min(self._digest_since(f) for f in due)
        news = self._news(self._events_between(since, now))
        names, polygons = self._neighborhoods()
        catalogue_names = {c: s.service_name for c, s in cc.services(self.store).items()}

        def run(conn: Connection) -> int:
            secret, zone = self._secret(conn), self._zone(conn)
            made = 0
            for f in due:
                start = self._digest_since(f)
                items = self._within(news, self._area_of(f, polygons),
                                     json.loads(f["categories"]), start)
                if items:
                    feed = (self.neighborhood_feed_url(f["neighborhood_id"])
                            if f["neighborhood_id"] else self._area_feed_url(secret, f["id"]))
                    with i18n.use(f["language"]):
                        summary = fl.summarise(f, names=catalogue_names, neighborhoods=names)
                        draft = msg.digest(summary, items, since=start, until=now, tz=zone,
                                           feed_url=feed, unsubscribe_url=(
                                               self._unsubscribe_url(secret, f["id"])))
                    made += self._enqueue(conn, f"digest:{f['id']}:{iso(start)}", f["id"],
                                          f["email"], draft, now, secret)
                repo.set_last_digest(conn, f["id"], iso(now))
            self._log(conn, "digests", "outbox", "digests",
                      {"follows": len(due), "messages": made})
            return made

        return int(self._write("the digests", Action.SEND_MESSAGES, run, now=now))

    def neighborhood_feed(self, neighborhood_id: str, *, now: datetime | None = None) -> bytes:
        """The Atom feed of a neighborhood: reports made and changed there in the last
        :data:`FEED_DAYS` days, as the public sees them (whoever asks)."""
        now = now or datetime.now(UTC)
        names, polygons = self._neighborhoods()
        nid = str(neighborhood_id)
        if nid not in names:
            raise UnusableInputError(_("there is no neighborhood {id!r}").format(
                id=neighborhood_id))
        items = self._recent_news(polygons[nid], (), now)
        return atom.feed(base_url=self.settings.link_base, feed_key=f"neighborhood/{nid}",
                         title=_("{name}: concerns and what was done").format(name=names[nid]),
                         subtitle=_("New reports and status changes in {name}, as the public "
                                    "map shows them.").format(name=names[nid]),
                         self_url=self.neighborhood_feed_url(nid),
                         page_url=self._link("/neighborhoods"), items=items, now=now)

    def area_feed(self, token: str, *, now: datetime | None = None) -> bytes:
        """The Atom feed of a followed area, by the token of its feed link; public view.

        Raises
        ------
        FollowError
            A token that is not a feed token of ours, or of a follow not confirmed or ended.
        """
        now = now or datetime.now(UTC)
        follow_id = fl.read_token(self._secret(), token, fl.Purpose.FEED, now=now)
        with self.store.engine.connect() as conn:
            row = repo.get(conn, follow_id)
        if row is None or row["kind"] != fl.Kind.AREA.value or row["confirmed_at"] is None \
                or row["ended_at"] is not None:
            raise fl.FollowError(_("this feed has ended, or its follow was never confirmed"),
                                 fields={"token": [_("the follow has ended")]})
        names, polygons = self._neighborhoods()
        items = self._recent_news(self._area_of(row, polygons),
                                  json.loads(row["categories"]), now)
        with i18n.use(row["language"]):  # the follower's, as in their messages
            summary = fl.summarise(row, names={c: s.service_name for c, s in
                                               cc.services(self.store).items()},
                                   neighborhoods=names)
            return atom.feed(base_url=self.settings.link_base, feed_key=f"area/{follow_id}",
                             title=_("News of {what}").format(what=summary.label),
                             subtitle=_("New reports and status changes, as the public map "
                                        "shows them."),
                             self_url=self._area_feed_url(self._secret(), follow_id),
                             page_url=self._link("/"), items=items, now=now)

    def _recent_news(self, area: BaseGeometry | None, categories: Sequence[str],
                     now: datetime) -> list[msg.News]:
        since = now - timedelta(days=FEED_DAYS)
        items = self._within(self._news(self._events_between(since, now)), area, categories,
                             since)
        return sorted(items, key=lambda n: (n.at, n.event_id))[-FEED_ENTRIES:]

    # -- sending -------------------------------------------------------------------------
    def deliver(self, send: Callable[[EmailMessage], None], *, now: datetime | None = None,
                limit: int = 100) -> Delivery:
        """Send the messages due, oldest first, at most ``limit``.

        Each is claimed first (so no other sender takes it), then handed to ``send``
        (:class:`cpted.mail.SmtpTransport` or :class:`cpted.mail.FileTransport`), then
        marked sent; a failure is kept with its error and tried again after
        :func:`retry_delay`. When the server cannot be reached the run stops, leaving the
        rest due. A sender that dies between the server's acceptance and the mark would
        let the message go again once its lease (:data:`CLAIM_LEASE`) is over, under the
        same ``Message-ID``.
        """
        from cpted import mail

        require(self.actor, Action.SEND_MESSAGES)
        now = now or datetime.now(UTC)
        with self.store.engine.connect() as conn:
            rows = outbox.due(conn, iso(now), limit)
        out = Delivery()
        for row in rows:
            if not self._write("the claim", Action.SEND_MESSAGES, partial(
                    outbox.claim, row_id=row.id, seen_due_at=row.due_at,
                    lease_until=iso(now + CLAIM_LEASE)), now=now, bump=False):
                out.skipped += 1
                continue
            try:
                send(mail.compose(row, self.settings))
            except Exception as exc:  # every failure is kept and retried, none is lost
                error = f"{type(exc).__name__}: {exc}"
                retry = now + retry_delay(row.attempts + 1)
                self._write("the failure", Action.SEND_MESSAGES, partial(
                    outbox.mark_failed, row_id=row.id, error=error, retry_at=iso(retry)),
                    now=now, bump=False)
                out.failed += 1
                out.errors.append(f"message {row.id}: {error} (next try at {iso(retry)})")
                if mail.connection_lost(exc):
                    out.stopped = True
                    break
            else:
                self._write("the mark", Action.SEND_MESSAGES, partial(
                    outbox.mark_sent, row_id=row.id, at=iso(now)), now=now, bump=False)
                out.sent += 1
        if out.sent or out.failed:
            self._write("the delivery record", Action.SEND_MESSAGES, partial(
                self._log, action="messages sent", kind="outbox", target="outbox",
                detail={"sent": out.sent, "failed": out.failed}), now=now, bump=False)
        return out

    def outbox_summary(self) -> dict[str, int]:
        """Counts of messages sent and waiting, and of running follows (no addresses)."""
        require(self.actor, Action.SEND_MESSAGES)
        with self.store.engine.connect() as conn:
            counts = repo.counts(conn)
            return {**outbox.summary(conn),
                    **{f"follows_{k}": v for k, v in counts.items()}}
