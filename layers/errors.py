"""The errors raised by the geodata layer.

One root, :class:`CptedError`, so a caller (the CLI, a page) can catch every
refusal of ours in one place and show its message; specific subclasses say
what kind of input was wrong.
"""

from __future__ import annotations

from collections.abc import Sequence


class CptedError(Exception):
    """Root of every error this project raises on purpose."""


class UnusableInputError(CptedError, ValueError):
    """The input cannot be imported at all; nothing was stored.

    Parameters
    ----------
    message
        One sentence for the user: what was expected and what arrived.
    problems
        Every individual problem found, when there are several (for example
        every duplicated id with its rows), so all can be fixed in one pass.
    """

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems: list[str] = list(problems)

    def __str__(self) -> str:
        base = super().__str__()
        if not self.problems:
            return base
        shown = self.problems[:20]
        more = len(self.problems) - len(shown)
        lines = [base, *("  - " + p for p in shown)]
        if more > 0:
            lines.append(f"  ... and {more} more")
        return "\n".join(lines)


class LayerSchemaError(UnusableInputError):
    """Columns or values do not fit the layer's schema."""


class ProfileError(UnusableInputError):
    """An import profile (TOML) is unreadable or says something we cannot do; the
    problems name each table and key."""


class CRSError(UnusableInputError):
    """Coordinates or their reference system are missing or inconsistent."""


class UnsafeArchiveError(UnusableInputError):
    """A zip archive would escape its folder or unpack past the size limit."""


class DamagedArchiveError(UnusableInputError):
    """A zip archive is truncated, or its headers disagree with the data they describe."""


class ImageTooLargeError(UnusableInputError):
    """An image has more pixels than can be decoded within the memory limit."""


class UploadTooLargeError(UnusableInputError):
    """A file is larger than the configured upload limit."""


class StoreError(CptedError):
    """The store refused an operation (schema version, conflicting ids...)."""


class ConflictError(CptedError):
    """A save refused because someone else changed the record since it was read."""


class UsageError(CptedError, ValueError):
    """The command line was used wrongly (an option's value, a file suffix); the message
    says what was expected and what arrived."""


class SettingsError(CptedError, ValueError):
    """A setting (``CPTED_*`` or a settings object) is out of range or of the wrong type;
    the message names each one."""
