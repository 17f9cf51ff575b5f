"""`libnix check --online`: ask every URL an export fetches the way nix's fetchers ask for it.

Evaluation proves an export is well formed; only the network proves a consumer can download what it
names. crates.io, for one, answers 403 on its API download endpoint to any agent that starts with
`curl/`, which is what nixpkgs' fetchurl sends, while a browser or `requests` gets the file: so each URL
is asked with the agent of the fetcher that will fetch it (nixpkgs' `curl/V Nixpkgs/R` for `pkgs.fetch*`,
nix's own `curl/V Nix/V` for `builtins.fetch*`, git's for a git source), with a HEAD, or a one-byte GET
where HEAD itself is refused (405, 501). 5xx and broken connections are retried; nothing else is.
With `download`, each file is fetched whole and hashed as nix would check it: the flat sha256 of a
fetchurl, the NAR hash of a fetchTarball's unpacked tree.

Where LIBNIX_INSTEAD_OF says so, a URL is asked for elsewhere (`download.asked_at`); the answer
names both.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from scaffold.buildsystem.layout import nix_files, parse
from scaffold.errors import UserError
from scaffold.hashing.download import asked_at, short_error
from scaffold.hashing.nixhash import Sha256, parse_sha256
from scaffold.nix import syntax as ns

if TYPE_CHECKING:
    import requests

# what nixpkgs' fetchurl (pkgs/build-support/fetchurl/builder.sh: `curl/$curlVersion Nixpkgs/$nixpkgsVersion`)
# and nix's builtin fetchers (libstore/filetransfer.cc: `curl/$curlVersion Nix/$nixVersion`) send
NIXPKGS_AGENT = "curl/8.14.1 Nixpkgs/26.05"
NIX_AGENT = "curl/8.14.1 Nix/2.28.4"
GIT_AGENT = "git/2.49.0"
TIMEOUT = (10, 30)
TRIES = 3
WORKERS = 8

_UNPACKED = {"fetchTarball", "fetchzip", "fetchFromGitHub"}
_FETCHERS = {"fetchurl", "fetchTarball", "fetchzip", "fetchFromGitHub", "fetchgit"}


@dataclass(frozen=True)
class Fetch:
    """One URL the export fetches, as the first place that names it fetches it."""

    url: str
    fetcher: str  # `pkgs.fetchurl`, `builtins.fetchTarball`, …, as written
    sha256: str | None  # the hash as written, when there is one
    where: str  # file:line

    @property
    def unpacked(self) -> bool:
        return ns.last_name(self.fetcher) in _UNPACKED

    @property
    def git(self) -> bool:
        return ns.last_name(self.fetcher) == "fetchgit"

    @property
    def agent(self) -> str:
        if self.git:
            return GIT_AGENT
        return NIX_AGENT if self.fetcher.startswith("builtins.") else NIXPKGS_AGENT


@dataclass
class Answer:
    fetch: Fetch
    status: int | None = None  # the HTTP status of the last try
    error: str | None = None  # why the URL cannot be fetched, if it cannot
    verified: bool | None = None  # with download: whether the hash matched

    @property
    def refused(self) -> bool:
        return self.status is not None and self.status >= 400

    @property
    def unreachable(self) -> bool:
        """The network failed (no answer, or 5xx after the retries), not the URL: exit code 3."""
        return self.status is None or self.status >= 500

    def as_json(self) -> dict[str, object]:
        return {"url": self.fetch.url, "asked": asked_at(self.fetch.url), "fetcher": self.fetch.fetcher,
                "where": self.fetch.where, "agent": self.fetch.agent, "status": self.status,
                "error": self.error, "verified": self.verified}  # fmt: skip


def fetches(root: Path) -> list[Fetch]:
    """Every distinct URL the build system's fetchers name, in file order."""
    seen: dict[str, Fetch] = {}
    for path in nix_files(root):
        rel = path.relative_to(root).as_posix()
        src = parse(rel, path.read_bytes())  # the parse the checks made already
        for node in src.applications():
            name, args = ns.call(src, node)
            if ns.last_name(name) not in _FETCHERS or len(args) != 1 or name is None:
                continue
            attrs = ns.plain_attrs(src, args[0])
            url = _url(ns.last_name(name), attrs or {})
            if url is None or url in seen:
                continue
            digest = (attrs or {}).get("sha256") or (attrs or {}).get("hash")
            seen[url] = Fetch(url, name, digest, f"{rel}:{src.line(node)}")
    return list(seen.values())


def _url(fetcher: str, attrs: dict[str, str]) -> str | None:
    if fetcher == "fetchFromGitHub" and {"owner", "repo", "rev"} <= set(attrs):
        return f"https://github.com/{attrs['owner']}/{attrs['repo']}/archive/{attrs['rev']}.tar.gz"
    url = attrs.get("url")
    return url if url and url.startswith(("http://", "https://")) else None


def ask_all(
    wanted: list[Fetch], download: bool = False, progress: Callable[[int, int | None], None] | None = None
) -> list[Answer]:
    """Ask every URL, a few at a time; the answers in the order of `wanted`."""
    import requests

    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=WORKERS)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    done = 0
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(ask, session, f, download) for f in wanted]
        for _ in concurrent.futures.as_completed(futures):
            done += 1
            if progress:
                progress(done, len(wanted))
    return [f.result() for f in futures]


def ask(session: requests.Session, fetch: Fetch, download: bool = False) -> Answer:
    """One URL, as its fetcher asks for it; 5xx and connection errors are tried again."""
    import requests

    answer = Answer(fetch)
    for attempt in range(TRIES):
        if attempt:
            time.sleep(0.3 * attempt)
        try:
            answer.status, answer.error = _once(session, fetch, download, answer)
        except requests.exceptions.RequestException as exc:
            answer.status, answer.error = None, short_error(exc)
            continue
        if answer.status is None or answer.status < 500:
            break
    return answer


def _once(session: requests.Session, fetch: Fetch, download: bool, answer: Answer) -> tuple[int, str | None]:
    headers = {"User-Agent": fetch.agent}
    url = asked_at(fetch.url)
    if fetch.git:  # what git's smart HTTP asks first
        url = url.rstrip("/") + "/info/refs?service=git-upload-pack"
    if download and not fetch.git:
        with session.get(url, headers=headers, stream=True, timeout=TIMEOUT) as resp:
            if resp.status_code >= 400:
                return resp.status_code, f"HTTP {resp.status_code}"
            answer.verified, problem = _check_hash(fetch, resp)
            return resp.status_code, problem
    resp = session.head(url, headers=headers, timeout=TIMEOUT, allow_redirects=True)
    if resp.status_code in (405, 501):  # HEAD itself refused: the first byte is enough
        with session.get(url, headers={**headers, "Range": "bytes=0-0"}, stream=True, timeout=TIMEOUT,
                         allow_redirects=True) as got:  # fmt: skip
            resp = got
    return resp.status_code, (f"HTTP {resp.status_code}" if resp.status_code >= 400 else None)


def _check_hash(fetch: Fetch, resp: requests.Response) -> tuple[bool | None, str | None]:
    """Whether the body is what the export pins, hashed as nix checks it."""
    from scaffold.hashing.sources import hash_tarball

    if not fetch.sha256:
        return None, None
    try:
        pinned = parse_sha256(fetch.sha256)
    except UserError:
        return False, f"malformed sha256 {fetch.sha256!r}"
    if not fetch.unpacked:  # fetchurl: the flat hash of the bytes, taken as they arrive
        flat = hashlib.sha256()
        for chunk in resp.iter_content(1 << 20):
            flat.update(chunk)
        got = Sha256(flat.digest())
    else:  # an archive: the NAR hash of what it unpacks to, read from a spool
        with tempfile.NamedTemporaryFile(prefix="libnix-online-") as tmp:
            for chunk in resp.iter_content(1 << 20):
                tmp.write(chunk)
            tmp.flush()
            try:
                got = hash_tarball(tmp.name).sha256
            except UserError as exc:
                return False, f"not an archive nix can unpack: {str(exc).replace(tmp.name, fetch.url)}"
    if got != pinned:
        return False, f"hash mismatch: pinned {pinned.prefixed}, the download is {got.prefixed}"
    return True, None
