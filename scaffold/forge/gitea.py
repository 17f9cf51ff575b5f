"""Gitea, Forgejo and Codeberg: archive and release-attachment URLs."""

from __future__ import annotations

from .base import Remote, quote


def tarball_url(r: Remote, tag: str) -> str:
    return f"{r.base}/{r.owner}/{r.repo}/archive/{quote(tag)}.tar.gz"


def asset_url(r: Remote, tag: str, asset: str) -> str:
    return f"{r.base}/{r.owner}/{r.repo}/releases/download/{quote(tag)}/{quote(asset)}"
