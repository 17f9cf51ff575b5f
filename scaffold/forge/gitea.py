"""Gitea, Forgejo and Codeberg: archive and release-attachment URLs, and publishing through the API (v1).

Gitea's release API follows GitHub's (a draft, too, is found only in the list of releases); only
attachments differ (multipart upload, no digest, their own delete path), so the operations are GitHub's
with those replaced.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from scaffold.forge import github
from scaffold.forge.base import Asset, PublishResult, Remote, check_upload, file_body, publish_release, quote
from scaffold.forge.http import Api


def tarball_url(r: Remote, tag: str) -> str:
    return f"{r.base}/{r.owner}/{r.repo}/archive/{quote(tag)}.tar.gz"


def asset_url(r: Remote, tag: str, asset: str) -> str:
    return f"{r.base}/{r.owner}/{r.repo}/releases/download/{quote(tag)}/{quote(asset)}"


def api(r: Remote, token_name: str, token: str) -> Api:
    headers = {"Authorization": f"token {token}", "Accept": "application/json"}
    return Api(f"{r.base}/api/v1", headers, token_name, "Gitea", page={"limit": 50})


@dataclass
class _Ops(github._Ops):
    name: str = "Gitea"

    def same(self, existing: dict[str, Any], asset: Asset) -> bool:
        if existing.get("size") != asset.size:
            return False
        resp = self.api.request("GET", existing["browser_download_url"])
        return hashlib.sha256(resp.content).hexdigest() == asset.sha256

    def delete(self, release: dict[str, Any], existing: dict[str, Any]) -> None:
        self.api.request("DELETE", f"{self.repo}/releases/{release['id']}/assets/{existing['id']}")

    def complete(self, existing: dict[str, Any]) -> bool:
        return True  # a Gitea attachment exists only once its upload is complete

    def upload(self, release: dict[str, Any], asset: Asset) -> str:
        path = f"{self.repo}/releases/{release['id']}/assets"
        done = self.api.json("POST", path, params={"name": asset.name}, body=file_body(asset, "attachment"))
        check_upload(self.name, asset, done.get("size"))
        return str(done["browser_download_url"])


def publish(api: Api, r: Remote, tag: str, asset: Asset, notes: str, force: bool) -> PublishResult:
    return publish_release(_Ops(api, f"/repos/{r.owner}/{r.repo}"), tag, asset, notes, force)
