"""The export step of a release: the build system generated (or taken `--from` a directory) in a staging
directory, pinned by the rules, checked as `libnix check` checks it, packed, optionally evaluated and its
crates asked for as a consumer's nix would, and only then moved into place with its manifests.
"""

from __future__ import annotations

import concurrent.futures
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from scaffold.errors import NetworkError, UserError
from scaffold.git import repo as gitrepo
from scaffold.git import roots
from scaffold.hashing.nixhash import Sha256, nix32_decode
from scaffold.hashing.sources import hash_directory
from scaffold.init import answers
from scaffold.project import flake_lock
from scaffold.release import generator, manifests, snippets, tags
from scaffold.release.outputs import Outputs, move_into_place, pack
from scaffold.release.result import ReleaseResult

if TYPE_CHECKING:
    from scaffold.release.pipeline import ReleaseOptions

Log = Callable[[str], None]


@dataclass
class Export:
    """Everything the export step needs, gathered once by the pipeline."""

    opts: ReleaseOptions
    ref: gitrepo.Ref
    at: roots.Roots
    released: tags.Released
    pin: pins.Pin
    result: ReleaseResult
    outputs: Outputs
    log: Log
    cargo_bin: str | None = None  # None with --from
    in_tarball: frozenset[str] | None = None  # what the tag's tarball holds
    flat: Sha256 | None = None  # the tag tarball file's own sha256, when libnix has the file

    def run(self) -> None:
        export = self.outputs.export
        export.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".libnix-staging-", dir=export.parent))
        try:
            staged = staging / export.name
            origin = self._stage(staged)
            report = self._pin(staged, origin)
            self._check_and_pack(staging, staged, origin, report)
            self._verify(staged, report)
            self._write(staging, staged)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _stage(self, staged: Path) -> pins.Origin:
        """The generator's output in `staged`, with the tag's Cargo.dependencies.nix when it has none."""
        if self.opts.from_dir:
            src = Path(self.opts.from_dir).resolve()
            try:
                # the generator's leftovers: its marker, and the gc roots a build run leaves (symlinks
                # into this machine's /nix/store): neither is the build system
                shutil.copytree(src, staged, symlinks=True, ignore=_leftovers(src))
            except shutil.Error as exc:
                first = exc.args[0][0] if exc.args and isinstance(exc.args[0], list) else (None, None, exc)
                raise UserError(f"cannot copy the build system from {src}: {first[2]}") from None
            except OSError as exc:
                raise UserError(f"cannot copy the build system from {src}: {exc.strerror or exc}") from None
            origin = pins.Origin(src, (self.at.repo,))
        else:
            assert self.cargo_bin is not None
            origin = _generate(
                self.opts, self.ref, self.at, self.released.member, staged, self.cargo_bin, self.log
            )
        deps = gitrepo.show_file(self.ref, self.at.in_repo(names.DEPENDENCIES))
        if deps is not None and not (staged / names.DEPENDENCIES).exists():
            (staged / names.DEPENDENCIES).write_bytes(deps)
        return origin

    def _pin(self, staged: Path, origin: pins.Origin) -> findings.Report:
        """The rules rewrite the staged copy; the export's flake and export info are written beside."""
        result, ref, at = self.result, self.ref, self.at
        shape = layout.validate_layout(staged)
        # the project's own binaries (root package, default members) first: the flake's default package
        attributes = layout.root_attributes(shape, self.released.binaries)
        recorded = answers.at_ref(ref, at)
        result.binaries, result.systems = layout.binary_names(shape), answers.systems(recorded)
        result.binary_cache = answers.binary_cache(recorded)
        result.attributes = attributes
        manifests.write_export_info(staged, result, shape.entry, attributes)
        lock = gitrepo.show_file(ref, at.in_repo(names.FLAKE_LOCK))
        project_nixpkgs = flake_lock.nixpkgs_pin(lock.decode("utf-8", "replace")) if lock else None
        report = rewrite.rewrite(
            staged, origin, self.pin, self.in_tarball, at.sub, keep_ifd=self.opts.keep_ifd,
            why_missing=_why_missing(ref), nixpkgs=project_nixpkgs[0] if project_nixpkgs else None,
            flat=self.flat,
        )  # fmt: skip
        description = f"{result.name} {result.version} ({result.tag}), pinned build system"
        consumer_flake.write(staged, description)  # what it cannot write, the check reports
        inputs, _ = consumer_flake.caller_inputs(staged)
        if "nixpkgs" in inputs:
            whose = (
                f"the project's flake.lock, {project_nixpkgs[1]}"
                if project_nixpkgs
                else "cargo (libnix)'s caller"
            )
            if not project_nixpkgs:  # a branch has no hash to pin offline: the project's lock has one
                self.log(
                    f"note: consumers without a nixpkgs of their own get {inputs['nixpkgs'][0]}, which cargo "
                    "(libnix) pinned; commit the project's flake.lock (`nix flake lock`) to give them the "
                    "nixpkgs your CI builds with"
                )
            result.nixpkgs = (inputs["nixpkgs"][0], whose)
        report.attributes = attributes
        return report

    def _check_and_pack(
        self, staging: Path, staged: Path, origin: pins.Origin, report: findings.Report
    ) -> None:
        """The checks of `libnix check` on the result (release never ships what check refuses), while
        bz2 packs the asset in C without the GIL; the asset is kept only if they pass."""
        pin, result = self.pin, self.result
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            packing = pool.submit(
                pack, staged, staging / self.outputs.asset.name, gitrepo.commit_time(self.ref)
            )
            _, found = check.inspect(staged, origin.source_roots, report=report)
            packing.result()
        if found is not None and found.url != pin.url:
            report.errors.append(
                findings.Finding(names.CALLER, 0, f"the sources are pinned to {found.url}, not {pin.url}")
            )
        result.report = report
        result.crates_moved, result.crates_from = report.crates_moved, "sources"
        result.entry = report.entry
        if report.errors:
            more = f" (and {len(report.errors) - 1} more)" if len(report.errors) > 1 else ""
            raise UserError(f"the build system cannot be exported: {report.errors[0]}{more}")
        for finding in report.notes:
            self.log(f"note: {finding.message}")
        for finding in report.ifd:
            self.log(f"IFD (evaluation reads a build output): {finding}")

    def _verify(self, staged: Path, report: findings.Report) -> None:
        if self.opts.verify:
            evaluate(staged, self.opts, self.result, report, self.log)
        if self.opts.verify_remote:
            verify_crates(staged, self.log)

    def _write(self, staging: Path, staged: Path) -> None:
        result, outputs = self.result, self.outputs
        # the NAR of the packed directory is what fetchTarball of the asset checks: pack keeps every byte,
        # the executable bit and symlinks, so hashing the directory spares decompressing the asset
        result.asset_sha256 = hash_directory(str(staged)).sha256
        result.snippets = snippets.render(result)
        manifests.write_release(staging / outputs.release_json.name, result)
        (staging / outputs.snippets.name).write_text(snippets.markdown(result))
        move_into_place(staging, outputs)
        manifests.write_manifest(self.at.project, outputs.export, result)


GENERATOR_LEFTOVERS = (".cargo-libnix-managed", "gc")


def _leftovers(top: Path) -> Callable[[str, list[str]], list[str]]:
    def ignore(directory: str, names: list[str]) -> list[str]:
        return [n for n in names if n in GENERATOR_LEFTOVERS] if Path(directory) == top else []

    return ignore


def reuse(result: ReleaseResult, previous: dict[str, Any], outputs: Outputs, log: Log) -> None:
    """Publishing again what an earlier run exported (an interrupted upload): nothing is rebuilt."""
    log(f"{outputs.export.name} of this commit exists: publishing it as it is")
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


def crates_to_move(opts: ReleaseOptions, ref: gitrepo.Ref, at: roots.Roots) -> tuple[int, str]:
    """What a dry run can say of the crates it would move without generating the build system."""
    if opts.from_dir:
        return verify.crates_on_api(Path(opts.from_dir)), "sources in --from"
    lock = gitrepo.show_file(ref, at.in_repo(names.CARGO_LOCK))
    return crates_io.lock_crates(lock.decode("utf-8", "replace")) if lock else 0, "Cargo.lock packages"


def verify_crates(export: Path, log: Log) -> None:
    """What a consumer's build downloads first, after the tag's tarball: every crate, asked for as
    nixpkgs' fetchurl asks (its agent). A refusal stops the release before anything is written."""
    crates = [f for f in online.fetches(export) if crates_io.is_crate(f.url)]
    replies = online.ask_all(crates)
    bad = [a for a in replies if a.error is not None]
    if bad:
        network = all(a.unreachable for a in bad)
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


def evaluate(
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
