"""sourcehut (git.sr.ht): archive and artifact URLs. Owners are written with their `~`."""

from __future__ import annotations

from typing import Any

from ..errors import UserError
from .base import Remote, quote


def _owner(r: Remote) -> str:
    return r.owner if r.owner.startswith("~") else "~" + r.owner


def tarball_url(r: Remote, tag: str) -> str:
    return f"{r.base}/{_owner(r)}/{r.repo}/archive/{quote(tag)}.tar.gz"


def asset_url(r: Remote, tag: str, asset: str) -> str:
    return f"{r.base}/{_owner(r)}/{r.repo}/refs/download/{quote(tag)}/{quote(asset)}"


def api(r: Remote, token_name: str, token: str) -> object:
    return None


def publish(api: object, r: Remote, tag: str, asset: Any, notes: str, force: bool) -> Any:
    raise UserError(
        f"publishing to sourcehut is not supported yet: attach {asset.name} to the tag {tag} on "
        f"{r.base}/{_owner(r)}/{r.repo}/refs by hand (its URL and hash are in the release manifest)"
    )
