"""Nix's base-32 and the other textual forms, checked against `nix-hash --to-base32`."""

from __future__ import annotations

import hashlib

import pytest

from scaffold.errors import UserError
from scaffold.hashing.nixhash import Sha256, nix32_decode, nix32_encode, parse_sha256


@pytest.mark.parametrize("data", [b"", b"libnix", bytes(range(256)) * 3])
def test_nix32_matches_nix_and_round_trips(data: bytes, nix) -> None:
    digest = hashlib.sha256(data).digest()
    assert nix32_encode(digest) == nix.to_base32(digest.hex())
    assert nix32_decode(nix32_encode(digest)) == digest


def test_every_form_parses_to_the_same_hash() -> None:
    sha = Sha256(hashlib.sha256(b"x").digest())
    forms = [sha.nix32, sha.prefixed, sha.sri, sha.base16, "sha256:" + sha.base16, sha.base16.upper()]
    assert {parse_sha256(f) for f in forms} == {sha}


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "abc",
        "sha512-" + "A" * 86 + "==",
        "md5:0123",
        "e" * 52,  # 'e' is not in nix's alphabet
        "z" * 52,  # does not fit in 256 bits
        "sha256-" + "!" * 43 + "=",
    ],
)
def test_malformed_hashes_are_refused(bad: str) -> None:
    with pytest.raises(UserError, match=r"malformed"):
        parse_sha256(bad)
