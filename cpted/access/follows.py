"""Follows, messages and feeds through the door.

Anyone may follow (``FOLLOW``, counted against the rate limits like a report); what a
follower hears is what the public may read, whoever they are: a status and its public
note (none of a sensitive category's notes), new reports and changes in an area placed
by their public point (a sensitive report at its grid cell), never a description of a
sensitive report, an internal note, contact or an address. Messages are written to the
outbox in the transaction of the change that causes them; building digests and sending
the outbox is for the ``SEND_MESSAGES`` role (the command line's ``cpted notify``).

Addresses stay in the ``follows`` and ``outbox`` tables: no method returns one, and the
change log records "a follow" by its id, never by its address.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from cpted import atom
from cpted import concerns as cc
from cpted import follows as fl
from cpted import messages as msg
from cpted.access.base import PUBLIC_PREFIX, Door
from cpted.access.permissions import Action, require
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


def _parse(t: str) -> datetime:
    return datetime.fromisoformat(t).astimezone(UTC)


class FollowDoor(Door):
    # -- links and the secret that signs them ------------------------------------
    def _secret(self, conn: Connection | None = None) -> str:
        if self.settings.secret_key:
            return self.settings.secret_key
        candidate = secrets.token_urlsafe(32)
        if conn is not None:
            return repo.stored_secret(conn, fl.SECRET_SETTING, candidate)
        stored = self.store.get_setting(fl.SECRET_SETTING)
        if stored:
            return stored
        with self.store.transaction() as new:
            return repo.stored_secret(new, fl.SECRET_SETTING, candidate)

    def _link(self, path: str, **query: str) -> str:
        return self.settings.link_base + path + (f"?{urlencode(query)}" if query else "")

    def _report_link(self, request_id: str) -> str:
        return self._link("/concern", report=request_id)

    def _unsubscribe_url(self, secret: str, follow_id: str) -> str:
        return self._link("/follow/unsubscribe", token=fl.sign_token(
            secret, fl.Purpose.UNSUBSCRIBE, follow_id))

    def _area_feed_url(self, secret: str, follow_id: str) -> str:
        token = fl.sign_token(secret, fl.Purpose.FEED, follow_id)
        return self._link(f"/feeds/area/{token}.atom")

    def neighborhood_feed_url(self, neighborhood_id: str) -> str:
        """Where the Atom feed of a neighborhood is served."""
        return self._link(f"/feeds/neighborhood/{quote(str(neighborhood_id), safe='')}.atom")

    def _zone(self, conn: Connection | None = None) -> str:
        if conn is not None:
            return repo.setting(conn, "timezone") or self.settings.timezone
        return self.store.get_setting("timezone") or self.settings.timezone

    def _token_key(self, follow_id: str) -> str | None:
        """Whose quota a confirmation or an unsubscription by link counts against: the
        follow's own for the public (a mail provider's one-click unsubscriptions all come
        from a few addresses), the account's for someone signed in."""
        return None if self.actor.username else f"{PUBLIC_PREFIX}follow:{follow_id}"

    def _neighborhoods(self) -> tuple[dict[str, str], dict[str, BaseGeometry]]:
        """Neighborhood names and polygons by id."""
        hoods = self.store.read(Layer.NEIGHBORHOODS)
        ids = hoods["id"].astype(str).tolist()
        return (dict(zip(ids, hoods["name"].astype(str), strict=True)),
                dict(zip(ids, hoods.geometry, strict=True)))

    def _summary(self, row: Mapping[str, Any], *, names: Mapping[str, str] | None = None,
                 conn: Connection | None = None) -> fl.FollowSummary:
        names = names if names is not None else {
            c: s.service_name for c, s in cc.services(self.store, conn).items()}
        hood_names = self._neighborhoods()[0] if row.get("neighborhood_id") else {}
        out = fl.summarise(row, names=names, neighborhoods=hood_names)
        if out.kind is fl.Kind.REPORT and out.service_request_id:
            state = (concern_repo.state(conn, out.service_request_id) if conn is not None
                     else None)
            if state is not None:
                category = names.get(state.service_code, state.service_code)
                out = replace(out, label=f"{out.label} ({category})")
        return out

    # -- following ----------------------------------------------------------------
    def follow_report(self, request_id: str, email: str, *, now: datetime | None = None
                      ) -> None:
        """Follow one report's status changes. A confirmation link goes to ``email``;
        nothing else is sent before it is clicked. Following what the address already
        follows sends nothing and says nothing different, so the answer never tells
        whether an address follows something.

        Raises
        ------
        FollowError
            A malformed address (field ``"email"``), or too many confirmations to it today.
        ReportError
            There is no such report.
        """
        require(self.actor, Action.FOLLOW)
        address = fl.normalise_email(email)
        now = now or datetime.now(UTC)

        def run(conn: Connection) -> None:
            cc.state(conn, request_id)
            self._follow(conn, now, {
                "email": address, "kind": fl.Kind.REPORT.value,
                "service_request_id": request_id, "neighborhood_id": None,
                "area_geojson": None, "categories": "[]",
                "frequency": fl.Frequency.INSTANT.value}, target=("concern", request_id))

        self._write("the follow", Action.FOLLOW, run, now=now)

    def follow_area(self, email: str, *, neighborhood_id: str | None = None,
                    area: BaseGeometry | None = None, categories: Sequence[str] = (),
                    frequency: fl.Frequency | str = fl.Frequency.WEEKLY,
                    now: datetime | None = None) -> None:
        """Follow a neighborhood (``neighborhood_id``) or a drawn ``area`` (a WGS84
        polygon; :func:`cpted.follows.circle` makes one around a point): new reports and
        changes in it, in a ``daily`` or ``weekly`` digest, of ``categories`` only when
        given. Confirmation as for :meth:`follow_report`.

        Raises
        ------
        FollowError
            Every problem found, each under its field (``email``, ``area``,
            ``categories``, ``frequency``).
        """
        require(self.actor, Action.FOLLOW)
        now = now or datetime.now(UTC)
        problems: dict[str, list[str]] = {}

        def check(fn: Callable[[], Any]) -> Any:
            try:
                return fn()
            except fl.FollowError as exc:
                for k, v in exc.fields.items():
                    problems.setdefault(k, []).extend(v)
                return None

        address = check(lambda: fl.normalise_email(email))
        freq = check(lambda: fl.parse_frequency(frequency, fl.Kind.AREA))
        cats = check(lambda: fl.check_categories(
            list(categories), sorted(cc.services(self.store))))
        geojson = None
        if (neighborhood_id is None) == (area is None):
            problems.setdefault("area", []).append(
                "choose a neighborhood or draw an area on the map (one of them)")
        elif neighborhood_id is not None:
            if str(neighborhood_id) not in self._neighborhoods()[0]:
                problems.setdefault("area", []).append(
                    f"there is no neighborhood {neighborhood_id!r}")
        else:
            geom = check(lambda: fl.check_area(area))
            geojson = None if geom is None else shapely.to_geojson(
                shapely.set_precision(geom, 1e-6))
        if problems:
            flat = [p for v in problems.values() for p in v]
            raise fl.FollowError("nothing was followed", flat, fields=problems)
        assert address is not None and freq is not None and cats is not None
        values = {"email": address, "kind": fl.Kind.AREA.value, "service_request_id": None,
                  "neighborhood_id": None if neighborhood_id is None else str(neighborhood_id),
                  "area_geojson": geojson, "categories": json.dumps(cats),
                  "frequency": freq.value}

        def run(conn: Connection) -> None:
            target = (("neighborhood", str(neighborhood_id)) if neighborhood_id is not None
                      else ("area", ""))
            self._follow(conn, now, values, target=target)

        self._write("the follow", Action.FOLLOW, run, now=now)

    def _follow(self, conn: Connection, now: datetime, values: dict[str, Any], *,
                target: tuple[str, str]) -> None:
        same = repo.find_active(conn, **values)
        kind, target_id = target
        if same is not None and same["confirmed_at"] is not None:
            self._log(conn, "follow", kind, target_id or same["id"],
                      {"follow": same["id"], "already": True})
            return
        follow_id = same["id"] if same is not None else uuid.uuid4().hex
        row = same or {**values, "id": follow_id, "created_at": iso(now)}
        if same is None:
            repo.insert(conn, **row)
        address = values["email"]
        sent = outbox.count_since(conn, address, "confirm:", iso(now - timedelta(days=1)))
        if sent >= fl.MAX_CONFIRMATIONS_PER_DAY:
            problem = (f"this address was sent {sent} confirmation messages in the last day; "
                       "confirm one of them, or try again tomorrow")
            raise fl.FollowError("nothing was followed", [problem], fields={"email": [problem]})
        secret = self._secret(conn)
        summary = self._summary(row, conn=conn)
        token = fl.sign_token(secret, fl.Purpose.CONFIRM, follow_id,
                              expires=now + fl.CONFIRM_VALID)
        draft = msg.confirmation(summary, confirm_url=self._link("/follow/confirm",
                                                                 token=token),
                                 unsubscribe_url=self._unsubscribe_url(secret, follow_id),
                                 valid_days=fl.CONFIRM_VALID.days)
        # one confirmation an hour for the same follow, however often it is asked for
        self._enqueue(conn, f"confirm:{follow_id}:{now:%Y%m%d%H}", follow_id, address, draft,
                      now, secret)
        self._log(conn, "follow", kind, target_id or follow_id,
                  {"follow": follow_id, "frequency": values["frequency"],
                   "categories": json.loads(values["categories"])})

    def _enqueue(self, conn: Connection, key: str, follow_id: str, address: str,
                 draft: msg.Draft, now: datetime, secret: str) -> bool:
        unsubscribe = self._unsubscribe_url(secret, follow_id)
        headers = {"List-Unsubscribe": f"<{unsubscribe}>",
                   "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                   "Auto-Submitted": "auto-generated"}
        return outbox.enqueue(conn, dedupe_key=key, follow_id=follow_id, to_address=address,
                              subject=draft.subject, body_text=draft.body, headers=headers,
                              created_at=iso(now), due_at=iso(now))

    def followed_by(self, token: str, purpose: fl.Purpose | str, *,
                    now: datetime | None = None) -> fl.FollowSummary:
        """What a link's token follows (for the page that asks "confirm?" or "stop?").

        Raises
        ------
        FollowError
            The token is not one of ours, is for another purpose, or has expired; or its
            follow no longer exists.
        """
        now = now or datetime.now(UTC)
        follow_id = fl.read_token(self._secret(), token, fl.Purpose(purpose), now=now)
        with self.store.engine.connect() as conn:
            row = repo.get(conn, follow_id)
            if row is None:
                raise fl.FollowError("this link is for a follow that no longer exists",
                                     fields={"token": ["the follow no longer exists"]})
            return self._with_feed(self._summary(row, conn=conn), follow_id)

    def _with_feed(self, summary: fl.FollowSummary, follow_id: str) -> fl.FollowSummary:
        if summary.kind is fl.Kind.REPORT or summary.ended or not summary.confirmed:
            return summary
        url = (self.neighborhood_feed_url(summary.neighborhood_id) if summary.neighborhood_id
               else self._area_feed_url(self._secret(), follow_id))
        return replace(summary, feed_url=url)

    def confirm_follow(self, token: str, *, now: datetime | None = None) -> fl.FollowSummary:
        """Confirm a follow by the token of its confirmation link (again: no change)."""
        require(self.actor, Action.FOLLOW)
        now = now or datetime.now(UTC)
        follow_id = fl.read_token(self._secret(), token, fl.Purpose.CONFIRM, now=now)

        def run(conn: Connection) -> fl.FollowSummary:
            row = repo.get(conn, follow_id)
            if row is None or row["ended_at"] is not None:
                raise fl.FollowError("this follow has ended; follow again to start anew",
                                     fields={"token": ["the follow has ended"]})
            if repo.confirm(conn, follow_id, iso(now)):
                row = {**row, "confirmed_at": iso(now)}
                self._log(conn, "follow confirmed", row["kind"],
                          row["service_request_id"] or row["neighborhood_id"] or follow_id,
                          {"follow": follow_id})
            return self._summary(row, conn=conn)

        out = self._write("the confirmation", Action.FOLLOW, run, now=now,
                          key=self._token_key(follow_id))
        return self._with_feed(out, follow_id)

    def unsubscribe(self, token: str, *, now: datetime | None = None) -> fl.FollowSummary:
        """End a follow by the token of an unsubscribe link: nothing more is sent to it,
        messages waiting are dropped and its address is forgotten. Again: no change."""
        require(self.actor, Action.FOLLOW)
        now = now or datetime.now(UTC)
        follow_id = fl.read_token(self._secret(), token, fl.Purpose.UNSUBSCRIBE, now=now)

        def run(conn: Connection) -> fl.FollowSummary:
            row = repo.get(conn, follow_id)
            if row is None:
                raise fl.FollowError("this link is for a follow that no longer exists",
                                     fields={"token": ["the follow no longer exists"]})
            if repo.end(conn, follow_id, iso(now)):
                self._log(conn, "follow ended", row["kind"],
                          row["service_request_id"] or row["neighborhood_id"] or follow_id,
                          {"follow": follow_id})
            return self._summary({**row, "ended_at": iso(now)}, conn=conn)

        return self._write("the unsubscription", Action.FOLLOW, run, now=now,
                           key=self._token_key(follow_id))

    # -- messages caused by changes (in the change's own transaction) --------------------
    def _status_messages(self, conn: Connection, request_id: str, *, version: int,
                         previous: str | None, status: str, note: str | None,
                         visibility: str) -> int:
        """Queue a message to each confirmed follower of ``request_id`` about its new
        ``status``, in ``conn``'s transaction; the note only when public and the category
        not sensitive. The key (report, version, follow) makes a retry write nothing new."""
        followers = repo.report_followers(conn, request_id)
        if not followers:
            return 0
        catalogue = cc.services(self.store, conn)
        code = cc.state(conn, request_id)["service_code"]
        sensitive = code in sensitive_codes(catalogue.values())
        now = datetime.now(UTC)
        news = msg.News(
            event_id=0, at=now, kind="status", request_id=request_id,
            category=catalogue[code].service_name if code in catalogue else str(code),
            sensitive=sensitive, status=status,
            note=note.strip() if note and visibility == "public" and not sensitive else None,
            description=None, link=self._report_link(request_id))
        secret, zone = self._secret(conn), self._zone(conn)
        made = 0
        for f in followers:
            draft = msg.status_change(news, previous=previous, tz=zone,
                                      unsubscribe_url=self._unsubscribe_url(secret, f["id"]))
            made += self._enqueue(conn, f"status:{request_id}:{version}:{f['id']}", f["id"],
                                  f["email"], draft, now, secret)
        return made

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
                event_id=int(e["id"]), at=_parse(str(e["at"])), kind=str(e["kind"]),
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
        return _parse(str(row["last_digest_at"] or row["confirmed_at"]))

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
                    summary = fl.summarise(f, names=catalogue_names, neighborhoods=names)
                    feed = (self.neighborhood_feed_url(f["neighborhood_id"])
                            if f["neighborhood_id"] else self._area_feed_url(secret, f["id"]))
                    draft = msg.digest(summary, items, since=start, until=now, tz=zone,
                                       feed_url=feed,
                                       unsubscribe_url=self._unsubscribe_url(secret, f["id"]))
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
            raise UnusableInputError(f"there is no neighborhood {neighborhood_id!r}")
        items = self._recent_news(polygons[nid], (), now)
        return atom.feed(base_url=self.settings.link_base, feed_key=f"neighborhood/{nid}",
                         title=f"{names[nid]}: concerns and what was done",
                         subtitle=f"New reports and status changes in {names[nid]}, as the "
                                  "public map shows them.",
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
            raise fl.FollowError("this feed has ended, or its follow was never confirmed",
                                 fields={"token": ["the follow has ended"]})
        names, polygons = self._neighborhoods()
        summary = fl.summarise(row, names={c: s.service_name for c, s in
                                           cc.services(self.store).items()},
                               neighborhoods=names)
        items = self._recent_news(self._area_of(row, polygons),
                                  json.loads(row["categories"]), now)
        return atom.feed(base_url=self.settings.link_base, feed_key=f"area/{follow_id}",
                         title=f"News of {summary.label}",
                         subtitle="New reports and status changes, as the public map shows "
                                  "them.",
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
