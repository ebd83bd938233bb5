"""Following a report or an area by e-mail through the door.

Anyone may follow (``FOLLOW``, counted against the rate limits like a report), and
confirms by the link sent to the address (double opt-in); a link's token ends a follow.
A report's followers get a message at each status change, written to the outbox in the
change's own transaction: the status, and the note only when it is public and the
category is not sensitive. Digests, feeds and sending are in :mod:`cpted.access.news`.

Addresses stay in the ``follows`` and ``outbox`` tables: no method returns one, and the
change log records "a follow" by its id, never by its address.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import shapely
from shapely.geometry.base import BaseGeometry

from cpted import concerns as cc
from cpted import fixed as fx
from cpted import follows as fl
from cpted import i18n
from cpted import messages as msg
from cpted.access.base import PUBLIC_PREFIX, Door
from cpted.access.permissions import Action, can, require
from cpted.i18n import _, ngettext
from cpted.privacy import Role
from layers.clock import iso
from layers.repos import assignments, outbox
from layers.repos import concerns as concern_repo
from layers.repos import follows as repo
from layers.schema import Layer
from layers.services import sensitive_codes

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


def stored_time(t: str) -> datetime:
    """A time as the store keeps it (:mod:`layers.clock`), as an aware UTC datetime."""
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
                out = replace(out, label=f"{out.label} ({msg.category_words(category)})")
        return out

    # -- following ----------------------------------------------------------------
    def follow_report(self, request_id: str, email: str, *, language: str | None = None,
                      now: datetime | None = None) -> None:
        """Follow one report's status changes. A confirmation link goes to ``email``;
        nothing else is sent before it is clicked. Following what the address already
        follows sends nothing and says nothing different, so the answer never tells
        whether an address follows something. Its messages are written in ``language``
        (default: the language in use, the follower's on a page).

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
                "frequency": fl.Frequency.INSTANT.value}, target=("concern", request_id),
                language=language or i18n.current())

        self._write("the follow", Action.FOLLOW, run, now=now)

    def follow_area(self, email: str, *, neighborhood_id: str | None = None,
                    area: BaseGeometry | None = None, categories: Sequence[str] = (),
                    frequency: fl.Frequency | str = fl.Frequency.WEEKLY,
                    language: str | None = None, now: datetime | None = None) -> None:
        """Follow a neighborhood (``neighborhood_id``) or a drawn ``area`` (a WGS84
        polygon; :func:`cpted.follows.circle` makes one around a point): new reports and
        changes in it, in a ``daily`` or ``weekly`` digest, of ``categories`` only when
        given. Confirmation and ``language`` as for :meth:`follow_report`.

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
                _("choose a neighborhood or draw an area on the map (one of them)"))
        elif neighborhood_id is not None:
            if str(neighborhood_id) not in self._neighborhoods()[0]:
                problems.setdefault("area", []).append(
                    _("there is no neighborhood {id!r}").format(id=neighborhood_id))
        else:
            geom = check(lambda: fl.check_area(area))
            geojson = None if geom is None else shapely.to_geojson(
                shapely.set_precision(geom, 1e-6))
        if problems:
            flat = [p for v in problems.values() for p in v]
            raise fl.FollowError(_("nothing was followed"), flat, fields=problems)
        assert address is not None and freq is not None and cats is not None
        values = {"email": address, "kind": fl.Kind.AREA.value, "service_request_id": None,
                  "neighborhood_id": None if neighborhood_id is None else str(neighborhood_id),
                  "area_geojson": geojson, "categories": json.dumps(cats),
                  "frequency": freq.value}

        def run(conn: Connection) -> None:
            target = (("neighborhood", str(neighborhood_id)) if neighborhood_id is not None
                      else ("area", ""))
            self._follow(conn, now, values, target=target,
                         language=language or i18n.current())

        self._write("the follow", Action.FOLLOW, run, now=now)

    def _follow(self, conn: Connection, now: datetime, values: dict[str, Any], *,
                target: tuple[str, str], language: str) -> None:
        language = language if language in i18n.available() else i18n.SOURCE
        same = repo.find_active(conn, **values)
        kind, target_id = target
        if same is not None and same["confirmed_at"] is not None:
            self._log(conn, "follow", kind, target_id or same["id"],
                      {"follow": same["id"], "already": True})
            return
        follow_id = same["id"] if same is not None else uuid.uuid4().hex
        row = same or {**values, "id": follow_id, "created_at": iso(now),
                       "language": language}
        if same is None:
            repo.insert(conn, **row)
        elif same["language"] != language:  # asked again in another language: speak it
            repo.set_language(conn, follow_id, language)
            row = {**same, "language": language}
        address = values["email"]
        sent = outbox.count_since(conn, address, "confirm:", iso(now - timedelta(days=1)))
        if sent >= fl.MAX_CONFIRMATIONS_PER_DAY:
            problem = ngettext(
                "this address was sent {n} confirmation message in the last day; confirm it, "
                "or try again tomorrow",
                "this address was sent {n} confirmation messages in the last day; confirm one "
                "of them, or try again tomorrow", sent).format(n=sent)
            raise fl.FollowError(_("nothing was followed"), [problem],
                                 fields={"email": [problem]})
        secret = self._secret(conn)
        token = fl.sign_token(secret, fl.Purpose.CONFIRM, follow_id,
                              expires=now + fl.CONFIRM_VALID)
        with i18n.use(language):
            draft = msg.confirmation(self._summary(row, conn=conn),
                                     confirm_url=self._link("/follow/confirm", token=token),
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
                   "Auto-Submitted": "auto-generated", "Content-Language": draft.language}
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
                raise fl.FollowError(_("this link is for a follow that no longer exists"),
                                     fields={"token": [_("the follow no longer exists")]})
            return self._with_feed(self._summary(row, conn=conn), follow_id)

    def _with_feed(self, summary: fl.FollowSummary, follow_id: str) -> fl.FollowSummary:
        if summary.kind is not fl.Kind.AREA or summary.ended or not summary.confirmed:
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
                raise fl.FollowError(_("this follow has ended; follow again to start anew"),
                                     fields={"token": [_("the follow has ended")]})
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
                raise fl.FollowError(_("this link is for a follow that no longer exists"),
                                     fields={"token": [_("the follow no longer exists")]})
            if repo.end(conn, follow_id, iso(now)):
                self._log(conn, "follow ended", row["kind"],
                          row["service_request_id"] or row["neighborhood_id"] or follow_id,
                          {"follow": follow_id})
            return self._summary({**row, "ended_at": iso(now)}, conn=conn)

        return self._write("the unsubscription", Action.FOLLOW, run, now=now,
                           key=self._token_key(follow_id))

    # -- messages caused by changes (in the change's own transaction) --------------------
    def _answer_links(self, secret: str, follow_id: str, version: int, now: datetime
                      ) -> msg.AnswerLinks:
        """The "Is it fixed?" links of one follower's message about the fix that made
        ``version``."""
        token = fx.sign_answer(secret, follow_id, version, expires=now + fl.ANSWER_VALID)
        return msg.AnswerLinks(
            yes_url=self._link("/follow/fixed", token=token, answer=fx.Answer.YES.value),
            no_url=self._link("/follow/fixed", token=token, answer=fx.Answer.NO.value),
            valid_days=fl.ANSWER_VALID.days)

    def _status_messages(self, conn: Connection, request_id: str, *, version: int,
                         previous: str | None, status: str, note: str | None,
                         visibility: str, skip: Collection[str] = ()) -> int:
        """Queue a message to each confirmed follower of ``request_id`` about its new
        ``status``, in ``conn``'s transaction; the note only when public and the category
        not sensitive. A fix (:data:`cpted.fixed.ASKS`) asks each follower "Is it
        fixed?" with links of their own. The staff member the report is assigned to hears
        too when they follow what is assigned to them (and did not make the change). The
        follows in ``skip`` get nothing. The key (report, version, follow) makes a retry
        write nothing new."""
        followers = [f for f in repo.report_followers(conn, request_id) if f["id"] not in skip]
        assignee = assignments.assignee_follow(conn, request_id)
        if assignee is not None and (
                assignee["id"] in skip or assignee["account"] == self.actor.username
                or not can(Role(assignee["role"]), Action.FOLLOW_ASSIGNED)):
            assignee = None
        if not followers and assignee is None:
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
        asks = status in {s.value for s in fx.ASKS}
        made = 0
        for f in followers:
            links = self._answer_links(secret, f["id"], version, now) if asks else None
            with i18n.use(f["language"]):
                draft = msg.status_change(
                    news, previous=previous, tz=zone, answer_links=links,
                    unsubscribe_url=self._unsubscribe_url(secret, f["id"]))
            made += self._enqueue(conn, f"status:{request_id}:{version}:{f['id']}", f["id"],
                                  f["email"], draft, now, secret)
        if assignee is not None:
            with i18n.use(assignee["language"]):
                draft = msg.status_change(news, previous=previous, tz=zone, assigned=True,
                                          unsubscribe_url=self._unsubscribe_url(
                                              secret, assignee["id"]))
            made += self._enqueue(conn, f"status:{request_id}:{version}:{assignee['id']}",
                                  assignee["id"], str(assignee["email"]), draft, now, secret)
        return made
