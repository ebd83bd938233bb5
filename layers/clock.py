"""Timestamps as the store keeps them: UTC, ISO 8601 with milliseconds and a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(t: datetime) -> str:
    """``t`` (timezone-aware) as stored text, ``YYYY-MM-DDTHH:MM:SS.sssZ``."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now_iso() -> str:
    """The current time as stored text (see :func:`iso`)."""
    return iso(datetime.now(UTC))
