"""Followers' answers to "Is it fixed?" through the door (rules in :mod:`cpted.fixed`).

Anyone holding an answer link may answer (``ANSWER_FIXED``), counted against the rate
limit of the link's follow like the other links in messages. Reading the question changes
nothing. A "no" reopens the report in the answer's own transaction, with its note and the
messages to the other followers; staff read the counts of answers, never who gave them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cpted import concerns as cc
from cpted import fixed as fx
from cpted import follows as fl
from cpted.access.follows import FollowDoor, stored_time
from cpted.access.permissions import Action, require
from cpted.i18n import _
from layers.clock import iso
from layers.repos import answers
from layers.repos import concerns as concern_repo
from layers.repos import follows as repo
from layers.services import sensitive_codes

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class AnswerCounts:
    """Followers' answers to "Is it fixed?" about one report: all its fixes, and the
    latest fix anyone answered about."""

    yes: int = 0
    no: int = 0
    latest_yes: int = 0
    latest_no: int = 0


class AnswersDoor(FollowDoor):
    def _question(self, conn: Connection, follow_id: str, version: int) -> fx.Question:
        row = repo.get(conn, follow_id)
        if row is None or row["kind"] != fl.Kind.REPORT.value \
                or not row["service_request_id"]:
            raise fl.FollowError(_("this link is for a follow that no longer exists"),
                                 fields={"token": [_("the follow no longer exists")]})
        request_id = str(row["service_request_id"])
        state = concern_repo.state(conn, request_id)
        if state is None:
            raise fl.FollowError(_("this report no longer exists: it was deleted"),
                                 fields={"token": [_("the report no longer exists")]})
        catalogue = cc.services(self.store, conn)
        code = state.service_code
        given = answers.get(conn, follow_id, version)
        return fx.Question(
            request_id=request_id,
            category=catalogue[code].service_name if code in catalogue else code,
            sensitive=code in sensitive_codes(catalogue.values()),
            status=state.detailed_status, current=state.version == version,
            answer=fx.Answer(given["answer"]) if given else None,
            answered_at=stored_time(str(given["answered_at"])) if given else None,
            link=self._report_link(request_id))

    def fixed_question(self, token: str, *, now: datetime | None = None) -> fx.Question:
        """What an answer link asks about, for its page: the report as the public may
        know it, where it stands, and this follow's answer so far. Changes nothing.

        Raises
        ------
        FollowError
            A token not made here, for another purpose or expired; a follow or a report
            that no longer exists.
        """
        require(self.actor, Action.ANSWER_FIXED)
        now = now or datetime.now(UTC)
        follow_id, version = fx.read_answer(self._secret(), token, now=now)
        with self.store.engine.connect() as conn:
            return self._question(conn, follow_id, version)

    def answer_fixed(self, token: str, answer: fx.Answer | str, comment: str | None = None,
                     *, now: datetime | None = None) -> fx.Result:
        """Record a follower's answer to "Is it fixed?" by the token of its link.

        "Yes" is counted and leaves the report as it is. "No" (with ``comment``, plain
        text, at most :data:`cpted.fixed.MAX_COMMENT_CHARS`) also reopens the report to
        :data:`cpted.fixed.REOPENED_STATUS` with the note :func:`cpted.fixed.not_fixed_note`
        (public, or staff only on a sensitive category, as staff's notes default), and
        the report's other followers hear of it through the outbox, all in this one
        transaction. A report changed since the question was asked takes no answer
        (``STALE``); a follow's second answer to one fix is ``ALREADY`` unless it turns
        a "yes" into a "no" while the report is as it was (``CHANGED``).

        Raises
        ------
        FollowError
            A bad token (field ``"token"``), answer (``"answer"``) or comment
            (``"comment"``); a follow or report that no longer exists.
        RateLimitError
            Too many answers by this link, or from the public, in the last minute.
        """
        require(self.actor, Action.ANSWER_FIXED)
        now = now or datetime.now(UTC)
        follow_id, version = fx.read_answer(self._secret(), token, now=now)
        choice = fx.parse_answer(answer)
        text = fx.clean_comment(comment) if choice is fx.Answer.NO else ""

        def run(conn: Connection) -> fx.Result:
            asked = self._question(conn, follow_id, version)
            if choice not in asked.open_answers:
                outcome = fx.Outcome.STALE if asked.answer is None else fx.Outcome.ALREADY
                return fx.Result(outcome, asked, asked.answer)
            given = answers.get(conn, follow_id, version)
            if given is None:
                answers.insert(conn, follow_id=follow_id,
                               service_request_id=asked.request_id, report_version=version,
                               answer=choice.value, answered_at=iso(now))
                outcome = fx.Outcome.RECORDED
            elif answers.change(conn, int(given["id"]), was=str(given["answer"]),
                                answer=choice.value, answered_at=iso(now)):
                outcome = fx.Outcome.CHANGED
            else:  # changed by a click a moment earlier
                return fx.Result(fx.Outcome.ALREADY, asked, asked.answer)
            self._log(conn, "fixed answer", "concern", asked.request_id,
                      {"follow": follow_id, "answer": choice.value, "fix_version": version}
                      | ({"was": str(given["answer"])} if given else {}))
            if choice is fx.Answer.YES:
                return fx.Result(outcome, replace(asked, answer=choice, answered_at=now),
                                 choice)
            visibility: cc.Visibility = "internal" if asked.sensitive else "public"
            note = fx.not_fixed_note(text)
            status = fx.REOPENED_STATUS.value
            new_version = cc.change_status(self.store, asked.request_id, status, note,
                                           actor=fx.FOLLOWER, now=now, conn=conn,
                                           visibility=visibility, expected_version=version)
            self._log(conn, "status", "concern", asked.request_id,
                      {"from": asked.status, "to": status, "note": note,
                       "visibility": visibility, "by": "a follower's answer",
                       "follow": follow_id})
            self._status_messages(conn, asked.request_id, version=new_version,
                                  previous=asked.status, status=status, note=note,
                                  visibility=visibility, skip={follow_id})
            return fx.Result(outcome, replace(asked, answer=choice, answered_at=now,
                                              status=status, current=False),
                             choice, reopened=True)

        return self._write("the answer", Action.ANSWER_FIXED, run, now=now,
                           key=self._token_key(follow_id))

    def fixed_answer_counts(self, request_id: str) -> AnswerCounts:
        """How many followers answered "yes" and "no" to "Is it fixed?" about a report
        (staff only; never who)."""
        require(self.actor, Action.SEE_INTERNAL_NOTES)
        with self.store.engine.connect() as conn:
            got = answers.counts(conn, request_id)
        if not got:
            return AnswerCounts()
        latest = max(v for v, _ in got)
        return AnswerCounts(
            yes=sum(n for (_, a), n in got.items() if a == fx.Answer.YES.value),
            no=sum(n for (_, a), n in got.items() if a == fx.Answer.NO.value),
            latest_yes=got.get((latest, fx.Answer.YES.value), 0),
            latest_no=got.get((latest, fx.Answer.NO.value), 0))
