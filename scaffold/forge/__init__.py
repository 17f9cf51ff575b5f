"""Forges: recognise a remote, give a tag's tarball URL and a release asset's URL.

One small module per forge behind the `Forge` interface; `detect` picks one from a remote URL or a name.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from ..errors import UserError
from . import gitea, github, gitlab, sourcehut
from .base import Remote, quote

KINDS = ("github", "gitlab", "gitea", "sourcehut")
__all__ = ["KINDS", "Forge", "Remote", "detect", "parse_remote", "quote"]
_KNOWN_HOSTS = {
    "github.com": "github",
    "gitlab.com": "gitlab",
    "codeberg.org": "gitea",
    "gitea.com": "gitea",
    "git.sr.ht": "sourcehut",
}


_MODULES = {"github": github, "gitlab": gitlab, "gitea": gitea, "sourcehut": sourcehut}


@dataclass(frozen=True)
class Forge:
    kind: str
    remote: Remote

    def tarball_url(self, tag: str) -> str:
        return _MODULES[self.kind].tarball_url(self.remote, tag)

    def asset_url(self, tag: str, asset: str) -> str:
        return _MODULES[self.kind].asset_url(self.remote, tag, asset)


_SCP = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>(?!/).+)$")


def parse_remote(url: str) -> Remote:
    """https://host/o/r(.git), ssh://git@host[:port]/o/r, git@host:o/r(.git), sourcehut's ~owner."""
    url = url.strip()
    if "://" in url:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        scheme = parts.scheme if parts.scheme in ("http", "https") else "https"
        if parts.port and parts.scheme in ("http", "https"):
            host = f"{host}:{parts.port}"
        path = parts.path
    else:
        m = _SCP.match(url)
        if not m:
            expected = "https://host/owner/repo or git@host:owner/repo"
            raise UserError(f"cannot read the remote URL {url!r} (expected {expected})")
        host, path, scheme = m["host"], m["path"], "https"
    segments = [s for s in path.strip("/").split("/") if s]
    if not host or len(segments) < 2:
        raise UserError(f"cannot read owner and repository from the remote URL {url!r}")
    repo = segments[-1].removesuffix(".git")
    owner = "/".join(segments[:-1])  # GitLab groups nest
    return Remote(scheme, host, owner, repo)


def detect(remote_url: str, kind: str | None = None) -> Forge:
    remote = parse_remote(remote_url)
    if kind is None:
        bare = remote.host.split(":")[0]
        kind = _KNOWN_HOSTS.get(bare)
        if kind is None:
            if bare.startswith("gitlab."):
                kind = "gitlab"
            elif bare.startswith(("gitea.", "forgejo.", "codeberg.")):
                kind = "gitea"
            elif bare.startswith("github."):
                kind = "github"
        if kind is None:
            raise UserError(
                f"unknown forge at {remote.host}: pass --forge {'|'.join(KINDS)} "
                "or set [package.metadata.libnix] forge in Cargo.toml"
            )
    if kind not in KINDS:
        raise UserError(f"unknown forge {kind!r} (choose from {', '.join(KINDS)})")
    return Forge(kind, remote)
