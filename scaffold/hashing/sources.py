"""`libnix hash`: the fetchTarball hash of a directory, a tarball, a URL or a git ref.

The path of `hash --tag` imports only what it uses, and no dataclasses, typing, subprocess or
tempfile: a Python process starts in about half of nix-prefetch-url's whole run on a small tarball, so
every import shows (benchmarks/hash.py prints the ratio).
"""

from __future__ import annotations

import os

from scaffold.errors import HashMismatch, UserError
from scaffold.git import repo as gitrepo
from scaffold.hashing import archive
from scaffold.hashing.nar import NarBuilder, NarStats, OrderViolation
from scaffold.hashing.nixhash import Sha256, parse_sha256

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any

    from scaffold.hashing.download import Progress


class HashOptions:
    __slots__ = ("expect", "repo", "rev", "source", "tag")

    def __init__(
        self,
        *,
        source: str | None = None,
        tag: str | None = None,
        rev: str | None = None,
        repo: str = ".",
        expect: str | None = None,
    ) -> None:
        self.source, self.tag, self.rev, self.repo, self.expect = source, tag, rev, repo, expect


class HashResult:
    __slots__ = ("commit", "flat", "kind", "paths", "sha256", "source", "stats")

    def __init__(
        self,
        source: str,
        kind: str,  # directory, tarball, url, git
        sha256: Sha256,
        stats: NarStats,
        commit: str | None = None,
        paths: frozenset[str] | None = None,  # with `listing`: every path the archive holds ("a/b")
    ) -> None:
        self.source, self.kind, self.sha256, self.stats = source, kind, sha256, stats
        self.commit, self.paths = commit, paths
        self.flat: Sha256 | None = None  # a downloaded file's own sha256 (nix-prefetch-url without --unpack)

    def as_json(self) -> dict[str, object]:
        doc: dict[str, object] = {"source": self.source, "kind": self.kind, **self.sha256.as_dict()}
        if self.commit:
            doc["commit"] = self.commit
        doc.update(self.stats.as_dict())
        return doc


def run(opts: HashOptions, progress: Progress | None = None) -> HashResult:
    expected = parse_sha256(opts.expect) if opts.expect else None  # bad input fails before any work
    result = compute(opts, progress)
    if expected is not None and expected != result.sha256:
        raise HashMismatch(
            f"hash mismatch for {result.source}: expected {expected.prefixed}, got {result.sha256.prefixed}"
        )
    return result


def compute(opts: HashOptions, progress: Progress | None = None) -> HashResult:
    if opts.tag is not None or opts.rev is not None:
        if opts.source is not None:
            raise UserError("give either SOURCE or --tag/--rev, not both")
        return hash_git(gitrepo.resolve(opts.repo, tag=opts.tag, rev=opts.rev))
    if opts.source is None:
        raise UserError("nothing to hash: give a directory, tarball, URL, --tag or --rev")
    src = opts.source
    import urllib.parse  # not for a git ref: `hash --tag` pays no import it does not use

    scheme = urllib.parse.urlsplit(src).scheme
    if scheme == "file":
        path = urllib.parse.unquote(urllib.parse.urlsplit(src).path)
        return _relabel(hash_tarball(path), src, "url")
    if scheme in ("http", "https"):
        return hash_url(src, progress)
    if "://" in src:
        raise UserError(f"unsupported URL scheme in {src!r} (http, https and file are)")
    if os.path.isdir(src) and os.path.islink(src.rstrip("/") or "/"):
        raise UserError(
            f"{src} is a symlink to a directory: nix-hash hashes the link itself; give the directory "
            f"({os.path.realpath(src)}) to hash what it holds"
        )
    if os.path.isdir(src):
        return hash_directory(src)
    if os.path.exists(src):
        return hash_tarball(src)
    raise UserError(f"{src}: no such file or directory")


def _relabel(result: HashResult, source: str, kind: str) -> HashResult:
    return HashResult(source, kind, result.sha256, result.stats, result.commit)


def hash_directory(path: str) -> HashResult:
    builder = NarBuilder(strip_top=False)
    archive.feed_directory(builder, path)
    digest, stats = builder.finish()
    return HashResult(path, "directory", Sha256(digest), stats)


def _hash_feeder(feed: archive.Feeder, *, strip_top: bool, **kw: Any) -> tuple[Sha256, NarStats]:
    """Stream first; an archive whose order breaks streaming is read again holding every file."""
    try:
        builder = NarBuilder(strip_top=strip_top, **kw)
        feed(builder)
    except OrderViolation:
        builder = NarBuilder(strip_top=strip_top, eager=False)
        feed(builder)
    digest, stats = builder.finish()
    return Sha256(digest), stats


def hash_tarball(path: str) -> HashResult:
    if os.path.isdir(path):
        raise UserError(f"{path} is a directory, not a tarball")
    if not os.path.exists(path):
        raise UserError(f"{path}: no such file")
    sha, stats = _hash_feeder(archive.tarball_feeder(path), strip_top=True)
    return HashResult(path, "tarball", sha, stats)


def hash_url(url: str, progress: Progress | None = None) -> HashResult:
    import tempfile

    from scaffold.hashing.download import download

    with tempfile.NamedTemporaryFile(prefix="libnix-download-") as tmp:
        download(url, tmp, progress)
        tmp.flush()
        try:
            result = hash_tarball(tmp.name)
        except UserError as exc:  # about the URL the user gave, not a temporary file
            with open(tmp.name, "rb") as fh:
                head = fh.read(512).lstrip().lower()
            if head.startswith((b"<!doctype html", b"<html")):
                raise UserError(
                    f"{url} is a web page, not an archive (a login page, or a wrong URL?)"
                ) from None
            raise UserError(str(exc).replace(f"tarball {tmp.name}", url).replace(tmp.name, url)) from None
        relabelled = _relabel(result, url, "url")
        relabelled.flat = file_sha256(tmp.name)
    return relabelled


def file_sha256(path: str) -> Sha256:
    """The flat hash of a file, as `nix-prefetch-url` without `--unpack` and `pkgs.fetchurl` check it."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return Sha256(digest.digest())


class _Listing:
    """A builder that also keeps the path of every entry: what the tarball really holds (a file
    `export-ignore` leaves out is in git's tree, not in the archive)."""

    def __init__(self, builder: NarBuilder, paths: set[str]) -> None:
        self._builder, self._paths = builder, paths

    def _note(self, parts: tuple[bytes, ...]) -> None:
        for depth in range(1, len(parts) + 1):
            self._paths.add(b"/".join(parts[:depth]).decode("utf-8", "surrogateescape"))

    def add_dir(self, parts: tuple[bytes, ...]) -> None:
        self._note(parts)
        self._builder.add_dir(parts)

    def add_symlink(self, parts: tuple[bytes, ...], target: bytes) -> None:
        self._note(parts)
        self._builder.add_symlink(parts, target)

    def add_file(self, parts: tuple[bytes, ...], size: int, executable: bool, reader: IO[bytes]) -> None:
        self._note(parts)
        self._builder.add_file(parts, size, executable, reader)

    def add_hardlink(self, parts: tuple[bytes, ...], target: tuple[bytes, ...]) -> None:
        self._note(parts)
        self._builder.add_hardlink(parts, target)


def hash_git(ref: gitrepo.Ref, *, listing: bool = False) -> HashResult:
    dirs: set[bytes] | None = None  # the tree's directories, read once
    paths: set[str] = set()

    def is_dir(parent: bytes, name: bytes) -> bool:
        return dirs is not None and (parent + b"/" + name if parent else name) in dirs

    def feed(builder: NarBuilder) -> None:
        nonlocal dirs
        paths.clear()  # a second pass (an order streaming cannot take) lists again
        target = _Listing(builder, paths) if listing else builder
        with gitrepo.archive_stream(ref) as stream:
            if dirs is None:  # read while git archive starts: the two git processes run side by side
                dirs = gitrepo.tree_dirs(ref)
            archive.feed_tar_stream(target, stream, f"git archive of {ref.label}")  # type: ignore[arg-type]  # _Listing forwards to a NarBuilder

    sha, stats = _hash_feeder(feed, strip_top=False, is_dir=is_dir)
    return HashResult(ref.label, "git", sha, stats, ref.commit, frozenset(paths) if listing else None)
