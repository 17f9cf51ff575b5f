"""The SHA-256 of a NAR, started without OpenSSL: most NARs libnix hashes are small (a crate, a
tag's tarball), and loading OpenSSL's hashlib costs more than hashing them with Python's own SHA-256.
Past SMALL_NAR bytes it moves to hashlib's, which is faster per byte.
"""

from __future__ import annotations

from collections.abc import Callable

SMALL_NAR = 256 << 10  # up to here Python's own SHA-256 hashes the NAR: no OpenSSL to load


class Digest:
    """SHA-256 of the NAR. Loading OpenSSL (hashlib) costs a tenth of nix-prefetch-url's whole run on a
    small tarball, and Python's own SHA-256 is slower on large inputs: the first SMALL_NAR bytes are
    kept, and past them OpenSSL's hash takes over (a stale bound `update` still forwards to it)."""

    __slots__ = ("_held", "_sha", "_size", "update")

    def __init__(self) -> None:
        self._held: list[bytes] = []
        self._size = 0
        self._sha: object | None = None
        self.update: Callable[[bytes], None] = self._hold

    def _hold(self, data: bytes) -> None:
        if self._sha is not None:
            self._sha.update(data)  # type: ignore[attr-defined]  # hashlib's object: hashlib is imported late
            return
        self._held.append(bytes(data))
        self._size += len(data)
        if self._size > SMALL_NAR:
            import hashlib

            self._sha = sha = hashlib.sha256(b"".join(self._held))
            self._held.clear()
            self.update = sha.update

    def digest(self) -> bytes:
        if self._sha is not None:
            return self._sha.digest()  # type: ignore[attr-defined]  # a hashlib object, typed object: not imported at start
        return _builtin_sha256(b"".join(self._held))


def _builtin_sha256(data: bytes) -> bytes:
    try:
        from _sha2 import sha256  # type: ignore[import-not-found]  # CPython >= 3.12, no stubs
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found]  # CPython 3.11, no stubs
        except ImportError:  # a Python built without its own hashes
            from hashlib import sha256
    return sha256(data).digest()
