"""The permission table: each protected action and the roles allowed it.

Every write and every restricted read of :class:`cpted.access.Access` checks this table
first, so a page that forgot to hide a button still cannot act past its role. The
README's permission table is generated from :data:`PERMISSIONS` (a test compares them).
"""

from __future__ import annotations

from enum import StrEnum

from cpted.accounts import Actor
from cpted.i18n import N_, _
from cpted.privacy import Role
from layers.errors import CptedError


class Action(StrEnum):
    """Each protected action; its value is English (the README's table), translated where
    a refusal names it."""

    REPORT = N_("report a concern")
    SUPPORT = N_("support a concern (me too)")
    FOLLOW = N_("follow a report or an area by e-mail")
    ANSWER_FIXED = N_("answer whether a followed report is fixed")
    CREATE_AUDIT = N_("record a CPTED audit")
    ANSWER_SURVEY = N_("answer the perception survey")
    EDIT_ANY_AUDIT = N_("edit or delete anyone's CPTED audit")
    SEE_EXACT_SENSITIVE = N_("see exact locations of sensitive categories")
    SEE_INTERNAL_NOTES = N_("see internal notes")
    SEE_CONTACT = N_("see reporter contact")
    CHANGE_STATUS = N_("change statuses")
    ASSIGN = N_("assign reports to staff")
    FOLLOW_ASSIGNED = N_("follow the reports assigned to oneself")
    MERGE = N_("merge duplicate reports")
    DELETE = N_("delete reports")
    MANAGE_SPOTS = N_("gather problem spots and make action plans")
    LOG_VISITS = N_("log and see patrol visits")
    EDIT_CATEGORIES = N_("edit categories")
    EDIT_INSTRUMENT = N_("edit the CPTED instrument")
    MANAGE_ACCOUNTS = N_("manage accounts and roles")
    MANAGE_API_KEYS = N_("make and revoke Open311 API keys")
    SEE_AUDIT = N_("see the change log (audit trail)")
    IMPORT = N_("import data")
    SAVE_PROFILE = N_("save import profiles for everyone to use")
    LOAD_SAMPLE = N_("load the sample district")
    SEND_MESSAGES = N_("build digests and send follow messages")


EVERYONE = frozenset(Role)
STAFF = frozenset({Role.COORDINATOR, Role.OFFICER, Role.PLANNER, Role.ADMIN})

#: The permission table. An audit's own author (account, or browser for the public) may
#: also edit or delete it: that rule is in :meth:`cpted.access.Access.update_audit`.
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.REPORT: EVERYONE,
    Action.SUPPORT: EVERYONE,
    Action.FOLLOW: EVERYONE,
    Action.ANSWER_FIXED: EVERYONE,
    Action.CREATE_AUDIT: EVERYONE,
    Action.ANSWER_SURVEY: EVERYONE,
    Action.EDIT_ANY_AUDIT: frozenset({Role.COORDINATOR, Role.PLANNER, Role.ADMIN}),
    Action.SEE_EXACT_SENSITIVE: STAFF,
    Action.SEE_INTERNAL_NOTES: STAFF,
    Action.SEE_CONTACT: frozenset({Role.COORDINATOR, Role.OFFICER, Role.ADMIN}),
    Action.CHANGE_STATUS: STAFF,
    Action.ASSIGN: STAFF,
    Action.FOLLOW_ASSIGNED: STAFF,
    Action.MERGE: frozenset({Role.COORDINATOR, Role.ADMIN}),
    Action.DELETE: frozenset({Role.COORDINATOR, Role.ADMIN}),
    Action.MANAGE_SPOTS: STAFF,
    Action.LOG_VISITS: STAFF,
    Action.EDIT_CATEGORIES: frozenset({Role.COORDINATOR, Role.ADMIN}),
    Action.EDIT_INSTRUMENT: frozenset({Role.PLANNER, Role.ADMIN}),
    Action.MANAGE_ACCOUNTS: frozenset({Role.ADMIN}),
    Action.MANAGE_API_KEYS: frozenset({Role.ADMIN}),
    Action.SEE_AUDIT: frozenset({Role.COORDINATOR, Role.ADMIN}),
    Action.IMPORT: frozenset({Role.COORDINATOR, Role.PLANNER, Role.ADMIN}),
    Action.SAVE_PROFILE: frozenset({Role.COORDINATOR, Role.ADMIN}),
    Action.LOAD_SAMPLE: frozenset({Role.COORDINATOR, Role.ADMIN}),
    Action.SEND_MESSAGES: frozenset({Role.ADMIN}),
}


class PermissionDeniedError(CptedError):
    """The actor's role may not do this; the message says which roles may."""


class RateLimitError(CptedError):
    """Too many writes from one client, or from the public as a whole, in the last minute.

    ``retry_after_s`` is how many seconds until the oldest counted write leaves the window
    (what an HTTP ``Retry-After`` says).
    """

    def __init__(self, message: str, retry_after_s: int = 60) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def can(role: Role | str, action: Action) -> bool:
    """Whether ``role`` may do ``action`` by the table (an audit's author aside)."""
    return Role(role) in PERMISSIONS[action]


def refuse(actor: Actor, action: Action) -> PermissionDeniedError:
    allowed = ", ".join(_(r.value) for r in Role if r in PERMISSIONS[action])
    said = (_("the public may not {action}; that needs one of: {roles}")
            if actor.role is Role.PUBLIC else
            _("a {role} may not {action}; that needs one of: {roles}"))
    return PermissionDeniedError(said.format(role=_(actor.role.value), action=_(action.value),
                                             roles=allowed))


def require(actor: Actor, action: Action) -> None:
    """Raise :class:`PermissionDeniedError` unless ``actor`` may do ``action``."""
    if not can(actor.role, action):
        raise refuse(actor, action)


def permission_table_markdown() -> str:
    """The permission table as the README shows it (one row an action, one column a role)."""
    roles = list(Role)
    head = "| action | " + " | ".join(r.value for r in roles) + " |"
    rule = "|---|" + "---|" * len(roles)
    rows = ["| " + a.value + " | " + " | ".join("yes" if r in PERMISSIONS[a] else ""
                                              for r in roles) + " |" for a in Action]
    return "\n".join([head, rule, *rows])
