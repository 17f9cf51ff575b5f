"""sourcehut (git.sr.ht): archive and artifact URLs, and publishing through its GraphQL API.

On sourcehut the annotated tag is the release: artifacts attach to the tag (which must be pushed first),
and the tag's message is the release note, which the API cannot change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from scaffold.errors import UserError
from scaffold.forge.base import (
    NOTES_MARKER,
    Asset,
    PublishResult,
    Remote,
    check_upload,
    publish_release,
    quote,
)
from scaffold.forge.http import Api


def _owner(r: Remote) -> str:
    return r.owner if r.owner.startswith("~") else "~" + r.owner


def tarball_url(r: Remote, tag: str) -> str:
    return f"{r.base}/{_owner(r)}/{r.repo}/archive/{quote(tag)}.tar.gz"


def asset_url(r: Remote, tag: str, asset: str) -> str:
    return f"{r.base}/{_owner(r)}/{r.repo}/refs/download/{quote(tag)}/{quote(asset)}"


def api(r: Remote, token_name: str, token: str) -> Api:
    return Api(r.base, {"Authorization": f"Bearer {token}"}, token_name, "sourcehut")


_REFS = """query refs($owner: String!, $name: String!, $cursor: Cursor) {
  user(username: $owner) { repository(name: $name) { id
    references(cursor: $cursor) { cursor results { name
      artifacts { results { id filename checksum size url } } } } } } }"""
_UPLOAD = """mutation upload($repoId: Int!, $revspec: String!, $file: Upload!) {
  uploadArtifact(repoId: $repoId, revspec: $revspec, file: $file) { id filename checksum size url } }"""
_DELETE = "mutation delete($id: Int!) { deleteArtifact(id: $id) { id } }"


@dataclass
class _Ops:
    api: Api
    remote: Remote
    name: str = "sourcehut"

    def _graphql(self, query: str, variables: dict[str, Any], **kw: Any) -> dict[str, Any]:
        if "files" in kw:
            kw["data"] = {"operations": json.dumps({"query": query, "variables": variables}),
                          "map": json.dumps({"0": ["variables.file"]})}  # fmt: skip
            doc = self.api.json("POST", "/query", **kw)
        else:
            doc = self.api.json("POST", "/query", json={"query": query, "variables": variables})
        if doc.get("errors"):
            raise UserError(f"sourcehut: {doc['errors'][0].get('message', 'GraphQL error')}")
        return dict(doc["data"])

    def find(self, tag: str) -> dict[str, Any] | None:
        owner, cursor, repo_id = _owner(self.remote)[1:], None, None
        while True:
            data = self._graphql(_REFS, {"owner": owner, "name": self.remote.repo, "cursor": cursor})
            repo = (data.get("user") or {}).get("repository")
            if repo is None:
                raise UserError(f"sourcehut: no repository ~{owner}/{self.remote.repo}")
            repo_id = repo["id"]
            for ref in repo["references"]["results"]:
                if ref["name"] in (f"refs/tags/{tag}", tag):
                    return {"tag": tag, "repo_id": repo_id, "artifacts": ref["artifacts"]["results"]}
            cursor = repo["references"]["cursor"]
            if not cursor:
                raise UserError(
                    f"sourcehut: the tag {tag} is not on ~{owner}/{self.remote.repo}: push it first (--push)"
                )

    def create(self, tag: str, body: str) -> dict[str, Any]:
        raise AssertionError("find() always returns the tag on sourcehut")

    def body(self, release: dict[str, Any]) -> str | None:
        return NOTES_MARKER  # the tag's annotation is the note, and the API cannot edit it

    def set_body(self, release: dict[str, Any], body: str) -> None:
        pass

    def assets(self, release: dict[str, Any]) -> Any:
        # the API's own url needs a token; the permanent public link is the one consumers fetch
        tag = release["tag"]
        return [
            {**a, "name": a["filename"], "public_url": asset_url(self.remote, tag, a["filename"])}
            for a in release["artifacts"]
        ]

    def complete(self, existing: dict[str, Any]) -> bool:
        return True  # an artifact is one GraphQL call: there or not

    def same(self, existing: dict[str, Any], asset: Asset) -> bool:
        return bool(existing.get("checksum") == f"sha256:{asset.sha256}")

    def delete(self, release: dict[str, Any], existing: dict[str, Any]) -> None:
        self._graphql(_DELETE, {"id": existing["id"]})

    def upload(self, release: dict[str, Any], asset: Asset) -> str:
        variables = {"repoId": release["repo_id"], "revspec": f"refs/tags/{release['tag']}", "file": None}
        with open(asset.path, "rb") as fh:
            done = self._graphql(_UPLOAD, variables, files={"0": (asset.name, fh, "application/x-bzip2")})
        stored = done.get("uploadArtifact") or {}
        check_upload(self.name, asset, stored.get("size"), stored.get("checksum"))
        return asset_url(self.remote, release["tag"], asset.name)

    def release_url(self, release: dict[str, Any]) -> str:
        return f"{self.remote.base}/{_owner(self.remote)}/{self.remote.repo}/refs/{quote(release['tag'])}"

    def download_url(self, existing: dict[str, Any]) -> str:
        return str(existing["public_url"])


def publish(api: Api, r: Remote, tag: str, asset: Asset, notes: str, force: bool) -> PublishResult:
    return publish_release(_Ops(api, r), tag, asset, notes, force)
