"""`libnix release --tag T`: export a pinned, IFD-free build system from a tag.

Everything is produced in a staging directory beside the outputs and moved into place only when every
check has passed (`export`); a tag this run created is deleted again if the run fails, and the worktree is
always removed. So a failed or interrupted release leaves the repository as it found it. This module
orchestrates: what the tag releases (`target`), its tarball's hash, the export, publishing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaffold.buildsystem import findings, layout, pins
from scaffold.errors import HashMismatch, UserError
from scaffold.forge import Forge
from scaffold.git import repo as gitrepo
from scaffold.git import roots
from scaffold.hashing.download import Progress
from scaffold.hashing.nixhash import Sha256
from scaffold.hashing.sources import file_sha256, hash_git, hash_url
from scaffold.release import export, generator, manifests, snippets, target
from scaffold.release.outputs import Outputs
from scaffold.release.result import ReleaseResult

Log = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class ReleaseOptions:
    tag: str
    repo: str = "."
    create_tag: bool = False
    message: str | None = None
    url: str | None = None
    forge: str | None = None
    from_dir: str | None = None
    cargo: str | None = None
    out_dir: str | None = None
    force: bool = False
    dry_run: bool = False
    verify_remote: bool = False
    no_worktree: bool = False
    push: bool = False
    publish: bool = False
    keep_ifd: bool = False  # leave cargo (libnix)'s eval-time reads of build-script output as they are
    verify: bool = False  # nix evaluates every consumer form before anything is moved or published
    nixpkgs: str | None = None  # with verify: this nixpkgs in place of the pinned one
    version: str | None = None  # default: the tag's Cargo.toml, else the tag (v1.2.3 -> 1.2.3)


def _in_repo_dir(opts: ReleaseOptions) -> ReleaseOptions:
    """Relative paths mean what they would after `cd DIR`, as with `git -C DIR`."""
    base = Path(opts.repo)

    def at(path: str | None) -> str | None:
        return str(base / path) if path and not os.path.isabs(path) else path

    return dataclasses.replace(opts, from_dir=at(opts.from_dir), out_dir=at(opts.out_dir))


def run(opts: ReleaseOptions, log: Log = lambda _m: None, progress: Progress | None = None) -> ReleaseResult:
    opts = _in_repo_dir(opts)
    at = roots.of(opts.repo)
    project, released = target.project_at(at, opts)
    forge = target.forge_for(str(at.repo), opts, project)
    url = opts.url or (forge.tarball_url(opts.tag) if forge else "")
    outputs = Outputs.of(at.project, opts.out_dir, opts.tag, released.version)
    previous = _before_any_work(opts, forge, outputs)
    # cargo (libnix) is looked for before any work, unless an earlier export may be published as it is
    # (a publishing job of its own has no dev shell); it is looked for then only if that export is stale
    later = opts.from_dir or opts.dry_run or previous is not None
    cargo_bin = None if later else generator.find_cargo(opts.cargo)
    with _tag_of_this_run(opts, str(at.repo), log) as created:
        ref = gitrepo.resolve(str(at.repo), rev="HEAD") if opts.dry_run and opts.create_tag else None
        ref = ref or gitrepo.resolve(str(at.repo), tag=opts.tag)
        tarball = hash_git(ref, listing=True)  # the hash, and what the forge's tarball really holds
        log(f"{opts.tag} ({ref.commit[:12]}): {url}\n  sha256 {tarball.sha256.prefixed}")
        remote_has, flat = _remote(opts, str(at.repo), url, tarball.sha256, log, progress)
        result = ReleaseResult(
            tag=opts.tag, commit=ref.commit, name=released.name, version=released.version,
            version_from=released.version_from, member=released.member, project_dir=at.sub, url=url,
            sha256=tarball.sha256, export_dir=outputs.export, asset=outputs.asset,
            asset_url=forge.asset_url(opts.tag, outputs.asset.name) if forge else None,
            dry_run=opts.dry_run, tag_created=created, remote_has_tag=remote_has,
        )  # fmt: skip
        if opts.dry_run:
            result.crates_moved, result.crates_from = export.crates_to_move(opts, ref, at)
            return result
        if previous is not None and previous.get("commit") == ref.commit:
            export.reuse(result, previous, outputs, log)
            if opts.verify:
                export.evaluate(outputs.export, opts, result, findings.Report(), log)
        else:
            if cargo_bin is None and not opts.from_dir:  # a dry run has returned already
                cargo_bin = generator.find_cargo(opts.cargo)
            step = export.Export(opts, ref, at, released, pins.Pin(url, tarball.sha256), result, outputs, log,
                                 cargo_bin, tarball.paths, flat)  # fmt: skip
            step.run()
        if opts.publish:
            assert forge is not None
            _publish(forge, opts, outputs, result, log)
        return result


def _before_any_work(opts: ReleaseOptions, forge: Forge | None, outputs: Outputs) -> dict[str, Any] | None:
    """What must hold before anything is made: a forge and its token to publish, no output in the way
    (unless an earlier complete run of this tag is published again), a build system at --from. Returns
    that earlier run's manifest, if any."""
    if opts.from_dir and Path(opts.from_dir).resolve() == outputs.export.resolve():
        raise UserError(
            f"--from {opts.from_dir} is the directory the export is written to: generate into another "
            "(write-nix-buildsystem --out-dir DIR, or target/release/nix), or pass --out-dir"
        )
    if opts.publish:
        if forge is None:
            raise UserError("--publish needs the forge: an origin remote libnix recognises, or --forge")
        forge.token()  # a missing token stops the run before any work
    complete = all(p.exists() for p in outputs.all)
    previous = None
    if complete and opts.publish and not opts.force:
        previous = manifests.read_release(outputs.release_json, opts.tag)
    if not opts.force and not opts.dry_run and previous is None:
        clash = [p for p in outputs.all if p.exists()]
        if clash:
            raise UserError(f"{clash[0]} exists: pass --force to replace it")
    if opts.from_dir:
        layout.validate_layout(Path(opts.from_dir))
    return previous


@contextlib.contextmanager
def _tag_of_this_run(opts: ReleaseOptions, repo: str, log: Log) -> Iterator[bool]:
    """With --create-tag, an annotated tag at HEAD, deleted again if the run fails (error or Ctrl-C).
    Yields whether this run created it."""
    created = False
    if opts.create_tag:
        if gitrepo.tag_exists(repo, opts.tag):
            raise UserError(f"tag {opts.tag!r} exists already: drop --create-tag to release it")
        if gitrepo.head_commit(repo) is None:
            raise UserError("no commit to tag: commit first")
        if not opts.dry_run:
            gitrepo.create_tag(repo, opts.tag, opts.message or f"Release {opts.tag}")
            created = True
            log(f"created annotated tag {opts.tag} at HEAD")
    try:
        yield created
    except BaseException:
        if created:
            gitrepo.delete_tag(repo, opts.tag)
        raise


def _remote(
    opts: ReleaseOptions, repo: str, url: str, sha: Sha256, log: Log, progress: Progress | None
) -> tuple[bool | None, Sha256 | None]:
    """--push pushes the tag; --verify-remote says whether origin has it and compares the forge's own
    tarball with the hash of `git archive`. Returns whether origin has the tag, when known, and the
    tarball file's own sha256 when libnix has the file (downloaded, or a file:// URL)."""
    remote_has = None
    local = url.removeprefix("file://") if url.startswith("file://") else ""
    flat = file_sha256(local) if local and os.path.isfile(local) and not opts.dry_run else None
    if opts.push and not opts.dry_run:
        gitrepo.push_tag(repo, opts.tag)
        remote_has = True
    elif opts.verify_remote:
        remote_has = gitrepo.remote_has_tag(repo, opts.tag)
        if remote_has is False:
            log(f"note: origin lacks {opts.tag}: push it (--push) before consumers fetch {url}")
    if opts.verify_remote:
        downloaded = hash_url(url, progress)
        remote, flat = downloaded.sha256, downloaded.flat
        if remote != sha:
            raise HashMismatch(
                f"the forge's tarball of {opts.tag} hashes to {remote.prefixed}, not {sha.prefixed} as "
                "`git archive` does: likely export-subst (the forge expands it differently), Git LFS "
                "files (the forge serves pointers or content) or submodules"
            )
        log("remote tarball verified: same hash")
    return remote_has, flat


def _publish(forge: Forge, opts: ReleaseOptions, outputs: Outputs, result: ReleaseResult, log: Log) -> None:
    asset = outputs.asset
    log(f"publishing {asset.name} to the {forge.kind} release {opts.tag}")
    notes = outputs.snippets.read_text() if outputs.snippets.exists() else snippets.markdown(result)
    result.published = forge.publish(opts.tag, asset, notes, force=opts.force)
    done = result.published
    if done.cleaned:
        log(f"deleted {done.cleaned} unfinished upload(s) of {asset.name} that a failed run left")
    if done.draft:
        log(f"the release {opts.tag} is a draft: {asset.name} is on it, public once it is published")
