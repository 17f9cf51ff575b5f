"""Forges: recognise a remote, give a tag's tarball URL and a release asset's URL.

One small module per forge behind the `Forge` interface; `detect` picks one from a remote URL or a name.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaffold.environ import TOKENS
from scaffold.errors import UserError
from scaffold.forge import gitea, github, gitlab, sourcehut
from scaffold.forge.base import Asset, PublishResult, Remote, quote

KINDS = ("github", "gitlab", "gitea", "sourcehut")
__all__ = ["KINDS", "TOKENS", "Asset", "Forge", "PublishResult", "Remote", "detect", "parse_remote", "quote"]
_KNOWN_HOSTS = {
    "github.com": "github",
    "gitlab.com": "gitlab",
    "codeberg.org": "gitea",
    "gitea.com": "gitea",
    "git.sr.ht": "sourcehut",
}


_MODULES: dict[str, Any] = {"github": github, "gitlab": gitlab, "gitea": gitea, "sourcehut": sourcehut}


@dataclass(frozen=True)
class Forge:
    kind: str
    remote: Remote

    def tarball_url(self, tag: str) -> str:
        return _MODULES[self.kind].tarball_url(self.remote, tag)

    def asset_url(self, tag: str, asset: str) -> str:
        return _MODULES[self.kind].asset_url(self.remote, tag, asset)

    def token(self) -> tuple[str, str]:
        """(variable name, token) from the environment; missing is the user's error, said before any work."""
        name = TOKENS[self.kind]
        # a token from a file (`echo TOKEN > file`) or a pasted secret ends with a line break: not the token's
        value = os.environ.get(name, "").strip()
        if not value:
            raise UserError(
                f"--publish needs a token for {self.kind} in ${name} (with permission to write releases)"
            )
        if any(c.isspace() or not c.isprintable() for c in value):
            raise UserError(
                f"the token in ${name} holds a line break, space or control character within it: "
                "no token does"
            )
        return name, value

    def publish(self, tag: str, asset: Path, notes: str, force: bool = False) -> PublishResult:
        """Find or create the release for `tag`, upload `asset` unless the same file is there, attach the
        notes. Safe to re-run: it completes whatever an interrupted run left."""
        name, token = self.token()
        module = _MODULES[self.kind]
        api = module.api(self.remote, name, token)
        return module.publish(api, self.remote, tag, Asset.of(asset), notes, force)


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
