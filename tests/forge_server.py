"""A local forge for the tests: a real HTTP server on 127.0.0.1 implementing the part of the GitHub (REST
v3), Gitea (v1) and GitLab (v4) APIs that libnix calls, shaped after their published documentation, and
serving `git archive` tarballs of registered repositories at each forge's archive URL paths.

Documented behaviour it keeps (and libnix must cope with):
- GitHub, Gitea: `GET /repos/{o}/{r}/releases/tags/{tag}` is 404 for a draft; the list of releases shows
  it. GitHub's upload may leave an asset in state `starter` after a failure ("Upload a release asset":
  "if you upload an asset with the same name as an existing asset, you must delete the old file"; an
  asset's `state` is `uploaded` or `starter`); a second upload under the same name is 422.
- GitLab: a release link's `direct_asset_path` (formerly `filepath`) must match FILEPATH_REGEX of
  app/models/releases/link.rb, `\\A/(?:[\\-\\.\\w]+/?)*[\\da-zA-Z]+\\z`, at most 128 characters, else 400.

State lives in memory; `fail()` queues injected faults for matching calls: a status (500s, rate limits,
401...), a connection reset in the middle of the request body, a starter asset left by a failed upload,
a slow or trickling answer, an answer that is not JSON.
"""

from __future__ import annotations

import email.parser
import hashlib
import http.server
import json
import re
import socket
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOKEN = "s3cr3t-t0ken-never-printed"
PAGE = 2  # small pages, so that libnix must follow Link headers
TEMPLATE = "{?name,label}"  # GitHub's upload_url is a URI template


FILEPATH_REGEX = re.compile(r"\A/(?:[\-\.\w]+/?)*[\da-zA-Z]+\Z", re.ASCII)


@dataclass
class Release:
    id: int
    repo: str
    tag: str
    body: str
    assets: dict[int, dict[str, Any]] = field(default_factory=dict)
    draft: bool = False


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = "status"  # status, reset, starter, slow, trickle, malformed
    delay: float = 0.0


class Forge:
    def __init__(self) -> None:
        self.releases: dict[tuple[str, str], Release] = {}
        self.files: dict[str, bytes] = {}  # download path -> bytes
        self.repos: dict[str, Path] = {}  # owner/repo -> git repository
        self.injected: list[Fault] = []
        self.log: list[tuple[str, str]] = []
        self.agents: set[str] = set()  # User-Agent of every API call
        self.next_id = 1
        self.lock = threading.Lock()
        self.base = ""

    def fail(
        self, method: str, path: str, status: int = 500, headers: dict[str, str] | None = None,
        times: int = 1, kind: str = "status", delay: float = 0.0,
    ) -> None:  # fmt: skip
        for _ in range(times):
            self.injected.append(Fault(method, re.compile(path), status, headers or {}, kind, delay))

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


class Handler(http.server.BaseHTTPRequestHandler):
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing ---------------------------------------------------------------------------------------

    trickle = 0.0  # seconds between two bytes of the answer's body (an injected trickling server)

    def _reply(
        self, status: int, doc: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None
    ):
        body = raw if raw is not None else (json.dumps(doc).encode() if doc is not None else b"")
        self.send_response(status)
        self.send_header(
            "Content-Type", "application/octet-stream" if raw is not None else "application/json"
        )
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not self.trickle:
            self.wfile.write(body)
            return
        for i in range(len(body)):
            self.wfile.write(body[i : i + 1])
            self.wfile.flush()
            time.sleep(self.trickle)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _authorized(self, kind: str) -> bool:
        expected = {"github": f"Bearer {TOKEN}", "gitea": f"token {TOKEN}"}.get(kind)
        if kind == "gitlab":
            return self.headers.get("PRIVATE-TOKEN") == TOKEN
        return self.headers.get("Authorization") == expected

    def _handle(self, method: str) -> None:
        forge = self.server.forge
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, dict(urllib.parse.parse_qsl(url.query))
        forge.log.append((method, self.path))
        if "/api/" in path or path == "/query":
            forge.agents.add(self.headers.get("User-Agent", ""))
        fault = None
        with forge.lock:
            for i, f in enumerate(forge.injected):
                if f.method == method and f.path.search(path):
                    fault = forge.injected.pop(i)
                    break
        if fault is not None and fault.kind not in ("slow", "trickle"):
            return self._inject(fault, path, query)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        if fault is not None and fault.kind == "trickle":
            self.trickle = fault.delay
        try:
            self._route(method, path, query)
        except KeyError:
            self._reply(404, {"message": "Not Found"})

    def _inject(self, fault: Fault, path: str, query: dict[str, str]) -> None:
        if fault.kind == "reset":  # the connection drops in the middle of the request body
            self.rfile.read(min(64, int(self.headers.get("Content-Length") or 0)))
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return None
        data = self._body()
        if fault.kind == "malformed":
            return self._reply(200, raw=b'{"id": 7, "tag_name": "unterminated')
        if fault.kind == "starter":  # GitHub: an upload that failed half-way leaves an empty asset
            m = re.search(r"/repos/([^/]+/[^/]+)/releases/(\d+)/assets", path)
            assert m, path
            forge = self.server.forge
            rel = next(r for r in forge.releases.values() if r.id == int(m[2]))
            aid = forge.new_id()
            rel.assets[aid] = {
                "id": aid, "name": query["name"], "size": 0, "data": b"", "state": "starter",
                "url": f"{forge.base}/api/v3/repos/{m[1]}/releases/assets/{aid}",
                "browser_download_url": f"{forge.base}/{m[1]}/releases/download/x/{aid}",
            }  # fmt: skip
            del data
        return self._reply(fault.status, {"message": f"injected {fault.status}"}, fault.headers)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _page(self, items: list[Any], query: dict[str, str], path: str) -> None:
        page = int(query.get("page", "1"))
        chunk = items[(page - 1) * PAGE : page * PAGE]
        headers = {}
        if page * PAGE < len(items):
            headers["Link"] = f'<{self.server.forge.base}{path}?page={page + 1}>; rel="next"'
        self._reply(200, chunk, headers)

    # -- routes -------------------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, str]) -> None:
        forge = self.server.forge
        if method == "GET" and path in forge.files:
            return self._reply(200, raw=forge.files[path])
        d = re.fullmatch(r"/([^/]+/[^/]+)/-/releases/([^/]+)/downloads/(.+)", path)
        if method == "GET" and d:  # GitLab's permanent link: the linked package's bytes
            rel = forge.releases[(d[1], urllib.parse.unquote(d[2]))]
            wanted = "/" + urllib.parse.unquote(d[3])  # GitLab finds the link by its direct_asset_path
            link = next(a for a in rel.assets.values() if a.get("direct_asset_path") == wanted)
            return self._reply(200, raw=forge.files[urllib.parse.urlsplit(link["url"]).path])
        m = re.fullmatch(
            r"/([^/]+)/([^/]+)/(?:archive/refs/tags/|archive/|-/archive/[^/]+/[^/]+?-)(.+)\.tar\.gz", path
        )
        if method == "GET" and m and f"{m[1].lstrip('~')}/{m[2]}" in forge.repos:
            tag = urllib.parse.unquote(m[3])
            repo = forge.repos[f"{m[1].lstrip('~')}/{m[2]}"]
            cmd = [
                "git",
                "-C",
                str(repo),
                "archive",
                "--format=tar.gz",
                f"--prefix={m[2]}-{tag}/",
                f"refs/tags/{tag}",
            ]
            out = subprocess.run(cmd, capture_output=True)
            return self._reply(200 if out.returncode == 0 else 404, raw=out.stdout)
        if path.startswith("/api/v3/") or path.startswith("/api/uploads/"):
            return self._github(
                method, path.removeprefix("/api/v3").removeprefix("/api/uploads"), query, path
            )
        if path.startswith("/api/v1/"):
            return self._gitea(method, path.removeprefix("/api/v1"), query, path)
        if path.startswith("/api/v4/"):
            return self._gitlab(method, path.removeprefix("/api/v4"), query, path)
        if path == "/query" and method == "POST":
            return self._sourcehut()
        d = re.fullmatch(r"/~([^/]+/[^/]+)/refs/download/([^/]+)/(.+)", path)
        if method == "GET" and d:  # sourcehut's public artifact link
            rel = forge.releases[(d[1], urllib.parse.unquote(d[2]))]
            art = next(a for a in rel.assets.values() if a["filename"] == urllib.parse.unquote(d[3]))
            return self._reply(200, raw=art["data"])
        raise KeyError(path)

    def _asset_doc(self, rel: Release, asset: dict[str, Any], kind: str) -> dict[str, Any]:
        return {k: v for k, v in asset.items() if k != "data"}

    def _releases(
        self,
        method: str,
        repo: str,
        rest: str,
        query: dict[str, str],
        full: str,
        doc: Any,
        kind: str,
        conflict: int,
    ) -> bool:
        """The release routes Gitea copied from GitHub: find by tag, create, edit, list assets."""
        forge = self.server.forge
        by_id = {r.id: r for r in forge.releases.values() if r.repo == repo}
        if method == "GET" and (t := re.fullmatch(r"releases/tags/(.+)", rest)):
            rel = forge.releases[(repo, urllib.parse.unquote(t[1]))]
            if rel.draft:
                raise KeyError(rest)  # documented: a draft has no tag yet, so GET by tag is 404
            self._reply(200, doc(rel))
        elif method == "GET" and rest == "releases":  # newest first, drafts included (we may write)
            self._page([doc(r) for r in sorted(by_id.values(), key=lambda r: -r.id)], query, full)
        elif method == "POST" and rest == "releases":
            req = json.loads(self._body())
            if (repo, req["tag_name"]) in forge.releases:
                self._reply(conflict, {"message": "release already exists"})
                return True
            rel = Release(forge.new_id(), repo, req["tag_name"], req.get("body") or "")
            forge.releases[(repo, rel.tag)] = rel
            self._reply(201, doc(rel))
        elif method == "PATCH" and (i := re.fullmatch(r"releases/(\d+)", rest)):
            rel = by_id[int(i[1])]
            rel.body = json.loads(self._body()).get("body", rel.body)
            self._reply(200, doc(rel))
        elif method == "GET" and (i := re.fullmatch(r"releases/(\d+)/assets", rest)):
            rel = by_id[int(i[1])]
            self._page([self._asset_doc(rel, a, kind) for a in rel.assets.values()], query, full)
        else:
            return False
        return True

    def _github(self, method: str, path: str, query: dict[str, str], full: str) -> None:
        forge = self.server.forge
        if not self._authorized("github"):
            return self._reply(401, {"message": "Bad credentials"})
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/(.*)", path)
        if not m:
            raise KeyError(path)
        repo, rest = m[1], m[2]
        if repo not in forge.repos:
            raise KeyError(repo)  # a repository this forge does not host: 404, as on the real ones

        def doc(rel: Release) -> dict[str, Any]:
            return {
                "id": rel.id, "tag_name": rel.tag, "name": rel.tag, "body": rel.body, "draft": rel.draft,
                "html_url": f"{forge.base}/{repo}/releases/tag/{rel.tag}",
                "upload_url": f"{forge.base}/api/uploads/repos/{repo}/releases/{rel.id}/assets{TEMPLATE}",
                "assets": [self._asset_doc(rel, a, "github") for a in rel.assets.values()],
            }  # fmt: skip

        by_id = {r.id: r for r in forge.releases.values() if r.repo == repo}
        if self._releases(method, repo, rest, query, full, doc, "github", conflict=422):
            return None
        if (i := re.fullmatch(r"releases/assets/(\d+)", rest)) and method in ("DELETE", "GET"):
            aid = int(i[1])
            rel = next(r for r in by_id.values() if aid in r.assets)
            if method == "GET":
                return self._reply(200, raw=rel.assets[aid]["data"])
            del rel.assets[aid]
            return self._reply(204)
        if method == "POST" and (i := re.fullmatch(r"releases/(\d+)/assets", rest)):
            rel = by_id[int(i[1])]
            data = self._body()
            name = query["name"]
            if any(a["name"] == name for a in rel.assets.values()):
                return self._reply(422, {"message": "already_exists"})
            aid = forge.new_id()
            download = f"/{repo}/releases/download/{urllib.parse.quote(rel.tag)}/{urllib.parse.quote(name)}"
            forge.files[download] = data
            rel.assets[aid] = {
                "id": aid, "name": name, "size": len(data), "data": data, "state": "uploaded",
                "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
                "url": f"{forge.base}/api/v3/repos/{repo}/releases/assets/{aid}",
                "browser_download_url": forge.base + download,
            }  # fmt: skip
            return self._reply(201, self._asset_doc(rel, rel.assets[aid], "github"))
        raise KeyError(path)

    def _gitea(self, method: str, path: str, query: dict[str, str], full: str) -> None:
        forge = self.server.forge
        if not self._authorized("gitea"):
            return self._reply(401, {"message": "token is required"})
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/(.*)", path)
        if not m:
            raise KeyError(path)
        repo, rest = m[1], m[2]
        if repo not in forge.repos:
            raise KeyError(repo)

        def doc(rel: Release) -> dict[str, Any]:
            return {"id": rel.id, "tag_name": rel.tag, "name": rel.tag, "body": rel.body, "draft": rel.draft,
                    "html_url": f"{forge.base}/{repo}/releases/tag/{rel.tag}",
                    "assets": [self._asset_doc(rel, a, "gitea") for a in rel.assets.values()]}  # fmt: skip

        by_id = {r.id: r for r in forge.releases.values() if r.repo == repo}
        if self._releases(method, repo, rest, query, full, doc, "gitea", conflict=409):
            return None
        if method == "DELETE" and (i := re.fullmatch(r"releases/(\d+)/assets/(\d+)", rest)):
            del by_id[int(i[1])].assets[int(i[2])]
            return self._reply(204)
        if method == "POST" and (i := re.fullmatch(r"releases/(\d+)/assets", rest)):
            rel = by_id[int(i[1])]
            data = _multipart_file(self.headers.get("Content-Type", ""), self._body(), "attachment")
            aid = forge.new_id()
            name = query["name"]
            download = f"/{repo}/releases/download/{urllib.parse.quote(rel.tag)}/{urllib.parse.quote(name)}"
            forge.files[download] = data
            rel.assets[aid] = {"id": aid, "name": name, "size": len(data), "data": data,
                               "browser_download_url": forge.base + download}  # fmt: skip
            return self._reply(201, self._asset_doc(rel, rel.assets[aid], "gitea"))
        raise KeyError(path)

    @staticmethod
    def _tags(repo: Path) -> list[str]:
        return subprocess.run(
            ["git", "-C", str(repo), "tag", "--list"], capture_output=True, text=True
        ).stdout.split()

    def _sourcehut(self) -> None:
        """git.sr.ht's GraphQL endpoint, for the three operations libnix sends (JSON or multipart)."""
        forge = self.server.forge
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._reply(401, {"errors": [{"message": "Invalid authorization"}]})
        ctype = self.headers.get("Content-Type", "")
        body = self._body()
        parts = _multipart(ctype, body) if ctype.startswith("multipart/") else {"operations": body}
        op = json.loads(parts["operations"])
        query, var = op["query"], op["variables"]
        repos = {f"{k.split('/')[0]}": k for k in forge.repos}
        if "uploadArtifact" in query:
            name = next(iter(repos.values()))
            tag = var["revspec"].removeprefix("refs/tags/")
            if tag not in self._tags(forge.repos[name]):
                return self._reply(200, {"errors": [{"message": f"revspec {tag} does not match a tag"}]})
            rel = forge.releases.setdefault((name, tag), Release(forge.new_id(), name, tag, ""))
            data = parts["0"]
            filename = _multipart_filename(ctype, body, "0")
            if any(a["filename"] == filename for a in rel.assets.values()):
                return self._reply(
                    200, {"errors": [{"message": "An artifact with this filename already exists"}]}
                )
            aid = forge.new_id()
            rel.assets[aid] = {"id": aid, "filename": filename, "name": filename, "size": len(data),
                               "data": data, "checksum": "sha256:" + hashlib.sha256(data).hexdigest(),
                               "url": f"{forge.base}/query/artifact/{aid}"}  # fmt: skip
            return self._reply(
                200, {"data": {"uploadArtifact": self._asset_doc(rel, rel.assets[aid], "srht")}}
            )
        if "deleteArtifact" in query:
            for rel in forge.releases.values():
                rel.assets.pop(var["id"], None)
            return self._reply(200, {"data": {"deleteArtifact": {"id": var["id"]}}})
        name = repos.get(var["owner"])
        if name is None or name.split("/")[1] != var["name"]:
            return self._reply(200, {"data": {"user": None}})
        tags = self._tags(forge.repos[name])
        start = int(var.get("cursor") or 0)
        page = tags[start : start + PAGE]

        def artifacts(tag: str) -> list[dict[str, Any]]:
            rel = forge.releases.get((name, tag))
            return [self._asset_doc(rel, a, "srht") for a in rel.assets.values()] if rel else []

        refs = [{"name": f"refs/tags/{t}", "artifacts": {"results": artifacts(t)}} for t in page]
        cursor = str(start + PAGE) if start + PAGE < len(tags) else None
        repo = {"id": 42, "references": {"cursor": cursor, "results": refs}}
        return self._reply(200, {"data": {"user": {"repository": repo}}})

    def _gitlab(self, method: str, path: str, query: dict[str, str], full: str) -> None:
        forge = self.server.forge
        if not self._authorized("gitlab"):
            return self._reply(401, {"message": "401 Unauthorized"})
        m = re.fullmatch(r"/projects/([^/]+)/(.*)", path)
        if not m:
            raise KeyError(path)
        repo, rest = urllib.parse.unquote(m[1]), m[2]
        if repo not in forge.repos:
            raise KeyError(repo)

        def doc(rel: Release) -> dict[str, Any]:
            return {"tag_name": rel.tag, "name": rel.tag, "description": rel.body,
                    "_links": {"self": f"{forge.base}/{repo}/-/releases/{rel.tag}"}}  # fmt: skip

        if re.fullmatch(r"packages/generic/[^/]+/[^/]+/[^/]+", rest) and method in ("PUT", "GET"):
            key = f"/api/v4/projects/{m[1]}/{rest}"
            if method == "PUT":
                forge.files[key] = self._body()
                return self._reply(201, {"message": "201 Created"})
            return self._reply(200, raw=forge.files[key])
        if method == "POST" and rest == "releases":
            req = json.loads(self._body())
            if (repo, req["tag_name"]) in forge.releases:
                return self._reply(409, {"message": "Release already exists"})
            rel = Release(forge.new_id(), repo, req["tag_name"], req.get("description") or "")
            forge.releases[(repo, rel.tag)] = rel
            return self._reply(201, doc(rel))
        t = re.fullmatch(r"releases/([^/]+)(/assets/links(?:/(\d+))?)?", rest)
        if not t:
            raise KeyError(path)
        rel = forge.releases[(repo, urllib.parse.unquote(t[1]))]
        if t[2] is None:
            if method == "GET":
                return self._reply(200, doc(rel))
            if method == "PUT":
                rel.body = json.loads(self._body()).get("description", rel.body)
                return self._reply(200, doc(rel))
        elif t[3] is None and method == "GET":
            return self._page(list(rel.assets.values()), query, full)
        elif t[3] is None and method == "POST":
            req = json.loads(self._body())
            path_ = req.get("direct_asset_path") or req.get("filepath") or ""
            if path_ and (not FILEPATH_REGEX.match(path_) or len(path_) > 128):
                return self._reply(400, {"message": ["Filepath is in an invalid format"]})
            lid = forge.new_id()
            direct = f"{forge.base}/{repo}/-/releases/{rel.tag}/downloads{req.get('direct_asset_path', '')}"
            rel.assets[lid] = {"id": lid, "name": req["name"], "url": req["url"], "direct_asset_url": direct,
                               "direct_asset_path": path_}  # fmt: skip
            return self._reply(201, rel.assets[lid])
        elif method == "DELETE":
            del rel.assets[int(t[3])]
            return self._reply(200, {})
        raise KeyError(path)


def _multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    msg = email.parser.BytesParser().parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    return {
        part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
        for part in msg.get_payload()  # type: ignore[union-attr]
    }


def _multipart_filename(content_type: str, body: bytes, field_name: str) -> str:
    msg = email.parser.BytesParser().parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    for part in msg.get_payload():  # type: ignore[union-attr]
        if part.get_param("name", header="content-disposition") == field_name:
            return str(part.get_filename())
    raise KeyError(field_name)


def _multipart_file(content_type: str, body: bytes, field_name: str) -> bytes:
    msg = email.parser.BytesParser().parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    for part in msg.get_payload():  # type: ignore[union-attr]
        if part.get_param("name", header="content-disposition") == field_name:
            return part.get_payload(decode=True)  # type: ignore[no-any-return]
    raise KeyError(field_name)


class Server(http.server.ThreadingHTTPServer):
    forge: Forge


def start() -> tuple[Server, Forge]:
    forge = Forge()
    server = Server(("127.0.0.1", 0), Handler)
    server.forge = forge
    forge.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, forge
