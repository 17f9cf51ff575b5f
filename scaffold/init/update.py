"""`libnix update [DIR]`: a newer template re-applied to a project `libnix init` set up, merged three ways
with the user's edits (copier's update; the root workflows of a project in a subdirectory by git
merge-file), its answers following the project's files (rust-toolchain), conflicts marked inline.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffold.environ import child_env, without_tokens
from scaffold.errors import ExternalError, UserError
from scaffold.fsutil import atomic_write
from scaffold.git import repo as gitrepo
from scaffold.git import roots
from scaffold.init import answers as answers_file
from scaffold.init import cargo_libnix_releases, template
from scaffold.init.create import fill_native_deps
from scaffold.init.defaults import (
    Log,
    manifest_hash,
    offline_hint,
    parse_data,
    project_defaults,
    render,
    same_file,
    toolchain_facts,
)
from scaffold.init.nixpkgs_releases import past_support
from scaffold.names import ANSWERS
from scaffold.project import manifest


@dataclass(frozen=True, kw_only=True)
class UpdateOptions:
    directory: str = "."
    data: tuple[str, ...] = ()
    template: str | None = None
    vcs_ref: str | None = None
    offline: bool = False
    ask: bool = False  # on a terminal: the questions a newer template adds are asked (only those)


@dataclass
class UpdateResult:
    directory: Path
    changed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    from_version: str = ""
    to_version: str = ""
    answers: dict[str, Any] = field(default_factory=dict)  # answers changed to follow the project's files
    warnings: list[str] = field(default_factory=list)
    native: list[str] = field(default_factory=list)


CONFLICT_MARK = "<<<<<<< before updating"


def _follow_toolchain(
    toolchain: manifest.Toolchain | None,
    answers: dict[str, Any],
    data: dict[str, Any],
    offline: bool,
    result: UpdateResult,
) -> None:
    """A rust-toolchain.toml edited since the last init/update changes the answers (unless --data says
    otherwise), and a newly pinned toolchain gets its manifest's hash."""
    for key, value in toolchain_facts(toolchain).items():
        if key not in data and answers.get(key) != value:
            data[key] = result.answers[key] = value
    channel = data.get("toolchain_channel", answers.get("toolchain_channel"))
    version = str(data.get("toolchain_version", answers.get("toolchain_version", "")))
    if channel != "version" or "toolchain_sha256" in data:
        return
    if version == answers.get("toolchain_version") and answers.get("toolchain_sha256"):
        return  # the same pin, its hash known
    digest = manifest_hash(version, offline)
    data["toolchain_sha256"] = result.answers["toolchain_sha256"] = digest or ""
    if not digest:
        result.warnings.append(offline_hint(version))


def run_update(opts: UpdateOptions, log: Log = lambda _m: None) -> UpdateResult:
    import copier

    root = Path(opts.directory).resolve()
    answers = answers_file.read(root)
    at = roots.locate(root)
    if not (at.repo / ".git").exists():
        raise UserError(
            f"{root} is not a git repository: libnix update merges through git (git init, commit)"
        )
    if gitrepo.git(str(root), "status", "--porcelain").stdout:
        raise UserError("the project has uncommitted changes: commit or stash them before libnix update")
    data = parse_data(opts.data, template.questions())
    data["project_dir"] = at.sub  # re-derived, as init computed it
    result = UpdateResult(root, from_version=str(answers.get("_commit", "")))
    toolchain = manifest.read_toolchain(root)
    _follow_toolchain(toolchain, answers, data, opts.offline, result)
    src, ref = _template_source(opts, answers, result.from_version)
    if opts.template:
        data["_src_path"] = src
    result.to_version = ref or "latest"
    try:
        # a newer template's new facts take the project's values; its new questions are asked on a terminal
        facts = project_defaults(root, manifest.read_project(root), None, toolchain, at)
        with without_tokens():  # copier runs git with os.environ
            copier.run_update(
                root, answers_file=ANSWERS, data=data, defaults=not opts.ask, overwrite=True,
                conflict="inline", vcs_ref=ref, quiet=True, user_defaults=facts,
                skip_answered=True,
                # a subdirectory project's workflows live at the repository's root: merged below, not here
                exclude=[".github"] if at.sub else (),
            )  # fmt: skip
    except (copier.errors.CopierError, ValueError) as exc:
        raise ExternalError(f"copier update failed: {str(exc).splitlines()[0]}") from None
    if at.sub:
        _update_workflows(at, answers, data, src, ref)
    fill_native_deps(root, result.native, result.warnings)  # Cargo.lock may have changed since
    recorded = answers_file.read(root)
    stale = past_support(str(recorded.get("nixpkgs_ref", "")))
    if stale:
        result.warnings.append(stale)
    newer = cargo_libnix_releases.newer_than(str(recorded.get("cargo_libnix_url", "")))
    if newer:
        result.warnings.append(newer)
    _what_changed(at, root, result)
    return result


def _template_source(
    opts: UpdateOptions, answers: dict[str, Any], from_version: str
) -> tuple[str, str | None]:
    """Where the template comes from, and at which version: --template, else libnix's own (installed in
    the recorded place when the project was made with libnix's template elsewhere), else the libnix
    checkout the project was made from."""
    if opts.template:
        return opts.template, opts.vcs_ref
    src, version = template.versioned_source()
    ref: str | None = version
    recorded = str(answers.get("_src_path", ""))
    where = Path(recorded).expanduser()
    if template.is_cache(recorded) and where.resolve() != Path(src).resolve():
        # made with libnix's template, elsewhere (another cache location, another machine): copier
        # reads the old version from the recorded place, so the installed template goes there too
        src, ref = template.versioned_source(repo=where)
    elif recorded and where.resolve() != Path(src).resolve() and opts.vcs_ref is None:
        if "://" not in recorded and ":" not in recorded.split("/")[0] and not where.is_dir():
            raise UserError(
                f"the template recorded in {ANSWERS} ({recorded}) is not on this machine: "
                "update from a libnix checkout with --template PATH [--vcs-ref REF]"
            )
        src = recorded  # a project made from a libnix checkout stays with it
        ref = None
    if not template.has_version(str(Path(src).expanduser()), from_version):
        raise UserError(
            f"the template version {from_version} that made this project is not in {src}: "
            "update from a libnix checkout with --template PATH [--vcs-ref REF]"
        )
    return src, opts.vcs_ref or ref


def _what_changed(at: roots.Roots, root: Path, result: UpdateResult) -> None:
    """The files the update changed, named from the project's directory, and those left in conflict."""
    status = (
        gitrepo.git(str(root), "status", "--porcelain", "--untracked-files=all").stdout.decode().splitlines()
    )
    # git names paths from the repository's root; the user, from the project's directory
    changed = {line[3:]: os.path.relpath(at.repo / line[3:], root) for line in status}
    result.changed = sorted(changed.values())
    for in_repo, rel in changed.items():
        path = at.repo / in_repo
        if path.is_file() and CONFLICT_MARK in path.read_text(errors="replace"):
            result.conflicts.append(rel)


def _update_workflows(
    at: roots.Roots, answers: dict[str, Any], data: dict[str, Any], src: str, ref: str | None
) -> None:
    """The workflows of a project in a subdirectory, merged three ways at the repository's root as
    copier merges the rest: the template's render at the recorded version (base), the user's file
    (ours), the new render (theirs); conflicts are marked inline as copier marks them."""
    recorded = {k: v for k, v in answers.items() if not k.startswith("_")}
    with tempfile.TemporaryDirectory(prefix="libnix-update-") as tmp:
        old, new = Path(tmp) / "old", Path(tmp) / "new"
        old_src = str(answers.get("_src_path") or src)
        render(old_src, str(answers.get("_commit") or "") or None, old, {**recorded, "project_dir": at.sub},
                {}, ask=False)  # fmt: skip
        render(src, ref, new, {**recorded, **data, "project_dir": at.sub}, {}, ask=False)
        rels = sorted(
            {
                p.relative_to(d).as_posix()
                for d in (old, new)
                for p in (d / ".github").rglob("*")
                if p.is_file()
            }
        )
        for rel in rels:
            base, theirs, ours = old / rel, new / rel, at.repo / rel
            if not theirs.exists():
                if ours.exists() and same_file(ours, base):
                    ours.unlink()  # the template dropped it and the user never changed it
                continue
            if not ours.exists():
                if not base.exists():  # a workflow the new template adds
                    ours.parent.mkdir(parents=True, exist_ok=True)
                    atomic_write(ours, theirs.read_bytes())
                continue  # removed by the user: it stays removed
            if not base.exists() or same_file(base, theirs):
                continue  # the template did not change it (or it is the user's own of that name)
            proc = subprocess.run(
                ["git", "merge-file", "-p", "-L", "before updating", "-L", "last update", "-L",
                 "after updating", str(ours), str(base), str(theirs)],
                capture_output=True, env=child_env(),
            )  # fmt: skip
            if proc.returncode < 0 or proc.returncode > 127:
                raise ExternalError(f"git merge-file failed on {rel}: {proc.stderr.decode().strip()}")
            if proc.stdout != ours.read_bytes():
                atomic_write(ours, proc.stdout)
