"""sourcehut (git.sr.ht): archive and artifact URLs. Owners are written with their `~`."""

from __future__ import annotations

from .base import Remote, quote


def _owner(r: Remote) -> str:
    return r.owner if r.owner.startswith("~") else "~" + r.owner


def tarball_url(r: Remote, tag: str) -> str:
    return f"{r.base}/{_owner(r)}/{r.repo}/archive/{quote(tag)}.tar.gz"


def asset_url(r: Remote, tag: str, asset: str) -> str:
    return f"{r.base}/{_owner(r)}/{r.repo}/refs/download/{quote(tag)}/{quote(asset)}"
