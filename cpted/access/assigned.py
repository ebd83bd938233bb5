"""Reports assigned to staff, and staff following what is assigned to them, through the
door.

Staff (``ASSIGN``) assign a report to one enabled staff account, or to no one. A staff
member with an account and an e-mail address may follow the reports assigned to them
(``FOLLOW_ASSIGNED``): one follow of their account, with no confirmation message since
the account's address is already known, that hears of every status change of whatever
is assigned to them at the time of the change (reports assigned later included), and of
each new assignment. The messages follow the public's rules like any follower's, and
the address is read from the account when a message is written, never kept with the
follow nor returned by any method. Who a report is assigned to is for staff only.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cpted import concerns as cc
from cpted import follows as fl
from cpted import i18n
from cpted import messages as msg
from cpted.access.follows import FollowDoor
from cpted.access.permissions import PERMISSIONS, Action, can, require
from cpted.i18n import _
from cpted.privacy import Role
from layers.clock import iso
from layers.errors import UnusableInputError
from layers.repos import accounts as account_repo
from layers.repos import assignments
from layers.repos import follows as repo
from layers.services import sensitive_codes

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

#: The roles a report may be assigned to: those who may act on it.
ASSIGNABLE = PERMISSIONS[Action.CHANGE_STATUS]


class AssignDoor(FollowDoor):
    def assignable_staff(self) -> dict[str, str]:
        """The enabled staff accounts a report may be assigned to: user name -> name."""
        require(self.actor, Action.ASSIGN)
        with self.store.engine.connect() as conn:
            rows = assignments.staff_accounts(conn, sorted(r.value for r in ASSIGNABLE))
        return {str(r["username"]): str(r["display_name"]) for r in rows}

    def assignee(self, request_id: str) -> tuple[str, str] | None:
        """Who a report is assigned to, as ``(user name, name)``; staff only."""
        require(self.actor, Action.SEE_INTERNAL_NOTES)
        with self.store.engine.connect() as conn:
            got = assignments.get(conn, request_id)
            if got is None:
                return None
            account = account_repo.get(conn, str(got["username"]))
        name = account.display_name if account is not None else str(got["username"])
        return str(got["username"]), name

    def assign(self, request_id: str, username: str | None, *,
               now: datetime | None = None) -> bool:
        """Assign a report to the staff account ``username`` (None: to no one); whether
        anything changed. The assignee hears of it if they follow what is assigned to
        them (unless they assigned it to themselves).

        Raises
        ------
        ReportError
            There is no such report.
        UnusableInputError
            ``username`` is not an enabled staff account.
        """
        require(self.actor, Action.ASSIGN)
        now = now or datetime.now(UTC)

        def run(conn: Connection) -> bool:
            state = cc.state(conn, request_id)
            if username is not None:
                account = account_repo.get(conn, username)
                if account is None or account.disabled or Role(account.role) not in ASSIGNABLE:
                    roles = ", ".join(_(r.value) for r in Role if r in ASSIGNABLE)
                    raise UnusableInputError(_(
                        "{name!r} is not an enabled staff account; a report is assigned to "
                        "one of: {roles}").format(name=username, roles=roles))
            before = assignments.get(conn, request_id)
            was = None if before is None else str(before["username"])
            if was == username:
                return False
            assignments.put(conn, request_id, username=username, at=iso(now),
                            by=self.actor.username or self.actor.name)
            self._log(conn, "assign", "concern", request_id, {"to": username, "from": was})
            if username is not None and username != self.actor.username:
                self._assigned_message(conn, request_id, state, now)
            return True

        return bool(self._write("the assignment", Action.ASSIGN, run, now=now))

    def _assigned_message(self, conn: Connection, request_id: str,
                          state: dict[str, object], now: datetime) -> None:
        follow = assignments.assignee_follow(conn, request_id)
        if follow is None or not can(Role(follow["role"]), Action.FOLLOW_ASSIGNED):
            return
        catalogue = cc.services(self.store, conn)
        code = str(state["service_code"])
        news = msg.News(
            event_id=0, at=now, kind="assigned", request_id=request_id,
            category=catalogue[code].service_name if code in catalogue else code,
            sensitive=code in sensitive_codes(catalogue.values()),
            status=str(state["detailed_status"]), note=None, description=None,
            link=self._report_link(request_id))
        secret = self._secret(conn)
        with i18n.use(follow["language"]):
            draft = msg.assigned_to_you(news, tz=self._zone(conn), unsubscribe_url=(
                self._unsubscribe_url(secret, follow["id"])))
        self._enqueue(conn, f"assigned:{request_id}:{follow['id']}:{iso(now)}", follow["id"],
                      str(follow["email"]), draft, now, secret)

    def follows_assigned(self) -> bool:
        """Whether this staff member follows the reports assigned to them."""
        require(self.actor, Action.FOLLOW_ASSIGNED)
        if not self.actor.username:
            return False
        with self.store.engine.connect() as conn:
            return assignments.account_follow(conn, self.actor.username) is not None

    def follow_assigned(self, on: bool = True, *, now: datetime | None = None) -> bool:
        """Start (``on``) or stop following the reports assigned to this staff member, by
        their account's e-mail address (no confirmation: the account's address is
        known); return whether they follow them now. Again: no change.

        Raises
        ------
        FollowError
            Not signed in with an enabled account, or the account has no e-mail address
            (field ``"email"``).
        """
        require(self.actor, Action.FOLLOW_ASSIGNED)
        now = now or datetime.now(UTC)
        username = self.actor.username
        no_account = fl.FollowError(
            _("following what is assigned to you needs a signed-in account with an e-mail "
              "address"), fields={"email": [_("sign in with your own account")]})
        if not username:
            raise no_account

        def run(conn: Connection) -> bool:
            current = assignments.account_follow(conn, username)
            if not on:
                if current is not None:
                    repo.end(conn, str(current["id"]), iso(now))
                    self._log(conn, "follow assigned ended", "account", username,
                              {"follow": current["id"]})
                return False
            account = account_repo.get(conn, username)
            if account is None or account.disabled:
                raise no_account
            if not (account.email or "").strip():
                problem = _("your account has no e-mail address; an administrator gives it "
                            "one (cpted accounts add ... --email)")
                raise fl.FollowError(_("nothing was followed"), [problem],
                                     fields={"email": [problem]})
            if current is not None:
                return True
            follow_id = uuid.uuid4().hex
            repo.insert(conn, id=follow_id, email="", kind=fl.Kind.ASSIGNED.value,
                        service_request_id=None, neighborhood_id=None, area_geojson=None,
                        categories="[]", frequency=fl.Frequency.INSTANT.value,
                        created_at=iso(now), confirmed_at=iso(now), account=username,
                        language=i18n.current())
            self._log(conn, "follow assigned", "account", username, {"follow": follow_id})
            return True

        return bool(self._write("the follow", Action.FOLLOW_ASSIGNED, run, now=now))
