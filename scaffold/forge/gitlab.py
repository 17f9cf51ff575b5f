"""GitLab (gitlab.com and self-hosted): archive URLs and release download links."""

from __future__ import annotations

from .base import Remote, quote


def tarball_url(r: Remote, tag: str) -> str:
    # GitLab names the file REPO-TAG with any "/" of the tag turned into "-"
    name = f"{r.repo}-{tag.replace('/', '-')}"
    return f"{r.base}/{r.owner}/{r.repo}/-/archive/{quote(tag)}/{quote(name)}.tar.gz"


def asset_url(r: Remote, tag: str, asset: str) -> str:
    return f"{r.base}/{r.owner}/{r.repo}/-/releases/{quote(tag)}/downloads/{quote(asset)}"
