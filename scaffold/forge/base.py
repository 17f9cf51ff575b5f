"""What every forge module shares: the parsed remote and URL quoting."""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from scaffold.errors import LibnixError, NetworkError, UserError


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
    draft: bool = False  # the release is a draft: its assets are public once it is published
    cleaned: int = 0  # leftovers of an interrupted upload (empty, unfinished assets) deleted


def with_notes(body: str | None, notes: str) -> str | None:
    """The release body with the snippets appended once; None when they are there already."""
    body = body or ""
    if NOTES_MARKER in body:
        return None
    block = f"{NOTES_MARKER}\n{notes}"
    return f"{body.rstrip()}\n\n{block}" if body.strip() else block


def file_body(asset: Asset, field_name: str | None = None, headers: dict[str, str] | None = None) -> Any:
    """The asset as a request body, opened anew for each attempt (a retry sends all of it again)."""

    def make(files: ExitStack) -> dict[str, Any]:
        fh = files.enter_context(open(asset.path, "rb"))  # noqa: SIM115 (the ExitStack closes it)
        if field_name is not None:  # multipart: requests computes the length
            return {"files": {field_name: (asset.name, fh, "application/x-bzip2")}}
        return {"data": fh, "headers": {"Content-Length": str(asset.size), **(headers or {})}}

    return make


def check_upload(forge: str, asset: Asset, size: Any, digest: Any = None, state: Any = None) -> None:
    """An upload counts once the forge holds all of it: its size, and its digest where the forge says."""
    problems = []
    if state not in (None, "uploaded"):
        problems.append(f"state {state!r}")
    if size is not None and size != asset.size:
        problems.append(f"{size} bytes of {asset.size}")
    if digest and digest != f"sha256:{asset.sha256}":
        problems.append(f"digest {digest}")
    if problems:
        raise NetworkError(
            f"{forge}: the forge holds a different {asset.name} after the upload ({', '.join(problems)})"
        )


class ReleaseOps(Protocol):
    """What a forge module supplies; `publish_release` is the flow they share."""

    name: str

    def find(self, tag: str) -> dict[str, Any] | None: ...
    def create(self, tag: str, body: str) -> dict[str, Any]: ...
    def body(self, release: dict[str, Any]) -> str | None: ...
    def set_body(self, release: dict[str, Any], body: str) -> None: ...
    def assets(self, release: dict[str, Any]) -> Iterable[dict[str, Any]]: ...
    def complete(self, existing: dict[str, Any]) -> bool: ...
    def same(self, existing: dict[str, Any], asset: Asset) -> bool: ...
    def delete(self, release: dict[str, Any], existing: dict[str, Any]) -> None: ...
    def upload(self, release: dict[str, Any], asset: Asset) -> str: ...
    def release_url(self, release: dict[str, Any]) -> str: ...
    def download_url(self, existing: dict[str, Any]) -> str: ...


def publish_release(ops: ReleaseOps, tag: str, asset: Asset, notes: str, force: bool) -> PublishResult:
    """Find (drafts too) or create the release, append the notes once, upload the asset unless the same
    file is there. Every failure says what is already done; running again completes it."""
    done: list[str] = []
    try:
        release = ops.find(tag)
        created = release is None
        if release is None:
            release = ops.create(tag, with_notes("", notes) or notes)
            done.append(f"created the release {tag}")
        notes_updated = False
        if not created:
            body = with_notes(ops.body(release), notes)
            if body is not None:
                ops.set_body(release, body)
                notes_updated = True
                done.append("appended the notes")
        draft = bool(release.get("draft"))
        replaced = False
        cleaned = 0
        for existing in list(ops.assets(release)):
            if existing.get("name") != asset.name:
                continue
            if not ops.complete(existing):  # an interrupted upload of ours: garbage, not the user's file
                ops.delete(release, existing)
                cleaned += 1
                done.append(f"deleted an unfinished {asset.name}")
                continue
            if ops.same(existing, asset):
                return PublishResult(ops.release_url(release), ops.download_url(existing), created, False,
                                     False, notes_updated, draft, cleaned)  # fmt: skip
            if not force:
                raise UserError(f"{ops.name}: {asset.name} is already on the release {tag} and differs: "
                                "--force replaces it")  # fmt: skip
            ops.delete(release, existing)
            replaced = True
            done.append(f"deleted the old {asset.name}")
        url = ops.upload(release, asset)
    except LibnixError as exc:
        if done:
            what = "; ".join(done)
            raise type(exc)(f"{exc} (already done: {what}; run again to complete the release)") from None
        raise
    return PublishResult(
        ops.release_url(release), url, created, True, replaced, notes_updated, draft, cleaned
    )
