"""What every forge module shares: the parsed remote and URL quoting."""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..errors import LibnixError, NetworkError, UserError


@dataclass(frozen=True)
class Remote:
    scheme: str  # https or http: how the forge's web and API are reached
    host: str  # may include a port for self-hosted forges
    owner: str  # GitLab groups nest ("group/sub"); sourcehut owners keep their "~"
    repo: str

    @property
    def base(self) -> str:
        return f"{self.scheme}://{self.host}"


def quote(part: str) -> str:
    """Tags and names in URL paths: `+` is `%2B`, `/` kept (forges route tag paths with slashes)."""
    return urllib.parse.quote(part, safe="/")


NOTES_MARKER = "<!-- libnix: consumer snippets -->"


@dataclass(frozen=True)
class Asset:
    path: Path
    name: str
    size: int
    sha256: str  # hex digest of the file's bytes, to recognise the same asset already uploaded

    @classmethod
    def of(cls, path: Path) -> Asset:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return cls(path, path.name, path.stat().st_size, digest.hexdigest())


@dataclass(frozen=True)
class PublishResult:
    release_url: str
    asset_url: str
    created_release: bool
    uploaded: bool  # False: the identical asset was already there
    replaced: bool
    notes_updated: bool


def with_notes(body: str | None, notes: str) -> str | None:
    """The release body with the snippets appended once; None when they are there already."""
    body = body or ""
    if NOTES_MARKER in body:
        return None
    block = f"{NOTES_MARKER}\n{notes}"
    return f"{body.rstrip()}\n\n{block}" if body.strip() else block


def half_published(forge: str, tag: str, asset: str, exc: Exception) -> Exception:
    """The release exists but the asset is not on it: say so, and that a re-run completes it."""
    cls = type(exc) if isinstance(exc, LibnixError) else NetworkError
    return cls(
        f"{forge}: the release {tag} exists but uploading {asset} failed ({exc}); run again to complete it"
    )


class ReleaseOps(Protocol):
    """What a forge module supplies; `publish_release` is the flow they share."""

    name: str

    def find(self, tag: str) -> dict[str, Any] | None: ...
    def create(self, tag: str, body: str) -> dict[str, Any]: ...
    def body(self, release: dict[str, Any]) -> str | None: ...
    def set_body(self, release: dict[str, Any], body: str) -> None: ...
    def assets(self, release: dict[str, Any]) -> Iterable[dict[str, Any]]: ...
    def same(self, existing: dict[str, Any], asset: Asset) -> bool: ...
    def delete(self, release: dict[str, Any], existing: dict[str, Any]) -> None: ...
    def upload(self, release: dict[str, Any], asset: Asset) -> str: ...
    def release_url(self, release: dict[str, Any]) -> str: ...
    def download_url(self, existing: dict[str, Any]) -> str: ...


def publish_release(ops: ReleaseOps, tag: str, asset: Asset, notes: str, force: bool) -> PublishResult:
    release = ops.find(tag)
    created = release is None
    if release is None:
        release = ops.create(tag, with_notes("", notes) or notes)
    try:
        notes_updated = False
        if not created:
            body = with_notes(ops.body(release), notes)
            if body is not None:
                ops.set_body(release, body)
                notes_updated = True
        replaced = False
        for existing in ops.assets(release):
            if existing.get("name") != asset.name:
                continue
            if ops.same(existing, asset):
                return PublishResult(
                    ops.release_url(release), ops.download_url(existing), created, False, False, notes_updated
                )
            if not force:
                raise UserError(f"{ops.name}: {asset.name} is already on the release {tag} and differs: "
                                "--force replaces it")  # fmt: skip
            ops.delete(release, existing)
            replaced = True
        url = ops.upload(release, asset)
    except LibnixError as exc:
        if created or exc.exit_code != 1:
            raise half_published(ops.name, tag, asset.name, exc) from None
        raise
    return PublishResult(ops.release_url(release), url, created, True, replaced, notes_updated)
