"""Nix's textual forms of a SHA-256 digest: base-32, SRI, base16, and `sha256:` prefixed.

Nix's base-32 is not RFC 4648: its own alphabet (no e, o, u, t) and the bits read from the end of the
digest, so it is written here from the definition in nix's `libutil/hash.cc`.
"""

from __future__ import annotations

import binascii
import re

from scaffold.errors import UserError

NIX32_ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz"
_NIX32_INDEX = {c: i for i, c in enumerate(NIX32_ALPHABET)}
SHA256_SIZE = 32
NIX32_LEN = 52  # ceil(32 * 8 / 5)
FORMATS = ("nix32", "sri", "base16", "prefixed")


def nix32_encode(digest: bytes) -> str:
    length = (len(digest) * 8 - 1) // 5 + 1
    out = []
    for n in range(length - 1, -1, -1):
        b = n * 5
        i, j = divmod(b, 8)
        c = digest[i] >> j
        if i + 1 < len(digest):
            c |= digest[i + 1] << (8 - j)
        out.append(NIX32_ALPHABET[c & 0x1F])
    return "".join(out)


def nix32_decode(text: str, size: int = SHA256_SIZE) -> bytes:
    if len(text) != (size * 8 - 1) // 5 + 1:
        raise ValueError(f"a nix base-32 sha256 has {NIX32_LEN} characters, not {len(text)}")
    out = bytearray(size)
    for n, ch in enumerate(reversed(text)):
        digit = _NIX32_INDEX.get(ch)
        if digit is None:
            raise ValueError(f"{ch!r} is not a nix base-32 character")
        b = n * 5
        i, j = divmod(b, 8)
        out[i] |= (digit << j) & 0xFF
        carry = digit >> (8 - j)
        if i + 1 < size:
            out[i + 1] |= carry
        elif carry:
            raise ValueError("nix base-32 value does not fit in a sha256")
    return bytes(out)


class Sha256:
    """A digest and its forms. A plain class: `hash --tag` does not import dataclasses (see hash.py)."""

    __slots__ = ("digest",)

    def __init__(self, digest: bytes) -> None:
        self.digest = digest

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sha256) and other.digest == self.digest

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        return f"Sha256({self.prefixed})"

    @property
    def nix32(self) -> str:
        return nix32_encode(self.digest)

    @property
    def prefixed(self) -> str:
        return "sha256:" + self.nix32

    @property
    def sri(self) -> str:
        return "sha256-" + binascii.b2a_base64(self.digest, newline=False).decode()

    @property
    def base16(self) -> str:
        return self.digest.hex()

    def format(self, fmt: str) -> str:
        if fmt not in FORMATS:
            raise UserError(f"unknown hash format {fmt!r} (choose from {', '.join(FORMATS)})")
        return str(getattr(self, fmt))

    def as_dict(self) -> dict[str, str]:
        return {fmt: self.format(fmt) for fmt in FORMATS}


_B64 = re.compile(r"^[A-Za-z0-9+/]{43}=$")
_B16 = re.compile(r"^[0-9a-fA-F]{64}$")


def parse_sha256(text: str) -> Sha256:
    """Accept every form nix accepts for a sha256 (nix32, base16, base64; bare, `sha256:` or SRI)."""
    raw = text.strip()
    body = raw
    if raw.startswith("sha256-"):
        body = raw[len("sha256-") :]
        if not _B64.match(body):
            raise UserError(f"malformed SRI hash {text!r}: expected sha256- and 44 base64 characters")
        return Sha256(binascii.a2b_base64(body))
    if raw.startswith("sha256:"):
        body = raw[len("sha256:") :]
    elif ":" in raw or "-" in raw:
        raise UserError(f"malformed hash {text!r}: only sha256 hashes are supported")
    if _B16.match(body):
        return Sha256(binascii.unhexlify(body))
    if _B64.match(body):
        return Sha256(binascii.a2b_base64(body))
    if len(body) == NIX32_LEN:
        try:
            return Sha256(nix32_decode(body))
        except ValueError as exc:
            raise UserError(f"malformed hash {text!r}: {exc}") from None
    raise UserError(
        f"malformed hash {text!r}: expected nix base-32 (52 chars), base16 (64), base64 (44) or SRI"
    )
