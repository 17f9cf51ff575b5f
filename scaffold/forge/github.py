"""GitHub and GitHub Enterprise: archive and release-download URLs, and publishing through the REST API."""

from __future__ import annotations

import hashlib
import urllib.parse
from dataclasses import dataclass
from typing import Any

from scaffold.forge.base import Asset, PublishResult, Remote, check_upload, file_body, publish_release, quote
from scaffold.forge.http import Api


def tarball_url(r: Remote, tag: str) -> str:
    return f"{r.base}/{r.owner}/{r.repo}/archive/refs/tags/{quote(tag)}.tar.gz"


def asset_url(r: Remote, tag: str, asset: str) -> str:
    return f"{r.base}/{r.owner}/{r.repo}/releases/download/{quote(tag)}/{quote(asset)}"


def api(r: Remote, token_name: str, token: str) -> Api:
    base = "https://api.github.com" if r.host == "github.com" else f"{r.base}/api/v3"
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    return Api(base, headers, token_name, "GitHub", page={"per_page": 100})


@dataclass
class _Ops:
    api: Api
    repo: str
    name: str = "GitHub"

    def find(self, tag: str) -> dict[str, Any] | None:
        resp = self.api.request(
            "GET", f"{self.repo}/releases/tags/{urllib.parse.quote(tag, safe='')}", ok=(200, 404)
        )
        if resp.status_code == 200:
            return self.api.decode("GET", resp)
        # a draft is not found by its tag (404): only the list of releases shows it
        return next((r for r in self.api.paginate(f"{self.repo}/releases") if r.get("tag_name") == tag), None)

    def create(self, tag: str, body: str) -> dict[str, Any]:
        return self.api.json(
            "POST", f"{self.repo}/releases", json={"tag_name": tag, "name": tag, "body": body}
        )

    def body(self, release: dict[str, Any]) -> str | None:
        return release.get("body")

    def set_body(self, release: dict[str, Any], body: str) -> None:
        self.api.json("PATCH", f"{self.repo}/releases/{release['id']}", json={"body": body})

    def assets(self, release: dict[str, Any]) -> Any:
        return self.api.paginate(f"{self.repo}/releases/{release['id']}/assets")

    def complete(self, existing: dict[str, Any]) -> bool:
        # a failed upload can leave an asset in state `starter` (GitHub's REST docs, "Upload a release asset")
        return existing.get("state", "uploaded") == "uploaded"

    def same(self, existing: dict[str, Any], asset: Asset) -> bool:
        digest = existing.get("digest")
        if digest:
            return bool(digest == f"sha256:{asset.sha256}")
        if existing.get("size") != asset.size:
            return False
        resp = self.api.request("GET", existing["url"], headers={"Accept": "application/octet-stream"})
        return hashlib.sha256(resp.content).hexdigest() == asset.sha256

    def delete(self, release: dict[str, Any], existing: dict[str, Any]) -> None:
        self.api.request("DELETE", f"{self.repo}/releases/assets/{existing['id']}")

    def upload(self, release: dict[str, Any], asset: Asset) -> str:
        url = release["upload_url"].split("{", 1)[0]
        body = file_body(asset, headers={"Content-Type": "application/x-bzip2"})
        done = self.api.json("POST", url, params={"name": asset.name}, body=body)
        check_upload(self.name, asset, done.get("size"), done.get("digest"), done.get("state"))
        return str(done["browser_download_url"])

    def release_url(self, release: dict[str, Any]) -> str:
        return str(release["html_url"])

    def download_url(self, existing: dict[str, Any]) -> str:
        return str(existing["browser_download_url"])


def publish(api: Api, r: Remote, tag: str, asset: Asset, notes: str, force: bool) -> PublishResult:
    return publish_release(_Ops(api, f"/repos/{r.owner}/{r.repo}"), tag, asset, notes, force)
