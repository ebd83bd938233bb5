"""Closing the loop with the people who follow a report: "Is it fixed?".

When a report is marked fixed, the message to each of its followers asks whether it is,
with a "yes" link and a "no" link. Each link carries a token signed like the other
follow links (:func:`cpted.follows.sign_token`, purpose ``fixed``) that names the follow
and the report's version the fix made, so an answer is about that fix and no other.

Opening a link changes nothing (mail scanners open every link): its page asks, and only
its button records the answer. "Yes" is counted and leaves the report closed. "No"
reopens it (back to :data:`REOPENED_STATUS`) with a note saying a follower finds it not
fixed, with their comment as plain text, and its other followers hear of it like of any
status change. One answer per follow and fix; it may change from yes to no while the
report is still as it was when asked.

The rules are here; :class:`cpted.access.Access` applies them in one transaction.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cpted.follows import ANSWER_VALID, FollowError, Purpose, read_token, sign_token
from cpted.i18n import N_
from layers.schema import DetailedStatus

#: The status change that asks followers "Is it fixed?".
ASKS: frozenset[DetailedStatus] = frozenset({DetailedStatus.FIXED})
#: Where a "no" puts the report: back with the staff, as a new report is, and counted as
#: a reopening (a closed report moved to an open status; see :mod:`cpted.progress`).
REOPENED_STATUS = DetailedStatus.SUBMITTED
#: Who the history records for a follower's "no" (staff see it; the public sees no one).
FOLLOWER = "follower"
#: The longest comment a "no" takes (characters).
MAX_COMMENT_CHARS = 500
QUESTION = N_("Is it fixed?")
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+\.[^\s@<>()\[\],;:\"']+")
#: What an e-mail address typed into a comment is shown as: the comment becomes a note
#: that others read, and an address is never published.
ADDRESS_REMOVED = "[e-mail address removed]"


class Answer(StrEnum):
    YES = "yes"
    NO = "no"


class Outcome(StrEnum):
    """What became of an answer sent."""

    #: Stored (for "no": the report was reopened).
    RECORDED = "recorded"
    #: A "yes" stored earlier became a "no" (the report was reopened).
    CHANGED = "changed"
    #: This follow had answered this fix the same way, or may no longer change it.
    ALREADY = "already"
    #: The report changed since the question was asked: nothing to answer.
    STALE = "stale"


@dataclass(frozen=True)
class Question:
    """What an answer link's page may show: the report in the public's words, where it
    stands now, and this follow's answer so far (never an address or a place)."""

    request_id: str
    category: str
    sensitive: bool
    #: The report's detailed status now.
    status: str
    #: Whether the report is still as the fix left it (else the question is over).
    current: bool
    #: This follow's answer to this fix, and when (UTC), if any.
    answer: Answer | None = None
    answered_at: datetime | None = None
    #: The report's page.
    link: str = ""

    @property
    def open_answers(self) -> tuple[Answer, ...]:
        """The answers this follow may still give: either before answering, "no" after
        a "yes" while nothing else happened since, none once the report changed."""
        if not self.current or self.answer is Answer.NO:
            return ()
        return (Answer.NO,) if self.answer is Answer.YES else (Answer.YES, Answer.NO)


@dataclass(frozen=True)
class Result:
    """What an answer did, for the page to say so."""

    outcome: Outcome
    question: Question
    #: The answer now stored for this follow and fix (None when there was none to give).
    answer: Answer | None
    #: Whether this answer reopened the report.
    reopened: bool = False


def parse_answer(value: str | None) -> Answer:
    """``value`` as an :class:`Answer`.

    Raises
    ------
    FollowError
        Anything but ``yes`` or ``no`` (field ``"answer"``).
    """
    try:
        return Answer((value or "").strip().lower())
    except ValueError:
        problem = f"the answer is yes or no, got {value!r}"
        raise FollowError("nothing was recorded", [problem],
                          fields={"answer": [problem]}) from None


def clean_comment(text: str | None) -> str:
    """A "no"'s comment as it may be kept: plain text without control characters (line
    breaks kept), trimmed, e-mail addresses replaced by :data:`ADDRESS_REMOVED`.

    Raises
    ------
    FollowError
        Longer than :data:`MAX_COMMENT_CHARS` (field ``"comment"``).
    """
    value = "".join(c for c in (text or "") if c in "\n\t" or
                    unicodedata.category(c)[0] != "C").strip()
    value = re.sub(r"\n{3,}", "\n\n", value)
    if len(value) > MAX_COMMENT_CHARS:
        problem = (f"the comment has {len(value):,} characters; at most "
                   f"{MAX_COMMENT_CHARS:,}")
        raise FollowError("nothing was recorded", [problem], fields={"comment": [problem]})
    return _EMAIL.sub(ADDRESS_REMOVED, value)


def not_fixed_note(comment: str) -> str:
    """The note of the reopening a follower's "no" makes (``comment`` already cleaned)."""
    return (f"A follower says it is not fixed: {comment}" if comment
            else "A follower says it is not fixed.")


def sign_answer(secret: str, follow_id: str, report_version: int, *,
                expires: datetime) -> str:
    """The token of one follow's answer links to the fix that made ``report_version``."""
    return sign_token(secret, Purpose.FIXED, f"{follow_id}:{int(report_version)}",
                      expires=expires)


def read_answer(secret: str, token: str, *, now: datetime) -> tuple[str, int]:
    """``(follow id, report version)`` of a token made by :func:`sign_answer`.

    Raises
    ------
    FollowError
        Not signed here, for another purpose, malformed, or older than
        :data:`cpted.follows.ANSWER_VALID`.
    """
    subject = read_token(secret, token, Purpose.FIXED, now=now)
    follow_id, _, version = subject.rpartition(":")
    if not follow_id or not version.isdigit():
        raise FollowError("this link does not work: it is incomplete or was not made "
                          "here. Copy the whole link from the message",
                          fields={"token": ["the link is incomplete or was not made here"]})
    return follow_id, int(version)


__all__ = ["ADDRESS_REMOVED", "ANSWER_VALID", "ASKS", "FOLLOWER", "MAX_COMMENT_CHARS",
           "QUESTION", "REOPENED_STATUS", "Answer", "Outcome", "Question", "Result",
           "clean_comment", "not_fixed_note", "parse_answer", "read_answer", "sign_answer"]
