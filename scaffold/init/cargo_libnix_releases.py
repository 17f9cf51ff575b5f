"""The cargo (libnix) releases libnix knows: upstream publishes each as a pinned build system of cargo
itself (nixcloud/cargo's GitHub releases), which the flake of `libnix init` builds for the dev shell.

`--data cargo_libnix_release=TAG` chooses one (init and update); its URL and root attribute follow, and
its hash when libnix knows it. A hash libnix does not know must be given (`--data cargo_libnix_sha256=`,
from `nix-prefetch-url --unpack URL`): it is never guessed, and this machine cannot download GitHub's
assets to compute it. A release whose attribute is not known is found by name at evaluation, as
upstream's flake finds it (`cargo-<version>-bin-<hash>` in its derivations/default.nix), without
import-from-derivation. Source: the releases page of nixcloud/cargo (tags, asset names) and the root
attribute of the +v3 build system; the +v1 hash is what libnix has pinned since its first template.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from scaffold.errors import UserError


@dataclass(frozen=True)
class Release:
    tag: str
    asset: str
    sha256: str | None  # the fetchTarball hash of the asset (nix base-32), when libnix knows it
    attribute: str  # the root crate cargo (libnix) builds; "" : found by name at evaluation

    @property
    def url(self) -> str:
        return f"https://github.com/nixcloud/cargo/releases/download/{quote(self.tag)}/{quote(self.asset)}"


RELEASES = (
    Release(
        "libnix-1.87.0+v1",
        "libnix-1.87.0+v1.tar.bz2",
        "1pa5yg6i5rk0f50f0syv3ci0864ca3w9ch60rx2q6mp7fy86h086",
        "cargo-0_88_0-bin-b4cc6eeacb818d24",
    ),
    Release("libnix-1.87.0+v2", "libnix-1.87.0+v2-release.tar.bz2", None, ""),
    Release("libnix-1.87.0+v3", "libnix-1.87.0+v3.tar.bz2", None, "cargo-0_88_0-bin-8cad88ffd54a16db"),
)
NEWEST = RELEASES[-1]


def by_tag(tag: str) -> Release:
    for release in RELEASES:
        if release.tag == tag:
            return release
    known = ", ".join(r.tag for r in RELEASES)
    raise UserError(f"--data cargo_libnix_release: {tag!r} is not a release libnix knows ({known})")


def answers_for(tag: str, given_sha256: str | None) -> dict[str, str]:
    """The three answers a chosen release sets: its URL, its hash (known, or given), its attribute."""
    release = by_tag(tag)
    digest = given_sha256 or release.sha256
    if not digest:
        raise UserError(
            f"libnix does not know the hash of {release.tag}: add --data "
            f"cargo_libnix_sha256=$(nix-prefetch-url --unpack {release.url})"
        )
    return {
        "cargo_libnix_url": release.url,
        "cargo_libnix_sha256": digest,
        "cargo_libnix_attr": release.attribute,
    }


def pinned(url: str) -> Release | None:
    return next((r for r in RELEASES if r.url == url), None)


def newer_than(url: str) -> str | None:
    """What to tell a project pinned to an older release libnix knows, or None."""
    release = pinned(url)
    if release is None or release == NEWEST:
        return None
    return (
        f"cargo (libnix) {NEWEST.tag} is out (the project pins {release.tag}): `libnix update --data "
        f"cargo_libnix_release={NEWEST.tag}"
        + ("" if NEWEST.sha256 else " --data cargo_libnix_sha256=HASH")
        + "`"
        + ("" if NEWEST.sha256 else f", HASH from `nix-prefetch-url --unpack {NEWEST.url}`")
    )
