"""The page of the "Is it fixed?" links in a message about a fix (:mod:`cpted.fixed`).

``GET /follow/fixed?token=...&answer=yes|no`` shows the question with a button for each
answer (the one the link named first; "no" with a short comment box) and changes
nothing, so a mail scanner opening every link answers nothing. ``POST`` (a button) sends
``answer`` and ``comment`` form-encoded and records the answer through
:meth:`cpted.access.Access.answer_fixed`. A link whose report changed since it was sent
answers with a plain page saying so, not an error.

:func:`cpted.feeds.feed_routes` mounts it beside the other follow links.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response

from cpted import fixed as fx
from cpted import i18n
from cpted.feeds import form, page
from cpted.i18n import _
from cpted.messages import status_words
from layers.errors import CptedError, UnusableInputError

#: The largest form body read: a comment at its limit, every character percent-encoded
#: four-byte UTF-8, and the rest of the form.
MAX_FORM_BYTES = fx.MAX_COMMENT_CHARS * 12 + 1024
Call = Callable[[Request, Callable[[Any], Any]], Awaitable[Any]]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _title() -> str:
    return _(fx.QUESTION)


def _words(status: str) -> str:
    """A status as the page names it: a shipped one in the language in use."""
    return html.escape(status_words(status))


#: An answer as the page names it (its stored value is English).
_ANSWER_WORDS = {fx.Answer.YES.value: i18n.N_("yes"), fx.Answer.NO.value: i18n.N_("no")}


def _answer(value: object) -> str:
    word = str(getattr(value, "value", value))
    return html.escape(_(_ANSWER_WORDS[word]) if word in _ANSWER_WORDS else word)


def _when(t: datetime | None, zone: str) -> str:
    return "" if t is None else " " + _("on {when}").format(
        when=html.escape(i18n.when(t.astimezone(ZoneInfo(zone)))))


def _report(q: fx.Question) -> str:
    return _("report {id} ({category})").format(
        id=html.escape(q.request_id), category=html.escape(_(q.category) if q.category else ""))


def _Report(q: fx.Question) -> str:  # noqa: N802 (the same words, starting a sentence)
    return _sentence(_report(q))


def _see(q: fx.Question) -> str:
    words = _("See the report and its history")
    return f'<a href="{html.escape(q.link)}">{html.escape(words)}</a>'


def _yes_form(request: Request) -> str:
    return form(request, _("Yes, it is fixed"), fields={"answer": fx.Answer.YES.value})


def _no_form(request: Request, q: fx.Question) -> str:
    who = (_("Your comment is seen by staff only, to protect the people involved.")
           if q.sensitive else
           _("Your comment is shown publicly with the report: leave out names and phone "
             "numbers (e-mail addresses are removed)."))
    label = _("What is still wrong? (optional, plain text, at most {n} characters)").format(
        n=i18n.number(fx.MAX_COMMENT_CHARS))
    box = (f'<p><label for="comment">{html.escape(label)}</label><br>'
           f'<textarea id="comment" name="comment" rows="4" '
           f'maxlength="{fx.MAX_COMMENT_CHARS}"></textarea><br>'
           f"<small>{html.escape(who)}</small></p>")
    return form(request, _("No, it is not fixed"), fields={"answer": fx.Answer.NO.value},
                before=box) + "<p><small>{}</small></p>".format(
                    html.escape(_("A “no” reopens the report.")))


def _stale(q: fx.Question) -> str:
    return html.escape(_("{report} has changed since you were asked: it is now “{status}”. "
                         "There is nothing to answer here; you will hear of its next change "
                         "as usual.")).format(report=_Report(q), status=_words(q.status))


def _question_page(request: Request, q: fx.Question, zone: str, back: str) -> Response:
    if not q.current and q.answer is None:
        return page(_title(), _stale(q), _see(q), back)
    if q.answer is not None:
        parts = [html.escape(_("You answered “{answer}” about {report}{when}. Thank you."))
                 .format(answer=_answer(q.answer), report=_report(q),
                         when=_when(q.answered_at, zone))]
        if fx.Answer.NO in q.open_answers:
            parts += [html.escape(_("Not fixed after all?")), _no_form(request, q)]
        elif not q.current:
            parts.append(html.escape(_("It is now “{status}”.")).format(status=_words(q.status)))
        return page(_title(), *parts, _see(q), back)
    forms = [_yes_form(request), _no_form(request, q)]
    if request.query_params.get("answer") == fx.Answer.NO.value:
        forms.reverse()
    return page(_title(), html.escape(_("{report} was marked fixed. Is it fixed?")).format(
                report=_Report(q)),
                *forms, html.escape(_("Nothing is recorded until you press a button.")),
                _see(q), back)


def _result_page(r: fx.Result, zone: str, back: str) -> Response:
    q = r.question
    if r.outcome is fx.Outcome.STALE:
        return page(_title(), _stale(q), _see(q), back)
    if r.outcome is fx.Outcome.ALREADY:
        parts = [html.escape(_("Your answer about {report} was already recorded: "
                               "“{answer}”{when}.")).format(
            report=_report(q), answer=_answer(r.answer), when=_when(q.answered_at, zone))]
        if not q.current:
            parts.append(html.escape(_("The report has changed since: it is now “{status}”."))
                         .format(status=_words(q.status)))
        return page(_title(), *parts, _see(q), back)
    if r.reopened:
        return page(_("Report reopened"), html.escape(_(
            "Thank you. {report} was reopened: it is now “{status}”, back with the staff, "
            "and its followers are told.")).format(report=_Report(q), status=_words(q.status)),
            _see(q), back)
    return page(_("Thank you"), html.escape(_(
        "Your answer “yes, it is fixed” about {report} is recorded. The report stays "
        "closed.")).format(report=_report(q)), _see(q), back)


async def _form_fields(request: Request) -> dict[str, str] | None:
    """The POST's form fields (URL-encoded), or None past :data:`MAX_FORM_BYTES`."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_FORM_BYTES:
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def answer_endpoint(call: Call, back: Callable[[], str],
                    refused: Callable[[BaseException, str], Response]
                    ) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of ``/follow/fixed``, with the helpers of
    :func:`cpted.feeds.feed_routes` (``call`` runs a function of the door as the public)."""

    async def endpoint(request: Request) -> Response:
        token = request.query_params.get("token", "")
        try:
            if request.method == "GET":
                q, zone = await call(request, lambda d: (d.fixed_question(token),
                                                         d.timezone()))
                return _question_page(request, q, zone, back())
            fields = await _form_fields(request)
            if fields is None:
                said = _("The form is too long: a comment holds at most {n} characters. "
                         "Nothing was recorded.").format(n=i18n.number(fx.MAX_COMMENT_CHARS))
                return page(_title(), f'<p class="error">{html.escape(said)}</p>', back(),
                            status_code=413)
            result, zone = await call(request, lambda d: (
                d.answer_fixed(token, fields.get("answer", ""), fields.get("comment")),
                d.timezone()))
        except UnusableInputError as exc:
            if not exc.problems:
                return refused(exc, _title())
            said = "".join(f"<li>{html.escape(_sentence(p))}.</li>" for p in exc.problems)
            return page(_title(), f'<p class="error">{html.escape(_sentence(exc.args[0]))}:</p>'
                               f"<ul>{said}</ul>", back(), status_code=400)
        except CptedError as exc:
            return refused(exc, _title())
        return _result_page(result, zone, back())

    return endpoint
