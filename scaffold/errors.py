"""The exceptions a user sees. The CLI turns each into one line on stderr and its exit code."""

from __future__ import annotations


class LibnixError(Exception):
    """Base: the message is shown as is, on one line, with no traceback."""

    exit_code = 1


class UserError(LibnixError):
    """The user's input or the state of the repository is wrong (exit 1)."""

    exit_code = 1


class HashMismatch(UserError):
    """A computed hash differs from the expected one (exit 1)."""


class ExternalError(LibnixError):
    """An external tool or the network failed (exit 3)."""

    exit_code = 3


class NetworkError(ExternalError):
    """A download or API call failed for reasons outside the user's input (exit 3)."""


def one_line(message: str) -> str:
    """A message as one printable line: a file or member name may hold a newline or a control
    character, which is shown escaped (\\n, \\x1b) instead of breaking the line or the terminal."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in message)
