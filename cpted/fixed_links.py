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
from cpted.feeds import form, page
from layers.errors import CptedError, UnusableInputError

#: The largest form body read: a comment at its limit, every character percent-encoded
#: four-byte UTF-8, and the rest of the form.
MAX_FORM_BYTES = fx.MAX_COMMENT_CHARS * 12 + 1024
TITLE = fx.QUESTION
Call = Callable[[Request, Callable[[Any], Any]], Awaitable[Any]]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _words(status: str) -> str:
    return html.escape(str(status or "").capitalize())


def _when(t: datetime | None, zone: str) -> str:
    return "" if t is None else f" on {t.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M}"


def _report(q: fx.Question) -> str:
    return f"report {html.escape(q.request_id)} ({html.escape(q.category)})"


def _Report(q: fx.Question) -> str:  # noqa: N802 (the same words, starting a sentence)
    return "R" + _report(q)[1:]


def _see(q: fx.Question) -> str:
    return f'<a href="{html.escape(q.link)}">See the report and its history</a>'


def _yes_form(request: Request) -> str:
    return form(request, "Yes, it is fixed", fields={"answer": fx.Answer.YES.value})


def _no_form(request: Request, q: fx.Question) -> str:
    who = ("Your comment is seen by staff only, to protect the people involved."
           if q.sensitive else
           "Your comment is shown publicly with the report: leave out names and phone "
           "numbers (e-mail addresses are removed).")
    box = (f'<p><label for="comment">What is still wrong? (optional, plain text, at most '
           f"{fx.MAX_COMMENT_CHARS} characters)</label><br>"
           f'<textarea id="comment" name="comment" rows="4" '
           f'maxlength="{fx.MAX_COMMENT_CHARS}"></textarea><br>'
           f"<small>{html.escape(who)}</small></p>")
    return form(request, "No, it is not fixed", fields={"answer": fx.Answer.NO.value},
                before=box) + "<p><small>A “no” reopens the report.</small></p>"


def _stale(q: fx.Question) -> str:
    return (f"{_Report(q)} has changed since you were asked: it is now "
            f"“{_words(q.status)}”. There is nothing to answer here; you will hear of its "
            "next change as usual.")


def _question_page(request: Request, q: fx.Question, zone: str, back: str) -> Response:
    if not q.current and q.answer is None:
        return page(TITLE, _stale(q), _see(q), back)
    if q.answer is not None:
        parts = [f"You answered “{q.answer.value}” about {_report(q)}"
                 f"{_when(q.answered_at, zone)}. Thank you."]
        if fx.Answer.NO in q.open_answers:
            parts += ["Not fixed after all?", _no_form(request, q)]
        elif not q.current:
            parts.append(f"It is now “{_words(q.status)}”.")
        return page(TITLE, *parts, _see(q), back)
    forms = [_yes_form(request), _no_form(request, q)]
    if request.query_params.get("answer") == fx.Answer.NO.value:
        forms.reverse()
    return page(TITLE, f"{_Report(q)} was marked fixed. Is it fixed?",
                *forms, "Nothing is recorded until you press a button.", _see(q), back)


def _result_page(r: fx.Result, zone: str, back: str) -> Response:
    q = r.question
    if r.outcome is fx.Outcome.STALE:
        return page(TITLE, _stale(q), _see(q), back)
    if r.outcome is fx.Outcome.ALREADY:
        parts = [f"Your answer about {_report(q)} was already recorded: "
                 f"“{html.escape(str(r.answer))}”{_when(q.answered_at, zone)}."]
        if not q.current:
            parts.append(f"The report has changed since: it is now “{_words(q.status)}”.")
        return page(TITLE, *parts, _see(q), back)
    if r.reopened:
        return page("Reopened", f"Thank you. {_Report(q)} was reopened: it is "
                                f"now “{_words(q.status)}”, back with the staff, and its "
                                "followers are told.", _see(q), back)
    return page("Thank you", f"Your answer “yes, it is fixed” about {_report(q)} is "
                             "recorded. The report stays closed.", _see(q), back)


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
                return page(TITLE, '<p class="error">The form is too long: a comment holds '
                                   f"at most {fx.MAX_COMMENT_CHARS} characters. Nothing was "
                                   "recorded.</p>", back(), status_code=413)
            result, zone = await call(request, lambda d: (
                d.answer_fixed(token, fields.get("answer", ""), fields.get("comment")),
                d.timezone()))
        except UnusableInputError as exc:
            if not exc.problems:
                return refused(exc, TITLE)
            said = "".join(f"<li>{html.escape(_sentence(p))}.</li>" for p in exc.problems)
            return page(TITLE, f'<p class="error">{html.escape(_sentence(exc.args[0]))}:</p>'
                               f"<ul>{said}</ul>", back(), status_code=400)
        except CptedError as exc:
            return refused(exc, TITLE)
        return _result_page(result, zone, back())

    return endpoint
