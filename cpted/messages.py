"""The words of follow messages: a confirmation, a report's status change, an area's
digest. Plain functions of what the public may know (:class:`News`), returning a subject
and a plain-text body; the access layer decides what goes in, so nothing here can add
what a follower may not read.

A message is written in the language in use (:mod:`cpted.i18n`): the access layer
composes each one inside ``i18n.use(...)`` with the language its follow was made in.
Times are the deployment's local time, written the language's way; what people typed
(notes, descriptions, neighborhood names) is never translated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cpted import i18n
from cpted.follows import FollowSummary, Kind, frequency_words
from cpted.i18n import _, ngettext
from layers.schema import ConcernStatus, DetailedStatus

#: What messages call the service.
SITE = "cpted-mapper"
#: The most items one digest lists; the rest are counted, and the feed has them all.
MAX_DIGEST_ITEMS = 50


@dataclass(frozen=True)
class Draft:
    subject: str
    body: str
    #: The language it is written in (the one in use when it was composed).
    language: str = field(default_factory=i18n.current)


@dataclass(frozen=True)
class News:
    """One event of a report as the public may read it.

    ``note`` is the event's note only when it is public and the category is not
    sensitive; ``description`` the report's text only when the category is not
    sensitive. No place: a message or a feed says where only by the area followed.
    ``category`` is the category's stored name (a shipped one is translated where shown).
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


#: The statuses a report may have, whose words are in the catalogue (the same msgids as
#: the pages' words for them).
_STATUSES = frozenset({*(s.value for s in DetailedStatus), *(s.value for s in ConcernStatus)})


def one_line(text: str) -> str:
    """``text`` on one line (subjects and headers may not break)."""
    return " ".join(str(text).split())


def status_words(value: str | None) -> str:
    """A status in the language in use, capitalised: ``"in progress"`` -> ``"In
    progress"`` (``"En curso"``); a status a deployment added, as stored."""
    text = str(value or "")
    word = _(text) if text in _STATUSES else text
    return word[:1].upper() + word[1:]


def category_words(name: str) -> str:
    """A category's name in the language in use (a shipped category's name is in the
    catalogue; one a deployment wrote reads as written)."""
    return _(name) if name else _("Concern")


def local(t: datetime, tz: str) -> str:
    """``t`` in the time zone ``tz``, written the language's way (``"Dec 1, 2026, 8:57
    PM"``, ``"1 dic 2026, 20:57"``)."""
    return i18n.when(t, tz=tz)


def _clip(text: str, n: int = 280) -> str:
    text = one_line(text)
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _footer(unsubscribe_url: str, why: str) -> list[str]:
    return ["", "-- ", why,
            _("Stop these messages (one click): {url}").format(url=unsubscribe_url)]


def confirmation(summary: FollowSummary, *, confirm_url: str, unsubscribe_url: str,
                 valid_days: int) -> Draft:
    """The message asking an address to confirm a follow (double opt-in)."""
    if summary.kind is Kind.REPORT:
        text = _("Someone, we hope you, asked {site} to e-mail this address about {what}, "
                 "each time its status changes.")
    else:
        text = _("Someone, we hope you, asked {site} to e-mail this address about {what}, "
                 "{how}, with its new reports and changes.")
    body = [
        _("Hello,"),
        "",
        text.format(site=SITE, what=summary.label, how=frequency_words(summary.frequency)),
        "",
        ngettext("To start, confirm here (the link works for {n} day):",
                 "To start, confirm here (the link works for {n} days):",
                 valid_days).format(n=i18n.number(valid_days)),
        confirm_url,
        "",
        _("If it was not you, ignore this message: nothing more will be sent."),
        *_footer(unsubscribe_url, _("You get this because this address was given to follow "
                                    "{what}.").format(what=summary.label)),
    ]
    subject = _("Please confirm: follow {what}").format(what=summary.label)
    return Draft(one_line(subject), "\n".join(body) + "\n")


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
    category = category_words(news.category)
    head = (_("The report assigned to you has a new status: {status}.") if assigned
            else _("The report you follow has a new status: {status}."))
    now = (_("Status: {status} (was {previous})").format(
        status=status, previous=status_words(previous)) if previous
        else _("Status: {status}").format(status=status))
    body = [
        head.format(status=status),
        "",
        _("Report: {id} ({category})").format(id=news.request_id, category=category),
        now,
        _("When: {when} ({zone})").format(when=local(news.at, tz), zone=tz),
    ]
    if news.note:
        body += ["", _("What was done, and why:"), news.note.strip()]
    elif news.sensitive:
        body += ["", _("Notes on this kind of report are seen by staff only, to protect the "
                       "people involved.")]
    else:
        body += ["", _("No public note was given with this change.")]
    if answer_links is not None:
        body += ["", _("Is it fixed? If you pass by, please tell us. Each link opens a page; "
                       "nothing is recorded until you press its button."),
                 _("Yes, it is fixed: {url}").format(url=answer_links.yes_url),
                 _("No, it is not fixed: {url}").format(url=answer_links.no_url),
                 ngettext("A \"no\" reopens the report. These links work for {n} day.",
                          "A \"no\" reopens the report. These links work for {n} days.",
                          answer_links.valid_days).format(
                              n=i18n.number(answer_links.valid_days))]
    why = (_("You get this because report {id} is assigned to you and you follow what is "
             "assigned to you.") if assigned
           else _("You get this because you follow report {id}.")).format(id=news.request_id)
    body += ["", _("See the report and its history: {url}").format(url=news.link),
             *_footer(unsubscribe_url, why)]
    subject = _("{category} {id}: now {status}").format(category=category,
                                                        id=news.request_id, status=status)
    return Draft(one_line(subject), "\n".join(body) + "\n")


def assigned_to_you(news: News, *, unsubscribe_url: str, tz: str) -> Draft:
    """A staff member's message that a report was assigned to them."""
    category = category_words(news.category)
    body = [
        _("A report was assigned to you: {id} ({category}).").format(
            id=news.request_id, category=category),
        "",
        _("Status: {status}").format(status=status_words(news.status)),
        _("When: {when} ({zone})").format(when=local(news.at, tz), zone=tz),
        "",
        _("You will get a message each time its status changes."),
        "",
        _("See the report and its history: {url}").format(url=news.link),
        *_footer(unsubscribe_url, _("You get this because you follow the reports assigned "
                                    "to you.")),
    ]
    subject = _("Assigned to you: {category} {id}").format(category=category,
                                                           id=news.request_id)
    return Draft(one_line(subject), "\n".join(body) + "\n")


def _item(news: News, tz: str) -> list[str]:
    when = local(news.at, tz)
    category = category_words(news.category)
    what = (_("{category} ({id}), shown only as an approximate area") if news.sensitive
            else _("{category} ({id})")).format(category=category, id=news.request_id)
    if news.kind == "created":
        line = ["- " + _("{when} · New: {what}").format(when=when, what=what)]
        if news.description:
            line.append(f"  {_clip(news.description)}")
    else:
        text = (_("{when} · Reopened {status}: {what}") if news.kind == "reopened"
                else _("{when} · Now {status}: {what}"))
        line = ["- " + text.format(when=when, status=status_words(news.status), what=what)]
        if news.note:
            line.append(f"  {_clip(news.note)}")
    return [*line, f"  {news.link}"]


def digest(summary: FollowSummary, items: Sequence[News], *, since: datetime,
           until: datetime, tz: str, feed_url: str, unsubscribe_url: str) -> Draft:
    """An area follower's digest of what happened between ``since`` and ``until``."""
    news = sorted(items, key=lambda n: (n.at, n.event_id))
    new = sum(n.kind == "created" for n in news)
    changed = len(news) - new
    reports = ngettext("{n} new report", "{n} new reports", new).format(n=i18n.number(new))
    changes = ngettext("{n} change", "{n} changes", changed).format(n=i18n.number(changed))
    body = [_("What happened in {area} from {since} to {until} ({zone}): {reports}, "
              "{changes}.").format(area=summary.label, since=local(since, tz),
                                   until=local(until, tz), zone=tz, reports=reports,
                                   changes=changes), ""]
    for n in news[:MAX_DIGEST_ITEMS]:
        body += _item(n, tz)
    if len(news) > MAX_DIGEST_ITEMS:
        more = len(news) - MAX_DIGEST_ITEMS
        body += ["", ngettext("... and {n} more: see the feed.",
                              "... and {n} more: see the feed.", more).format(
                                  n=i18n.number(more))]
    body += ["", _("The same news as a feed (Atom) for a feed reader: {url}").format(
                 url=feed_url),
             *_footer(unsubscribe_url, _("You get this because you follow {what} "
                                         "({how}).").format(
                 what=summary.label, how=frequency_words(summary.frequency)))]
    subject = (_("Weekly news of {what}: {new} new, {changed} changed")
               if summary.frequency.value == "weekly"
               else _("Daily news of {what}: {new} new, {changed} changed")).format(
        what=summary.label, new=i18n.number(new), changed=i18n.number(changed))
    return Draft(one_line(subject), "\n".join(body) + "\n")
