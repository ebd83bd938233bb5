"""The words of follow messages: a confirmation, a report's status change, an area's
digest. Plain functions of what the public may know (:class:`News`), returning a subject
and a plain-text body; the access layer decides what goes in, so nothing here can add
what a follower may not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from cpted.follows import FollowSummary, Kind, frequency_words

#: What messages call the service.
SITE = "cpted-mapper"
#: The most items one digest lists; the rest are counted, and the feed has them all.
MAX_DIGEST_ITEMS = 50


@dataclass(frozen=True)
class Draft:
    subject: str
    body: str


@dataclass(frozen=True)
class News:
    """One event of a report as the public may read it.

    ``note`` is the event's note only when it is public and the category is not
    sensitive; ``description`` the report's text only when the category is not
    sensitive. No place: a message or a feed says where only by the area followed.
    """

    event_id: int
    at: datetime
    kind: str  # created, status or reopened
    request_id: str
    category: str
    sensitive: bool
    status: str | None
    note: str | None
    description: str | None
    link: str


def one_line(text: str) -> str:
    """``text`` on one line (subjects and headers may not break)."""
    return " ".join(str(text).split())


def status_words(value: str | None) -> str:
    return str(value or "").capitalize()


def local(t: datetime, tz: str) -> str:
    return f"{t.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}"


def _clip(text: str, n: int = 280) -> str:
    text = one_line(text)
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _footer(unsubscribe_url: str, why: str) -> list[str]:
    return ["", "-- ", f"You get this because {why}.",
            f"Stop these messages (one click): {unsubscribe_url}"]


def confirmation(summary: FollowSummary, *, confirm_url: str, unsubscribe_url: str,
                 valid_days: int) -> Draft:
    """The message asking an address to confirm a follow (double opt-in)."""
    how = ("each time its status changes" if summary.kind is Kind.REPORT
           else f"{frequency_words(summary.frequency)}, with its new reports and changes")
    body = [
        "Hello,",
        "",
        f"Someone, we hope you, asked {SITE} to e-mail this address about {summary.label}, "
        f"{how}.",
        "",
        "To start, confirm here (the link works for "
        f"{valid_days} days):",
        confirm_url,
        "",
        "If it was not you, ignore this message: nothing more will be sent.",
        *_footer(unsubscribe_url, "this address was given to follow " + summary.label),
    ]
    return Draft(one_line(f"Please confirm: follow {summary.label}"), "\n".join(body) + "\n")


@dataclass(frozen=True)
class AnswerLinks:
    """The "Is it fixed?" links of one follower's message about a fix."""

    yes_url: str
    no_url: str
    valid_days: int


def status_change(news: News, *, previous: str | None, unsubscribe_url: str,
                  tz: str, answer_links: AnswerLinks | None = None,
                  assigned: bool = False) -> Draft:
    """A report follower's message about one status change; with ``answer_links`` (a fix)
    it asks "Is it fixed?". ``assigned``: to a staff member following the reports
    assigned to them, rather than to a follower of this report."""
    status = status_words(news.status)
    whose = "assigned to you" if assigned else "you follow"
    body = [
        f"The report {whose} has a new status: {status}.",
        "",
        f"Report: {news.request_id} ({news.category})",
        f"Status: {status}" + (f" (was {status_words(previous)})" if previous else ""),
        f"When: {local(news.at, tz)} ({tz})",
    ]
    if news.note:
        body += ["", "What was done, and why:", news.note.strip()]
    elif news.sensitive:
        body += ["", "Notes on this kind of report are seen by staff only, to protect the "
                     "people involved."]
    else:
        body += ["", "No public note was given with this change."]
    if answer_links is not None:
        body += ["", "Is it fixed? If you pass by, please tell us. Each link opens a page; "
                     "nothing is recorded until you press its button.",
                 f"Yes, it is fixed: {answer_links.yes_url}",
                 f"No, it is not fixed: {answer_links.no_url}",
                 f"A \"no\" reopens the report. These links work for "
                 f"{answer_links.valid_days} days."]
    why = (f"report {news.request_id} is assigned to you and you follow what is assigned "
           "to you" if assigned else f"you follow report {news.request_id}")
    body += ["", f"See the report and its history: {news.link}",
             *_footer(unsubscribe_url, why)]
    subject = f"{news.category} {news.request_id}: now {status}"
    return Draft(one_line(subject), "\n".join(body) + "\n")


def assigned_to_you(news: News, *, unsubscribe_url: str, tz: str) -> Draft:
    """A staff member's message that a report was assigned to them."""
    body = [
        f"A report was assigned to you: {news.request_id} ({news.category}).",
        "",
        f"Status: {status_words(news.status)}",
        f"When: {local(news.at, tz)} ({tz})",
        "",
        "You will get a message each time its status changes.",
        "",
        f"See the report and its history: {news.link}",
        *_footer(unsubscribe_url, "you follow the reports assigned to you"),
    ]
    subject = f"Assigned to you: {news.category} {news.request_id}"
    return Draft(one_line(subject), "\n".join(body) + "\n")


def _item(news: News, tz: str) -> list[str]:
    when = local(news.at, tz)
    what = f"{news.category} ({news.request_id})"
    if news.sensitive:
        what += ", shown only as an approximate area"
    if news.kind == "created":
        line = [f"- {when} · New: {what}"]
        if news.description:
            line.append(f"  {_clip(news.description)}")
    else:
        verb = "Reopened" if news.kind == "reopened" else "Now"
        line = [f"- {when} · {verb} {status_words(news.status)}: {what}"]
        if news.note:
            line.append(f"  {_clip(news.note)}")
    return [*line, f"  {news.link}"]


def digest(summary: FollowSummary, items: Sequence[News], *, since: datetime,
           until: datetime, tz: str, feed_url: str, unsubscribe_url: str) -> Draft:
    """An area follower's digest of what happened between ``since`` and ``until``."""
    news = sorted(items, key=lambda n: (n.at, n.event_id))
    new = sum(n.kind == "created" for n in news)
    changed = len(news) - new
    body = [f"What happened in {summary.label} from {local(since, tz)} to "
            f"{local(until, tz)} ({tz}): {new} new report(s), {changed} change(s).", ""]
    for n in news[:MAX_DIGEST_ITEMS]:
        body += _item(n, tz)
    if len(news) > MAX_DIGEST_ITEMS:
        body += ["", f"... and {len(news) - MAX_DIGEST_ITEMS} more: see the feed."]
    body += ["", f"The same news as a feed (Atom) for a feed reader: {feed_url}",
             *_footer(unsubscribe_url, f"you follow {summary.label} "
                                       f"({frequency_words(summary.frequency)})")]
    word = "Weekly" if summary.frequency.value == "weekly" else "Daily"
    subject = f"{word} news of {summary.label}: {new} new, {changed} changed"
    return Draft(one_line(subject), "\n".join(body) + "\n")
