"""The permission table: each protected action and the roles allowed it.

Every write and every restricted read of :class:`cpted.access.Access` checks this table
first, so a page that forgot to hide a button still cannot act past its role. The
README's permission table is generated from :data:`PERMISSIONS` (a test compares them).
"""

from __future__ import annotations

from enum import StrEnum

from cpted.accounts import Actor
from cpted.privacy import Role
from layers.errors import CptedError


class Action(StrEnum):
    REPORT = "report a concern"
    SUPPORT = "support a concern (me too)"
    FOLLOW = "follow a report or an area by e-mail"
    ANSWER_FIXED = "answer whether a followed report is fixed"
    CREATE_AUDIT = "record a CPTED audit"
    ANSWER_SURVEY = "answer the perception survey"
    EDIT_ANY_AUDIT = "edit or delete anyone's CPTED audit"
    SEE_EXACT_SENSITIVE = "see exact locations of sensitive categories"
    SEE_INTERNAL_NOTES = "see internal notes"
    SEE_CONTACT = "see reporter contact"
    CHANGE_STATUS = "change statuses"
    ASSIGN = "assign reports to staff"
    FOLLOW_ASSIGNED = "follow the reports assigned to oneself"
    MERGE = "merge duplicate reports"
    DELETE = "delete reports"
    MANAGE_SPOTS = "gather problem spots and make action plans"
    LOG_VISITS = "log and see patrol visits"
    EDIT_CATEGORIES = "edit categories"
    EDIT_INSTRUMENT = "edit the CPTED instrument"
    MANAGE_ACCOUNTS = "manage accounts and roles"
    MANAGE_API_KEYS = "make and revoke Open311 API keys"
    SEE_AUDIT = "see the change log (audit trail)"
    IMPORT = "import data"
    SAVE_PROFILE = "save import profiles for everyone to use"
    LOAD_SAMPLE = "load the sample district"
    SEND_MESSAGES = "build digests and send follow messages"


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
    allowed = ", ".join(r.value for r in Role if r in PERMISSIONS[action])
    who = "the public" if actor.role is Role.PUBLIC else f"a {actor.role.value}"
    return PermissionDeniedError(f"{who} may not {action.value}; that needs one of: {allowed}")


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
