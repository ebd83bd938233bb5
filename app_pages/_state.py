"""Shared page state: the store (one per URL, kept across reruns) and cached layer reads."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import streamlit as st

from app_pages._text import md, value_word
from cpted.i18n import N_, _
from layers.schema import Layer
from layers.settings import Settings, load_settings
from layers.store import Store, open_store

#: The roles, as words on a page (the role picker, "signed in as").
ROLE_WORDS = {"public": N_("public"), "resident": N_("resident"),
              "coordinator": N_("coordinator"), "officer": N_("officer"),
              "planner": N_("planner"), "admin": N_("admin")}


def role_word(value: str) -> str:
    """A role's name in the language in use (a role not listed as it is)."""
    return _(ROLE_WORDS[value]) if value in ROLE_WORDS else value


@st.cache_resource
def settings() -> Settings:
    return load_settings()


@st.cache_resource
def store_for(url: str) -> Store:
    from layers.errors import StoreError
    from layers.redact import hide_credentials

    try:
        return open_store(url)
    except Exception as exc:  # the page shows the message: never with the password in it
        text = hide_credentials(str(exc))
        if text == str(exc):
            raise
        raise StoreError(text) from None


def store() -> Store:
    return store_for(settings().db_url)


Where = tuple[tuple[str, tuple[Any, ...]], ...]


@st.cache_data(show_spinner=False, max_entries=64)
def read_layer(url: str, revision: int, role: str, layer: str, where: Where = (),
               time: tuple[str, Any, Any] | None = None,
               columns: tuple[str, ...] | None = None, newest: str | None = None,
               limit: int | None = None) -> gpd.GeoDataFrame:
    """A layer as ``role`` may see it, read through the access layer; cached on the
    store's revision (so any write refreshes it) and on the role (privacy depends on
    nothing else)."""
    return door_for(url, role).layer(Layer(layer), where=dict(where), time=time,
                                     columns=None if columns is None else list(columns),
                                     newest=newest, limit=limit)


@st.cache_data(show_spinner=False, max_entries=16)
def read_concern_points(url: str, revision: int, role: str, where: Where = (),
                        time: tuple[str, Any, Any] | None = None) -> Any:
    """Where the concerns are as ``role`` may see them, as coordinate arrays
    (:meth:`cpted.access.Access.concern_points`): 16 bytes a concern, not a
    GeoDataFrame."""
    return door_for(url, role).concern_points(where=dict(where), time=time)


@st.cache_data(show_spinner=False, max_entries=64)
def count_concerns(url: str, revision: int, where: Where = (),
                   time: tuple[str, Any, Any] | None = None,
                   among: tuple[tuple[str, Where], ...] = ()) -> tuple[int, dict[str, int]]:
    """:meth:`cpted.access.Access.concern_counts`, the same for every role."""
    return door_for(url, "public").concern_counts(
        where=dict(where), time=time, among={name: dict(sub) for name, sub in among})


def _where(where: Any) -> Where:
    """A filter as a cache key: ``{column: values}`` in a fixed order."""
    return tuple(sorted((k, tuple(v)) for k, v in (where or {}).items()))


def door_for(url: str, role: str) -> Any:
    """The access layer as anyone in ``role`` sees the store at ``url``: for reads cached
    across people, which may depend on the role alone (never for writes, which need
    whoever is acting: see :func:`access`)."""
    from cpted import accounts
    from cpted.access import Access
    from cpted.privacy import Role

    return Access(store_for(url), accounts.Actor(None, role, Role(role)), settings())


def layer(name: Layer, **filters: Any) -> gpd.GeoDataFrame:
    """A layer as whoever is acting may see it (concerns with the privacy rules applied).
    ``filters``: ``where``, ``time``, ``columns``, ``newest`` and ``limit`` of
    :meth:`cpted.access.Access.layer`."""
    s = store()
    columns = filters.get("columns")
    return read_layer(s.url, s.revision(), actor().role.value, name.value,
                      _where(filters.get("where")), filters.get("time"),
                      None if columns is None else tuple(columns), filters.get("newest"),
                      filters.get("limit"))


def concern_points(*, where: Any = None, time: tuple[str, Any, Any] | None = None) -> Any:
    """Where the concerns matching the filters are, as whoever is acting may see them
    (a :class:`layers.points.Points`; see :func:`read_concern_points`)."""
    s = store()
    return read_concern_points(s.url, s.revision(), actor().role.value, _where(where), time)


def concern_counts(*, where: Any = None, time: tuple[str, Any, Any] | None = None,
                   among: Any = None) -> tuple[int, dict[str, int]]:
    """How many concerns match the filters, and how many of those each ``among`` entry
    (``{name: {column: values}}``), counted in the database."""
    s = store()
    return count_concerns(s.url, s.revision(), _where(where), time,
                          tuple((name, _where(sub)) for name, sub in (among or {}).items()))


@st.cache_data(show_spinner=False, max_entries=8)
def _concern_span(url: str, revision: int) -> tuple[list[Any], Any]:
    """The category codes stored and the span of report dates, read once per revision."""
    s = store_for(url)
    return (s.distinct(Layer.CONCERNS, "service_code"),
            s.time_range(Layer.CONCERNS, "requested_datetime"))


def category_names() -> dict[str, str]:
    """service_code -> the category's name, from the categories table."""
    return {code: service.service_name for code, service in services().items()}


def refusal(exc: BaseException) -> None:
    """Show why something was refused: the message, then each problem as a bullet."""
    problems = getattr(exc, "problems", None)
    st.error(md(sentence(str(exc).split("\n")[0] if problems else str(exc))))
    for p in problems or ():
        st.markdown(f"- {md(sentence(p))}")


def sentence(text: str) -> str:
    """``text`` as a sentence on a page: its first letter upper case (messages from the
    domain start lower case so that they read inside longer ones)."""
    return text[:1].upper() + text[1:]


def oidc_configured() -> bool:
    """Whether the deployment signs people in through OpenID Connect (an ``[auth]``
    section in Streamlit's secrets)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def language_box() -> str:
    """The language picker at the top of the sidebar, drawn once per run by app.py; the
    language starts as the browser's (``Accept-Language``) and is remembered for the
    session. Sets it for the run (:func:`cpted.i18n.set_language`) and returns its code."""
    from cpted import i18n

    codes = i18n.available()
    if "language" not in st.session_state:
        st.session_state["language"] = i18n.negotiate(st.context.headers.get("Accept-Language"))
    if st.session_state["language"] not in codes:
        st.session_state["language"] = i18n.SOURCE
    # in every language at once, so anyone can find it
    label = " · ".join(dict.fromkeys(
        i18n.translations(c).gettext("Language") for c in codes))
    code = st.sidebar.selectbox(label, codes, key="language", format_func=i18n.language_name)
    i18n.set_language(code)
    # the page was served declaring the browser's language (cpted.server.PageLanguage);
    # one chosen here instead is declared on it for screen readers (WCAG 2.1, 3.1.1)
    if code != i18n.negotiate(st.context.headers.get("Accept-Language")):
        with st.sidebar:
            _page_language(data={"lang": code}, key="page-language")
    return code


#: Sets the page's ``<html lang>`` to the language in use (one of the catalogues' codes).
_page_language = st.components.v2.component(
    "cpted_page_language",
    js="export default function({ data }) { document.documentElement.lang = data.lang; }")


def account_box() -> None:
    """Sign-in in the sidebar, drawn once per run by app.py.

    Three ways, in order: the demo's role picker (``CPTED_STAFF_MODE``, one user, no
    accounts); the identity provider (``st.login``) when configured; else the local
    accounts' user name and password form.
    """
    from cpted import accounts
    from cpted.privacy import Role

    side = st.sidebar
    if settings().staff_mode:
        choices = [r.value for r in Role]
        side.selectbox(
            _("Acting as"), choices, index=choices.index(Role.COORDINATOR.value),
            key="acting_as", format_func=role_word,
            help=_("Demo mode (CPTED_STAFF_MODE): no sign-in; pick the role to act as. A "
                   "shared deployment leaves this off and uses accounts."))
        return
    if oidc_configured():
        if st.user.is_logged_in:
            me = actor()
            side.caption(_("Signed in as **{name}** ({role})").format(
                name=md(me.name), role=role_word(me.role.value)))
            side.button(_("Sign out"), on_click=st.logout)
        else:
            side.button(_("Sign in"), on_click=st.login, type="primary")
        return
    me = actor()
    if me.username:
        side.caption(_("Signed in as **{name}** ({role})").format(
            name=md(me.name), role=role_word(me.role.value)))
        if side.button(_("Sign out")):
            st.session_state.pop("account", None)
            st.rerun()
        return
    with side.expander(_("Sign in"), expanded=False), st.form("sign-in", border=False):
        user = st.text_input(_("User name"), autocomplete="username")
        password = st.text_input(_("Password"), type="password",
                                 autocomplete="current-password")
        if st.form_submit_button(_("Sign in")):
            try:
                got = accounts.authenticate(store(), user, password, client=client_key(),
                                            max_failures=settings().max_failed_sign_ins)
            except accounts.SignInError as exc:
                st.error(md(exc))
            else:
                st.session_state["account"] = got.username
                st.rerun()


def client_key() -> str:
    """This browser session's key, telling members of the public apart (rate limits,
    sign-in throttling). Not the IP address, which Streamlit calls spoofable and which
    behind a proxy would be everyone's."""
    import uuid

    return str(st.session_state.setdefault("client_id", uuid.uuid4().hex))


def client_address() -> str:
    """The client's network address, for the public's rate limit (see
    :func:`cpted.clients.client_address` and the ``trusted_proxies`` setting)."""
    from cpted.clients import client_address as resolve

    try:
        peer = st.context.ip_address
        forwarded = st.context.headers.get("X-Forwarded-For")
    except Exception:  # no request context (a script run, a test harness)
        return ""
    return resolve(peer, forwarded, settings().trusted_proxies)


def actor() -> Any:
    """Who the pages act for (a :class:`cpted.accounts.Actor`). A signed-in account's
    role is read afresh on every run, so a role change or a disabled account takes
    effect at once."""
    from cpted import accounts
    from cpted.privacy import Role

    client = client_key()
    if settings().staff_mode:
        role = Role(st.session_state.get("acting_as", Role.COORDINATOR.value))
        return accounts.Actor(f"demo-{role.value}", f"{role.value.capitalize()} (demo)", role)
    if oidc_configured():
        if not st.user.is_logged_in:
            return accounts.public(client, client_address())
        try:
            return accounts.from_identity(store(), st.user.get("email"), st.user.get("name"))
        except accounts.SignInError as exc:
            st.sidebar.error(md(exc))
            return accounts.public(client, client_address())
    username = st.session_state.get("account")
    if username:
        me = accounts.current(store(), username)
        if me is not None:
            return me
        st.session_state.pop("account", None)
    return accounts.public(client, client_address())


def role() -> Any:
    """The role the pages act for (see :func:`actor`)."""
    return actor().role


def access() -> Any:
    """The domain API for whoever is acting (:class:`cpted.access.Access`)."""
    from cpted.access import Access

    return Access(store(), actor(), settings())


def tz() -> str:
    return store().get_setting("timezone") or settings().timezone


@st.cache_data(show_spinner=False)
def service_list(url: str, revision: int) -> dict[str, Any]:
    return door_for(url, "public").services()


def services() -> dict[str, Any]:
    s = store()
    return service_list(s.url, s.revision())


def concern_filters() -> tuple[dict[str, list[Any]], tuple[str, Any, Any]]:
    """Sidebar widgets for category, status, time of day and dates.

    Returns ``(where, time)`` for :meth:`layers.store.Store.read`.
    """
    from datetime import timedelta

    import pandas as pd

    from layers.schema import ConcernStatus, TimeOfDay

    s = store()
    zone = tz()
    codes, span = _concern_span(s.url, s.revision())
    names = category_names()
    chosen = st.multiselect(_("Category"), codes, default=codes,
                            format_func=lambda c: _(names.get(c) or str(c)),
                            help=_("Open311 service code of the concern"))
    status = st.multiselect(_("Status"), [x.value for x in ConcernStatus],
                            default=[x.value for x in ConcernStatus], format_func=value_word)
    tod = st.multiselect(_("Time of day"), [x.value for x in TimeOfDay],
                         default=[x.value for x in TimeOfDay], format_func=value_word)
    start = end = None
    if span is not None:
        lo, hi = span[0].tz_convert(zone).date(), span[1].tz_convert(zone).date()
        # TRANSLATORS: the order of year, month and day in a date picker (YYYY, MM, DD).
        picked = st.date_input(_("Reported between"), value=(lo, hi), min_value=lo,
                               max_value=hi, format=_("YYYY-MM-DD"))
        if isinstance(picked, tuple) and len(picked) == 2:
            start = pd.Timestamp(picked[0], tz=zone)
            end = pd.Timestamp(picked[1], tz=zone) + timedelta(days=1)
    where = {"service_code": chosen, "status": status, "time_of_day": tod}
    return where, ("requested_datetime", start, end)


@st.cache_resource
def _configured_instrument() -> Any:
    from cpted.instrument import load_instrument

    return load_instrument(settings().instrument_path or None)


def instrument() -> Any:
    """The audit instrument new audits use: the one a planner chose in the app
    (:func:`cpted.assessments.use_instrument`), else ``CPTED_INSTRUMENT_PATH``, else the
    bundled one."""
    return access().current_instrument() or _configured_instrument()
