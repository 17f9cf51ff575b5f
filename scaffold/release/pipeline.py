"""`libnix release --tag T`: export a pinned, IFD-free build system from a tag.

Everything is produced in a staging directory beside the outputs and moved into place only when every
check has passed; a tag this run created is deleted again if the run fails, and the worktree is always
removed. So a failed or interrupted release leaves the repository as it found it.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaffold import names
from scaffold.buildsystem import (
    check,
    consumer_flake,
    crates_io,
    findings,
    layout,
    online,
    pins,
    rewrite,
    verify,
)
from scaffold.errors import HashMismatch, NetworkError, UserError
from scaffold.forge import Forge, detect
from scaffold.git import repo as gitrepo
from scaffold.git import roots
from scaffold.hashing.download import Progress
from scaffold.hashing.nixhash import Sha256, nix32_decode
from scaffold.hashing.sources import hash_directory, hash_git, hash_url
from scaffold.init import answers
from scaffold.project import flake_lock, manifest
from scaffold.release import asset as packing_asset
from scaffold.release import generator, manifests, snippets, tags
from scaffold.release.result import ReleaseResult

Log = Callable[[str], None]


@dataclass(frozen=True)
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


def _forge_for(repo: str, opts: ReleaseOptions, project: manifest.Project) -> Forge | None:
    kind = opts.forge or project.metadata.get("forge")
    origin = gitrepo.remote_url(repo)
    if origin is None:
        if opts.url:
            return None
        raise UserError("no `origin` remote to derive the tarball URL from: add one or pass --url URL")
    try:
        return detect(origin, kind)
    except UserError:
        if opts.url:
            return None  # the URL is given; the forge only names the asset's URL
        raise


def _project_at(at: roots.Roots, opts: ReleaseOptions) -> tuple[manifest.Project, tags.Released]:
    """Cargo.toml as the tag has it (the checkout may be a branch whose version moved on), and what
    the tag releases: the project, or the workspace member it names."""
    repo = str(at.repo)
    if gitrepo.tag_exists(repo, opts.tag):
        rev, where = f"refs/tags/{opts.tag}", opts.tag
    elif opts.create_tag:
        rev, where = "HEAD", "HEAD"
    else:
        raise UserError(
            f"no tag {opts.tag!r} in {repo} (git tag --list shows the tags; --create-tag makes it)"
        )

    def show(rel: str) -> str | None:
        shown = gitrepo.git(repo, "show", f"{rev}:{at.in_repo(rel)}", check=False)
        return shown.stdout.decode("utf-8", "replace") if shown.returncode == 0 else None

    text = show("Cargo.toml")
    if text is None:
        raise UserError(f"no Cargo.toml in {where}{_elsewhere(repo, rev, at)}")
    doc = manifest.parse_toml(text, f"{where}:{at.in_repo('Cargo.toml')}")
    project = manifest.project_from(at.project, doc)
    ws_version = ((doc.get("workspace") or {}).get("package") or {}).get("version")
    members: dict[str, tuple[str, str | None]] = {}
    member_binaries: dict[str, list[str]] = {}
    for member in project.members:
        member_text = show(f"{member}/Cargo.toml")
        if member_text is None:
            continue
        member_doc = manifest.parse_toml(member_text, f"{where}:{at.in_repo(member)}/Cargo.toml")
        name, version = tags.member_version(member_doc, ws_version)
        if name:
            members[member] = (name, version)
            member_binaries[member] = manifest.binaries(at.project / member, member_doc)
    released = tags.released(opts.tag, project, members, member_binaries, explicit=opts.version, where=where)
    return project, released


def _elsewhere(repo: str, rev: str, at: roots.Roots) -> str:
    """Where a Cargo.toml is, when the directory libnix runs in has none: the way to say -C DIR."""
    listed = gitrepo.git(repo, "ls-tree", "-r", "--name-only", rev, check=False).stdout.decode()
    found = sorted(p for p in listed.splitlines() if p.endswith("/Cargo.toml") and p.count("/") == 1)
    here = f" {at.sub}/" if at.sub else ""
    if found and not at.sub:
        return f": the Rust project is in {found[0].rsplit('/', 1)[0]}/ (run there, or pass -C DIR)"
    return f"{here}: libnix works on a Rust crate or workspace (run in the directory of its Cargo.toml)"


def _outputs(project: Path, opts: ReleaseOptions, version: str) -> tuple[Path, Path, Path, Path]:
    name = f"libnix-{version}+{opts.tag}".replace("/", "-")
    export = Path(opts.out_dir).resolve() if opts.out_dir else project / name
    base = export.name
    return (
        export,
        export.with_name(base + ".tar.bz2"),
        export.with_name(base + ".release.json"),
        export.with_name(base + ".snippets.md"),
    )


def _in_repo_dir(opts: ReleaseOptions) -> ReleaseOptions:
    """Relative paths mean what they would after `cd DIR`, as with `git -C DIR`."""
    base = Path(opts.repo)

    def at(path: str | None) -> str | None:
        return str(base / path) if path and not os.path.isabs(path) else path

    return dataclasses.replace(opts, from_dir=at(opts.from_dir), out_dir=at(opts.out_dir))


def run(opts: ReleaseOptions, log: Log = lambda _m: None, progress: Progress | None = None) -> ReleaseResult:
    opts = _in_repo_dir(opts)
    at = roots.of(opts.repo)
    repo = str(at.repo)
    project, released = _project_at(at, opts)
    version = released.version
    forge = _forge_for(repo, opts, project)
    url = opts.url or (forge.tarball_url(opts.tag) if forge else "")
    outputs = _outputs(at.project, opts, version)
    export, asset = outputs[0], outputs[1]
    if opts.publish:
        if forge is None:
            raise UserError("--publish needs the forge: an origin remote libnix recognises, or --forge")
        forge.token()  # a missing token stops the run before any work
    complete = all(p.exists() for p in outputs)
    previous = (
        manifests.read_release(outputs[2], opts.tag) if complete and opts.publish and not opts.force else None
    )
    if not opts.force and not opts.dry_run and previous is None:
        clash = [p for p in outputs if p.exists()]
        if clash:
            raise UserError(f"{clash[0]} exists: pass --force to replace it")
    if opts.from_dir:
        layout.validate_layout(Path(opts.from_dir))
    cargo_bin = None if (opts.from_dir or opts.dry_run) else generator.find_cargo(opts.cargo)

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
        if opts.dry_run and created is False and opts.create_tag:
            ref = gitrepo.resolve(repo, rev="HEAD")
        else:
            ref = gitrepo.resolve(repo, tag=opts.tag)
        tarball = hash_git(ref, listing=True)  # the hash, and what the forge's tarball really holds
        sha = tarball.sha256
        log(f"{opts.tag} ({ref.commit[:12]}): {url}\n  sha256 {sha.prefixed}")
        remote_has = None
        if opts.push and not opts.dry_run:
            gitrepo.push_tag(repo, opts.tag)
            remote_has = True
        elif opts.verify_remote:
            remote_has = gitrepo.remote_has_tag(repo, opts.tag)
            if remote_has is False:
                log(f"note: origin lacks {opts.tag}: push it (--push) before consumers fetch {url}")
        if opts.verify_remote:
            remote = hash_url(url, progress).sha256
            if remote != sha:
                raise HashMismatch(
                    f"the forge's tarball of {opts.tag} hashes to {remote.prefixed}, not {sha.prefixed} as "
                    "`git archive` does: likely export-subst (the forge expands it differently), Git LFS "
                    "files (the forge serves pointers or content) or submodules"
                )
            log("remote tarball verified: same hash")
        pin = pins.Pin(url, sha)
        asset_url = forge.asset_url(opts.tag, asset.name) if forge else None
        result = ReleaseResult(
            tag=opts.tag,
            commit=ref.commit,
            name=released.name,
            version=version,
            version_from=released.version_from,
            member=released.member,
            project_dir=at.sub,
            url=url,
            sha256=sha,
            export_dir=export,
            asset=asset,
            asset_url=asset_url,
            dry_run=opts.dry_run,
            tag_created=created,
            remote_has_tag=remote_has,
        )
        if opts.dry_run:
            result.crates_moved, result.crates_from = _crates_to_move(opts, ref, at)
            return result
        if previous is not None and previous.get("commit") == ref.commit:
            _reuse(result, previous, outputs, log)
            if opts.verify:
                _verify(export, opts, result, findings.Report(), log)
        else:
            _export(opts, ref, at, released, pin, result, cargo_bin, outputs, log, tarball.paths)
        if opts.publish:
            assert forge is not None
            log(f"publishing {asset.name} to the {forge.kind} release {opts.tag}")
            notes = outputs[3].read_text() if outputs[3].exists() else snippets.markdown(result)
            result.published = forge.publish(opts.tag, asset, notes, force=opts.force)
            done = result.published
            if done.cleaned:
                log(f"deleted {done.cleaned} unfinished upload(s) of {asset.name} that a failed run left")
            if done.draft:
                log(f"the release {opts.tag} is a draft: {asset.name} is on it, public once it is published")
        return result
    except BaseException:
        if created:
            gitrepo.delete_tag(repo, opts.tag)
        raise


def _reuse(result: ReleaseResult, previous: dict[str, Any], outputs: tuple[Path, ...], log: Log) -> None:
    """Publishing again what an earlier run exported (an interrupted upload): nothing is rebuilt."""
    log(f"{outputs[0].name} of this commit exists: publishing it as it is")
    asset = previous.get("asset") or {}
    digest = ((asset.get("hash") or {}) if isinstance(asset, dict) else {}).get("nix32")
    result.asset_sha256 = Sha256(nix32_decode(str(digest))) if digest else None
    result.attributes = list(previous.get("attributes") or [])
    result.binaries = dict(previous.get("binaries") or {})
    result.systems = list(previous.get("systems") or [])
    cache = previous.get("binary_cache")
    if isinstance(cache, dict) and cache.get("url"):
        result.binary_cache = (str(cache["url"]), str(cache.get("public_key") or ""))
    result.entry = str(previous.get("entry") or result.entry)
    result.snippets = snippets.render(result)
    result.reused = True


def _export(
    opts: ReleaseOptions,
    ref: gitrepo.Ref,
    at: roots.Roots,
    released: tags.Released,
    pin: pins.Pin,
    result: ReleaseResult,
    cargo_bin: str | None,
    outputs: tuple[Path, Path, Path, Path],
    log: Log,
    in_tarball: frozenset[str] | None,
) -> None:
    export, asset, release_json, snippet_file = outputs
    export.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".libnix-staging-", dir=export.parent))
    try:
        staged = staging / export.name
        if opts.from_dir:
            src = Path(opts.from_dir).resolve()
            try:
                shutil.copytree(src, staged, symlinks=True)
            except shutil.Error as exc:
                first = exc.args[0][0] if exc.args and isinstance(exc.args[0], list) else (None, None, exc)
                raise UserError(f"cannot copy the build system from {src}: {first[2]}") from None
            except OSError as exc:
                raise UserError(f"cannot copy the build system from {src}: {exc.strerror or exc}") from None
            origin = pins.Origin(src, (at.repo,))
        else:
            assert cargo_bin is not None
            origin = _generate(opts, ref, at, released.member, staged, cargo_bin, log)
        deps = gitrepo.show_file(ref, at.in_repo(names.DEPENDENCIES))
        if deps is not None and not (staged / names.DEPENDENCIES).exists():
            (staged / names.DEPENDENCIES).write_bytes(deps)
        shape = layout.validate_layout(staged)
        # the project's own binaries (root package, default members) first: the flake's default package
        attributes = layout.root_attributes(shape, released.binaries)
        recorded = answers.at_ref(ref, at)
        result.binaries, result.systems = layout.binary_names(shape), answers.systems(recorded)
        result.binary_cache = answers.binary_cache(recorded)
        manifests.write_export_info(staged, result, shape.entry, attributes)
        lock = gitrepo.show_file(ref, at.in_repo(names.FLAKE_LOCK))
        project_nixpkgs = flake_lock.nixpkgs_pin(lock.decode("utf-8", "replace")) if lock else None
        report = rewrite.rewrite(
            staged, origin, pin, in_tarball, at.sub, keep_ifd=opts.keep_ifd, why_missing=_why_missing(ref),
            nixpkgs=project_nixpkgs[0] if project_nixpkgs else None,
        )  # fmt: skip
        description = f"{result.name} {result.version} ({result.tag}), pinned build system"
        consumer_flake.write(staged, description)  # what it cannot write, the check below reports
        inputs, _ = consumer_flake.caller_inputs(staged)
        if "nixpkgs" in inputs:
            whose = (
                f"the project's flake.lock, {project_nixpkgs[1]}"
                if project_nixpkgs
                else "cargo (libnix)'s caller"
            )
            result.nixpkgs = (inputs["nixpkgs"][0], whose)
        report.attributes = attributes
        staged_asset = staging / asset.name
        # bz2 runs in C without the GIL: pack while the checks run, keep it only if they pass
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            packing = pool.submit(packing_asset.pack, staged, staged_asset, gitrepo.commit_time(ref))
            # the same checks as `libnix check` on the result: release never ships what check refuses
            _, found = check.inspect(staged, origin.source_roots, report=report)
            packing.result()
        if found is not None and found.url != pin.url:
            report.errors.append(
                findings.Finding(names.CALLER, 0, f"the sources are pinned to {found.url}, not {pin.url}")
            )
        result.report = report
        result.attributes = attributes
        result.crates_moved, result.crates_from = report.crates_moved, "sources"
        result.entry = report.entry
        if report.errors:
            more = f" (and {len(report.errors) - 1} more)" if len(report.errors) > 1 else ""
            raise UserError(f"the build system cannot be exported: {report.errors[0]}{more}")
        for finding in report.notes:
            log(f"note: {finding.message}")
        for finding in report.ifd:
            log(f"IFD (evaluation reads a build output): {finding}")
        if opts.verify:
            _verify(staged, opts, result, report, log)
        if opts.verify_remote:
            _verify_crates(staged, log)
        # the NAR of the packed directory is what fetchTarball of the asset checks: pack keeps every byte,
        # the executable bit and symlinks, so hashing the directory spares decompressing the asset
        result.asset_sha256 = hash_directory(str(staged)).sha256
        result.snippets = snippets.render(result)
        manifests.write_release(staging / release_json.name, result)
        (staging / snippet_file.name).write_text(snippets.markdown(result))
        packing_asset.move_into_place(staging, outputs)
        manifests.write_manifest(at.project, export, result)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _crates_to_move(opts: ReleaseOptions, ref: gitrepo.Ref, at: roots.Roots) -> tuple[int, str]:
    """What a dry run can say of the crates it would move without generating the build system."""
    if opts.from_dir:
        return verify.crates_on_api(Path(opts.from_dir)), "sources in --from"
    lock = gitrepo.show_file(ref, at.in_repo(names.CARGO_LOCK))
    return crates_io.lock_crates(lock.decode("utf-8", "replace")) if lock else 0, "Cargo.lock packages"


def _verify_crates(export: Path, log: Log) -> None:
    """What a consumer's build downloads first, after the tag's tarball: every crate, asked for as
    nixpkgs' fetchurl asks (its agent). A refusal stops the release before anything is written."""
    crates = [f for f in online.fetches(export) if crates_io.is_crate(f.url)]
    replies = online.ask_all(crates)
    bad = [a for a in replies if a.error is not None]
    if bad:
        network = all(a.status is None or a.status >= 500 for a in bad)
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        error = NetworkError if network else UserError
        raise error(f"a consumer's build cannot fetch {bad[0].fetch.url}: {bad[0].error}{more}")
    log(f"crates verified: {len(replies)} .crate files reachable as nix's fetchurl asks")


def _why_missing(ref: gitrepo.Ref) -> Callable[[str], str]:
    """Why a path the build system pins is not in the tag's tarball: not in the tag at all, or left out
    by the commit's own .gitattributes (`export-ignore`), which the forge's `git archive` obeys."""
    tree: frozenset[str] | None = None

    def why(sub: str) -> str:
        nonlocal tree
        tree = tree if tree is not None else gitrepo.tree_paths(ref)
        if sub not in tree:
            return "does not exist in the tag's tree"
        if gitrepo.export_ignored(ref, [sub]):
            return (
                "is in the tag's tree but not in its tarball: .gitattributes marks it export-ignore "
                "(the forge's git archive leaves it out; drop the attribute for it)"
            )
        return "is in the tag's tree but not in its tarball"

    return why


def _verify(
    export: Path, opts: ReleaseOptions, result: ReleaseResult, report: findings.Report, log: Log
) -> None:
    """Evaluate the export as its consumers will, before it is moved into place or published."""
    where = f"--nixpkgs {opts.nixpkgs}" if opts.nixpkgs else "the pinned nixpkgs"
    log(f"verifying: nix evaluates every consumer form with {where}, import-from-derivation disabled")
    result.evaluated = check.evaluate_forms(export, opts.nixpkgs, report)
    failed = [e for e in result.evaluated if e.error is not None]
    if failed:
        raise UserError(f"the export does not evaluate as a consumer uses it (nothing written): {failed[0]}")
    for evaluation in result.evaluated:
        log(f"  evaluated {evaluation}")


def _generate(
    opts: ReleaseOptions,
    ref: gitrepo.Ref,
    at: roots.Roots,
    package: str | None,
    staged: Path,
    cargo_bin: str,
    log: Log,
) -> pins.Origin:
    def on_line(line: str) -> None:
        log(f"  cargo: {line}")

    repo = str(at.repo)
    if opts.no_worktree:
        if gitrepo.is_dirty(repo):
            raise UserError(
                "the working tree has uncommitted changes: commit or stash them, or drop --no-worktree"
            )
        if gitrepo.head_commit(repo) != ref.commit:
            raise UserError(f"HEAD is not {opts.tag}: check it out, or drop --no-worktree")
        generator.write_buildsystem(cargo_bin, at.project, staged, on_line, package)
        return pins.Origin(staged, (at.repo,))
    with gitrepo.worktree(ref, tempfile.gettempdir()) as wt:
        log(f"exporting from a worktree of {opts.tag}" + (f" (package {package})" if package else ""))
        generator.write_buildsystem(cargo_bin, Path(wt) / at.sub, staged, on_line, package)
        return pins.Origin(staged, (Path(wt), at.repo))
