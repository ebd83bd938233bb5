"""The one door: every read and write of records by pages, the CLI and the Open311 API.

:class:`Access` is the store as one :class:`~cpted.accounts.Actor` may use it. Each
write checks the permission table (:data:`PERMISSIONS`), validates, counts against the
actor's and the public's rate limits and writes its change-log entry, all in the
write's own transaction. Each read returns what the actor may see: privacy is decided
here, once (sensitive categories blurred and without text or photos for roles without
exact access, internal notes for staff only, contact for the roles that may see it),
and never again in a page.
"""

from __future__ import annotations

from cpted.access.admin import AdminDoor, store_error_message
from cpted.access.answers import AnswerCounts, AnswersDoor
from cpted.access.assigned import AssignDoor
from cpted.access.concerns import PUBLIC_DUPLICATE_COLUMNS
from cpted.access.permissions import (
    PERMISSIONS,
    Action,
    PermissionDeniedError,
    RateLimitError,
    can,
    permission_table_markdown,
    require,
)
from cpted.access.progress import ProgressDoor
from layers.errors import StoreError


class Access(AdminDoor, ProgressDoor, AnswersDoor, AssignDoor):
    """The store as one actor may use it. Every method checks :data:`PERMISSIONS`."""


__all__ = ["PERMISSIONS", "PUBLIC_DUPLICATE_COLUMNS", "Access", "Action", "AnswerCounts",
           "PermissionDeniedError", "RateLimitError", "StoreError", "can",
           "permission_table_markdown", "require", "store_error_message"]
