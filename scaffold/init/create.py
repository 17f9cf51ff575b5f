"""`libnix init [DIR]`: the copier template applied to a Rust project (`update` re-applies it).

`init` renders the template once into a temporary directory, compares every file with what the project
already has, and writes only when nothing of the user's would be overwritten (or `--force` says so), so a
refused init changes nothing. The project's facts (Cargo.toml, rust-toolchain, origin) become the
template's defaults; `--data KEY=VALUE` overrides them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffold.errors import UserError
from scaffold.fsutil import atomic_write
from scaffold.git import repo as gitrepo
from scaffold.git import roots
from scaffold.init import answers, template, workflows
from scaffold.init.defaults import (
    Log,
    decided_by_files,
    found_summary,
    manifest_hash,
    offline_hint,
    parse_data,
    planned_native,
    project_defaults,
    render,
    same_file,
)
from scaffold.names import ANSWERS
from scaffold.project import manifest, native_deps

GITIGNORE_LINES = ("result", "result-*", "/target")


@dataclass(frozen=True, kw_only=True)
class InitOptions:
    directory: str = "."
    data: tuple[str, ...] = ()
    defaults: bool = True  # False: copier asks on the terminal
    pretend: bool = False
    force: bool = False
    template: str | None = None  # a copier template source (a git checkout of libnix, a URL)
    vcs_ref: str | None = None
    offline: bool = False


@dataclass
class InitResult:
    directory: Path
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # files the template skips when they exist
    created_crate: list[str] = field(default_factory=list)
    already: bool = False
    pretend: bool = False
    warnings: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the user has to do next, said once
    native: list[str] = field(default_factory=list)  # what Cargo.dependencies.nix names, from Cargo.lock
    at: roots.Roots | None = None  # the repository's and the project's roots

    def shown(self, rel: str) -> str:
        """A written file as the user in the project's directory names it (`../.github/…` in a
        subdirectory project)."""
        return shown(self.at, rel) if self.at is not None else rel

    @property
    def flake_ref(self) -> str | None:
        """How the project's flake is named from the repository's root, when it is not there."""
        return f"./{self.at.sub}" if self.at is not None and self.at.sub else None


OWN_FLAKE = (
    "flake.nix is the project's own and stays as it is; libnix's outputs are in nix/libnix.nix. To use "
    'them, add the input `fenix = { url = "github:nix-community/fenix"; '
    'inputs.nixpkgs.follows = "nixpkgs"; };` and merge them into your outputs: '
    "`outputs = inputs@{ nixpkgs, ... }: nixpkgs.lib.recursiveUpdate (import ./nix/libnix.nix inputs) "
    "{ /* your outputs */ };` (or `libnix init --force` to replace flake.nix)"
)


def _answer(rendered: Path, key: str) -> str:
    return str(answers.rendered(rendered).get(key, ""))


def _is_empty(root: Path) -> bool:
    return not any(p.name != ".git" for p in root.iterdir())


def run_init(opts: InitOptions, log: Log = lambda _m: None) -> InitResult:
    root = Path(opts.directory).resolve()
    result = InitResult(root, pretend=opts.pretend)
    if root.exists() and not root.is_dir():
        raise UserError(f"{root} is not a directory")
    if (root / ANSWERS).is_file():
        result.already = True
        return result
    parent = root if root.exists() else next(p for p in root.parents if p.exists())
    if not os.access(parent, os.W_OK):
        raise UserError(f"cannot write to {parent}: permission denied")
    plan = _plan(opts, root, result, log)
    if opts.template:
        src, ref = opts.template, opts.vcs_ref
    else:
        cache, ref = template.versioned_source()
        src = template.portable(Path(cache))  # the answers file is committed: no machine's home in it
    with tempfile.TemporaryDirectory(prefix="libnix-init-") as tmp:
        rendered = Path(tmp) / "out"
        render(src, ref, rendered, plan.data, plan.defaults, ask=plan.asking)
        if plan.asking:
            _pin_chosen_toolchain(src, ref, rendered, opts.offline, result, {"project_dir": plan.at.sub})
        if _answer(rendered, "flake_file") in ("False", "false") and (root / "flake.nix").is_file():
            result.warnings.append(OWN_FLAKE)
        files = _compare(rendered, plan.at, opts.force, result)
        _advise(plan.own, files, rendered, result)
        if plan.new_crate:
            result.created_crate = ["Cargo.toml", "src/main.rs"]
        ignores = _missing_ignores(root) if root.exists() else list(GITIGNORE_LINES)
        if ignores:
            result.written.append(".gitignore")
        if opts.pretend:
            result.native = plan.native
            return result
        try:
            _write(plan.at, rendered, result, plan.new_crate, str(plan.defaults["project_name"]), ignores)
            fill_native_deps(root, result.native, result.warnings)
        except OSError as exc:
            raise UserError(f"cannot write to {exc.filename or root}: {exc.strerror}") from None
    return result


@dataclass
class _Plan:
    """What init renders the template with, and what it found on the way."""

    at: roots.Roots
    data: dict[str, Any]  # answers given (--data) or computed: never asked
    defaults: dict[str, Any]  # the project's facts, the defaults of the questions
    new_crate: bool  # an empty or new directory: a minimal crate is written first
    own: str | None  # the project's own release workflow, if it has one
    asking: bool  # copier asks on the terminal
    native: list[str]  # what Cargo.lock's crates need, for the summary and a pretend run


def _plan(opts: InitOptions, root: Path, result: InitResult, log: Log) -> _Plan:
    data = parse_data(opts.data, template.questions())
    new_crate = not root.exists() or _is_empty(root)
    if not new_crate and not (root / "Cargo.toml").is_file():
        raise UserError(
            f"no Cargo.toml in {root}: libnix init works in a Rust crate or workspace, or an empty directory"
        )
    project = None if new_crate else manifest.read_project(root)
    at = roots.locate(root)
    result.at = at
    own = workflows.own_release_workflow(at.repo) if at.repo.exists() else None
    toolchain = manifest.read_toolchain(root) if root.exists() else None
    defaults: dict[str, Any] = (
        project_defaults(root, project, own, toolchain, at) if root.exists() else {"project_dir": at.sub}
    )
    data["project_dir"] = at.sub  # computed, never asked: where the workflows run
    if new_crate:
        defaults.update(project_name=data.get("project_name") or manifest.crate_name_for(root), binaries=[])
        defaults["binaries"] = [defaults["project_name"]]
    _pin_given_toolchain(data, defaults, opts.offline, result)
    own_flake = (root / "flake.nix").is_file() and not opts.force and "flake_file" not in data
    asking = not opts.defaults
    if own_flake:
        # the project's flake stays as it is (unless the person at the terminal says otherwise): libnix's
        # outputs go to nix/libnix.nix, for it to import
        (defaults if asking else data)["flake_file"] = False
    elif "flake_file" not in data:
        data["flake_file"] = True  # nothing of the project's to keep: not a question
    # what Cargo.lock's crates need, for the summary and a pretend run (a real one refreshes the file)
    native = planned_native(root) if (asking or opts.pretend) and root.exists() else []
    if asking:
        decided_by_files(toolchain, defaults, data)
        log("\n".join(found_summary(at, project, defaults, own, own_flake, toolchain, native)))
    return _Plan(at, data, defaults, new_crate, own, asking, native)


def _pin_given_toolchain(
    data: dict[str, Any], defaults: dict[str, Any], offline: bool, result: InitResult
) -> None:
    """A pinned toolchain (toolchain_channel=version) gets its channel manifest's hash."""
    channel = data.get("toolchain_channel", defaults.get("toolchain_channel"))
    if channel != "version" or data.get("toolchain_sha256"):
        return
    version = data.get("toolchain_version") or defaults.get("toolchain_version", "")
    if not version:
        raise UserError(
            "toolchain_channel=version needs toolchain_version (e.g. --data toolchain_version=1.87.0)"
        )
    digest = manifest_hash(version, offline)
    if digest:
        data["toolchain_sha256"] = digest
    else:
        result.warnings.append(offline_hint(version))


def _compare(rendered: Path, at: roots.Roots, force: bool, result: InitResult) -> list[str]:
    """Every rendered file against the project's: kept, unchanged, written, or in conflict (refused
    whole, before anything is written, unless --force)."""
    skip = set(template.skip_if_exists())
    files = sorted(p.relative_to(rendered).as_posix() for p in rendered.rglob("*") if p.is_file())
    for rel in files:
        target = _target(at, rel)
        if rel in skip and target.exists():
            result.kept.append(rel)
        elif target.exists() and same_file(target, rendered / rel):
            result.unchanged.append(rel)
        elif target.exists() and not force:
            result.conflicts.append(rel)
        else:
            result.written.append(rel)
    if result.conflicts:
        raise UserError(
            f"these files exist and differ from the template: {', '.join(result.conflicts)} "
            "(pass --force to replace them)"
        )
    return files


def _advise(own: str | None, files: list[str], rendered: Path, result: InitResult) -> None:
    """What the person should know of the workflows: a release workflow of their own, a binary cache."""
    ci = any(f.endswith("workflows/libnix-ci.yml") for f in files)
    if own and ci and not any(f.endswith("workflows/libnix-release.yml") for f in files):
        action = _answer(rendered, "libnix_action")
        result.warnings.append(
            f"{own} releases on tags: libnix adds no release workflow beside it. To attach the pinned "
            f"build system to your releases, add to its job: `- uses: {action}` "
            'with `publish: "true"` (after actions/checkout with fetch-depth: 0)'
        )
    chosen = answers.systems(answers.rendered(rendered))
    if ci:
        result.notes.append(_runners_note(chosen))
    unsupported = [s for s in chosen if s not in FENIX_SYSTEMS]
    if unsupported:
        result.warnings.append(
            f"fenix has no Rust toolchain for {', '.join(unsupported)}: the flake's packages there cannot "
            f"evaluate (fenix offers {', '.join(FENIX_SYSTEMS)}); drop it from systems "
            "(`libnix update --data 'systems=[...]'`)"
        )
    cache = _answer(rendered, "binary_cache")
    if cache and any(f.endswith(".yml") and f.startswith(".github/") for f in files):
        note = (
            f"the workflows push to the binary cache {cache} with the repository secret "
            "CACHIX_AUTH_TOKEN (cachix.org: the cache's settings, auth tokens); without it they only pull"
        )
        if not _answer(rendered, "binary_cache_key"):
            note += ". Give consumers its public key: `libnix update --data binary_cache_key=KEY`"
        result.notes.append(note)


# the systems fenix has toolchains for: the `eachSystem` of nix-community/fenix's flake.nix (checked against
# ../shared/nix-eval's fenix); the flake's packages of any other system cannot evaluate
FENIX_SYSTEMS = ("aarch64-darwin", "aarch64-linux", "i686-linux", "x86_64-darwin", "x86_64-linux")


def _runners_note(systems: list[str]) -> str:
    """Where each chosen system is built, and which ones nothing builds: a system GitHub hosts no runner
    for is only evaluated (a machine of the user's own can still build it)."""
    runners = template.hosted_runners()
    built = [f"{s} on {runners[s]}" for s in systems if s in runners]
    others = [s for s in systems if s not in runners]
    note = "CI and releases build " + (", ".join(built) if built else "nothing")
    if others:
        note += f"; {', '.join(others)}: evaluated only (GitHub hosts no runner for it)"
    return note


def _pin_chosen_toolchain(
    src: str, ref: str | None, rendered: Path, offline: bool, result: InitResult, computed: dict[str, Any]
) -> None:
    """A pinned toolchain chosen at the terminal gets its manifest's hash, as one given with --data does:
    the render is made again with it (the answers otherwise the same)."""
    recorded = answers.rendered(rendered)
    version = str(recorded.get("toolchain_version") or "")
    if recorded.get("toolchain_channel") != "version" or recorded.get("toolchain_sha256") or not version:
        return
    digest = manifest_hash(version, offline)
    if not digest:
        result.warnings.append(offline_hint(version))
        return
    data = {**{k: v for k, v in recorded.items() if not k.startswith("_")}, **computed}
    data["toolchain_sha256"] = digest
    shutil.rmtree(rendered)
    render(src, ref, rendered, data, {}, ask=False)


def fill_native_deps(root: Path, native: list[str], warnings: list[str]) -> None:
    """Cargo.dependencies.nix gets what Cargo.lock's crates need; a file of the user's own is left alone."""
    needs, owned = native_deps.refresh(root)
    lines = native_deps.summary(needs)
    native += lines
    if needs and not owned:
        warnings.append(
            f"{native_deps.FILE} is your own (no `generated` binding): libnix changed nothing in it. From "
            f"Cargo.lock, crates need: {'; '.join(lines)}"
        )


def _target(at: roots.Roots, rel: str) -> Path:
    """Where a rendered file goes: the workflows to the repository's root (GitHub reads no other
    `.github/`), everything else to the project."""
    return at.repo / rel if rel.startswith(".github/") else at.project / rel


def shown(at: roots.Roots, rel: str) -> str:
    """A rendered file's path as the user in the project's directory names it."""
    return os.path.relpath(_target(at, rel), at.project)


def _write(
    at: roots.Roots, rendered: Path, result: InitResult, new_crate: bool, name: str, ignores: list[str]
) -> None:
    """Write everything, or on failure remove what this run created: a failed init leaves no debris."""
    root = at.project
    created: list[Path] = []
    made_root = not root.exists()
    try:
        root.mkdir(parents=True, exist_ok=True)
        if new_crate:
            created += [root / rel for rel in manifest.write_minimal_crate(root, name)]
            if at.repo == root and not (root / ".git").exists():
                gitrepo.git(str(root), "init", "-q", "-b", "main")
                created.append(root / ".git")
        for rel in result.written:
            if rel == ".gitignore":
                continue
            target = _target(at, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                created.append(target)
            atomic_write(target, (rendered / rel).read_bytes())
        _merge_gitignore(root, ignores)
    except BaseException:
        for path in reversed(created):
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        if made_root:
            shutil.rmtree(root, ignore_errors=True)
        raise


# a path each line ignores: git itself says whether the project's ignore rules cover it already
_PROBES = {"result": "result", "result-*": "result-1", "/target": "target/"}


def _missing_ignores(root: Path) -> list[str]:
    """The lines whose paths the project does not ignore yet (`target/`, `result*`, `**/target` count)."""
    path = root / ".gitignore"
    present = set(path.read_text().splitlines()) if path.exists() else set()
    missing = [line for line in GITIGNORE_LINES if line not in present and line.lstrip("/") not in present]
    if not missing:
        return missing
    if gitrepo.git(str(root), "rev-parse", "--is-inside-work-tree", check=False).returncode != 0:
        return missing
    probes = [_PROBES[line] for line in missing]
    proc = gitrepo.git(str(root), "check-ignore", "--no-index", *probes, check=False)
    ignored = set(proc.stdout.decode().splitlines())
    return [line for line in missing if _PROBES[line] not in ignored]


def _merge_gitignore(root: Path, missing: list[str]) -> None:
    """Add what a nix + cargo project ignores (`missing`); the user's lines stay as they are."""
    if not missing:
        return
    path = root / ".gitignore"
    text = path.read_text() if path.exists() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    text += "# nix build results and cargo's target directory (added by libnix init)\n" if text else ""
    atomic_write(path, text + "\n".join(missing) + "\n")


# -- update -----------------------------------------------------------------------------------------------
