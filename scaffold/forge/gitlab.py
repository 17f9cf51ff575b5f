"""GitLab (gitlab.com and self-hosted): archive URLs, and publishing: the asset goes to the project's
generic package registry and the release links it, with a permanent `…/-/releases/TAG/downloads/NAME`."""

from __future__ import annotations

import hashlib
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from scaffold.forge.base import Asset, PublishResult, Remote, check_upload, file_body, publish_release, quote
from scaffold.forge.http import Api

PACKAGE = "libnix-buildsystem"


def tarball_url(r: Remote, tag: str) -> str:
    # GitLab names the file REPO-TAG with any "/" of the tag turned into "-"
    name = f"{r.repo}-{tag.replace('/', '-')}"
    return f"{r.base}/{r.owner}/{r.repo}/-/archive/{quote(tag)}/{quote(name)}.tar.gz"


def filepath(asset: str) -> str:
    """The link's `direct_asset_path`, as GitLab validates it (app/models/releases/link.rb FILEPATH_REGEX
    `\\A/(?:[\\-\\.\\w]+/?)*[\\da-zA-Z]+\\z`, at most 128 characters): no `+` (libnix-1.0+v1.0.tar.bz2), and
    an alphanumeric last character."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", asset)
    name = re.sub(r"[^A-Za-z0-9]+$", "", name)[-127:] or "asset"
    return "/" + name


def asset_url(r: Remote, tag: str, asset: str) -> str:
    return f"{r.base}/{r.owner}/{r.repo}/-/releases/{quote(tag)}/downloads{filepath(asset)}"


def api(r: Remote, token_name: str, token: str) -> Api:
    return Api(f"{r.base}/api/v4", {"PRIVATE-TOKEN": token}, token_name, "GitLab", page={"per_page": 100})


@dataclass
class _Ops:
    api: Api
    project: str  # /projects/<url-encoded path>
    name: str = "GitLab"

    def _tag(self, tag: str) -> str:
        return urllib.parse.quote(tag, safe="")

    def find(self, tag: str) -> dict[str, Any] | None:
        resp = self.api.request("GET", f"{self.project}/releases/{self._tag(tag)}", ok=(200, 404))
        return None if resp.status_code == 404 else resp.json()

    def create(self, tag: str, body: str) -> dict[str, Any]:
        doc = {"tag_name": tag, "name": tag, "description": body}
        return self.api.json("POST", f"{self.project}/releases", json=doc)

    def body(self, release: dict[str, Any]) -> str | None:
        return release.get("description")

    def set_body(self, release: dict[str, Any], body: str) -> None:
        self.api.json(
            "PUT", f"{self.project}/releases/{self._tag(release['tag_name'])}", json={"description": body}
        )

    def assets(self, release: dict[str, Any]) -> Any:
        return self.api.paginate(f"{self.project}/releases/{self._tag(release['tag_name'])}/assets/links")

    def complete(self, existing: dict[str, Any]) -> bool:
        return True  # a link is made only after its package file was checked

    def same(self, existing: dict[str, Any], asset: Asset) -> bool:
        resp = self.api.request("GET", existing["url"])
        return hashlib.sha256(resp.content).hexdigest() == asset.sha256

    def delete(self, release: dict[str, Any], existing: dict[str, Any]) -> None:
        tag = self._tag(release["tag_name"])
        self.api.request("DELETE", f"{self.project}/releases/{tag}/assets/links/{existing['id']}")

    def upload(self, release: dict[str, Any], asset: Asset) -> str:
        version = re.sub(r"[^A-Za-z0-9._-]", "_", release["tag_name"])
        path = f"{self.project}/packages/generic/{PACKAGE}/{version}/{quote(asset.name)}"
        self.api.request("PUT", path, body=file_body(asset))  # retried: each time with the whole file
        # GitLab answers a PUT without the file's size or digest: read it back before linking it
        stored = self.api.request("GET", path).content
        digest = "sha256:" + hashlib.sha256(stored).hexdigest()
        check_upload(self.name, asset, len(stored), digest)
        link = {"name": asset.name, "url": self.api.url(path), "direct_asset_path": filepath(asset.name),
                "link_type": "package"}  # fmt: skip
        tag = self._tag(release["tag_name"])
        done = self.api.json("POST", f"{self.project}/releases/{tag}/assets/links", json=link)
        return str(done.get("direct_asset_url") or done["url"])

    def release_url(self, release: dict[str, Any]) -> str:
        return str((release.get("_links") or {}).get("self", ""))

    def download_url(self, existing: dict[str, Any]) -> str:
        return str(existing.get("direct_asset_url") or existing["url"])


def publish(api: Api, r: Remote, tag: str, asset: Asset, notes: str, force: bool) -> PublishResult:
    project = "/projects/" + urllib.parse.quote(f"{r.owner}/{r.repo}", safe="")
    return publish_release(_Ops(api, project), tag, asset, notes, force)
