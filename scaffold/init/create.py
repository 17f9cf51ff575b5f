"""`libnix init [DIR]` and `libnix update [DIR]`: the copier template applied to a Rust project.

`init` renders the template once into a temporary directory, compares every file with what the project
already has, and writes only when nothing of the user's would be overwritten (or `--force` says so), so a
refused init changes nothing. The project's facts (Cargo.toml, rust-toolchain, origin) become the
template's defaults; `--data KEY=VALUE` overrides them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffold.errors import ExternalError, UserError
from scaffold.forge import detect
from scaffold.fsutil import atomic_write
from scaffold.git import repo as gitrepo
from scaffold.git import roots
from scaffold.init import template, workflows
from scaffold.init.nixpkgs_releases import past_support
from scaffold.project import manifest as cargo
from scaffold.project import native_deps

Log = Callable[[str], None]
GITIGNORE_LINES = ("result", "result-*", "/target")


@dataclass(frozen=True)
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


def parse_data(pairs: tuple[str, ...], known: dict[str, dict[str, Any]]) -> dict[str, Any]:
    import yaml

    data: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise UserError(f"--data {pair!r}: expected KEY=VALUE")
        if key not in known:
            raise UserError(f"--data {key}: unknown question (known: {', '.join(sorted(known))})")
        kind = known[key].get("type", "str")
        if kind in ("yaml", "bool", "int", "float", "json"):
            try:
                data[key] = yaml.safe_load(raw)
            except yaml.YAMLError:
                raise UserError(f"--data {key}: {raw!r} is not valid YAML") from None
        else:
            data[key] = raw
        choices = known[key].get("choices")
        if choices and data[key] not in choices:
            raise UserError(f"--data {key}: {raw!r} is not one of {', '.join(map(str, choices))}")
    for target in data.get("targets") or []:
        cargo.validate_target(str(target))
    return data


def project_defaults(
    root: Path,
    project: cargo.Project | None,
    own_release: str | None,
    toolchain: cargo.Toolchain | None,
    at: roots.Roots | None = None,
) -> dict[str, Any]:
    """What the project says, as answers to the template's questions (its repository's facts from
    the repository's root, which is the project's own unless the project is in a subdirectory)."""
    at = at or roots.locate(root)
    repo = at.repo
    facts: dict[str, Any] = {}
    if project is not None:
        facts.update(
            project_name=project.name,
            version=project.version or "",
            edition=project.edition,
            rust_version=project.rust_version,
            binaries=project.binaries,
            is_workspace=project.is_workspace,
            members=project.members,
        )
    facts.update(toolchain_facts(toolchain))
    origin = None
    if (repo / ".git").exists():
        origin = gitrepo.remote_url(str(repo))
    if origin:
        try:
            forge = detect(origin)
            facts.update(forge=forge.kind, repo_owner=forge.remote.owner, repo_name=forge.remote.repo)
        except UserError:
            pass  # an unknown host: the flake needs no forge, the release can be told later
    # no remote yet: most such projects end up on GitHub, where the workflows run
    facts["ci"] = facts.get("forge", "none") in ("github", "none")
    members = _member_names(root, project) if project is not None else ()
    branch, patterns = workflows.default_branch(repo), workflows.tag_patterns(repo, members)
    if branch:
        facts["default_branch"] = branch
    if patterns:
        facts["tag_patterns"] = patterns
    facts["release_workflow"] = own_release is None  # the project's own release workflow, if any
    facts["project_dir"] = at.sub
    return facts


def _member_names(root: Path, project: cargo.Project) -> tuple[str, ...]:
    """The package names of the workspace's members: what per-crate release tags begin with."""
    names = []
    for member in project.members:
        package = (cargo.read_toml(root / member / "Cargo.toml").get("package") or {}) if (
            root / member / "Cargo.toml"
        ).is_file() else {}  # fmt: skip
        if package.get("name"):
            names.append(str(package["name"]))
    return tuple(names)


def toolchain_facts(toolchain: cargo.Toolchain | None) -> dict[str, Any]:
    """rust-toolchain(.toml) as answers: the project's file is the source of truth, at init and update."""
    if toolchain is None:
        return {}
    facts: dict[str, Any] = {"toolchain_channel": toolchain.channel}
    if toolchain.version:
        facts["toolchain_version"] = toolchain.version
    if toolchain.components:
        base = ["rustc", "rust-src", "rustfmt", "clippy"]
        extra = [c for c in toolchain.components if c not in (*base, "cargo")]
        facts["toolchain_components"] = base + extra
    for target in toolchain.targets:
        cargo.validate_target(target)
    facts["targets"] = list(toolchain.targets)
    return facts


def manifest_hash(version: str, offline: bool) -> str | None:
    """sha256 (SRI) of the channel manifest of a pinned toolchain, which the flake fetches with
    `builtins.fetchurl` (an evaluation-time fetch with a hash: no import from derivation)."""
    if offline:
        return None
    import requests

    url = cargo.manifest_url(version, os.environ.get("LIBNIX_RUST_DIST", cargo.RUST_DIST).rstrip("/"))
    try:
        resp = requests.get(url, timeout=(5, 30))
    except requests.exceptions.RequestException:
        return None
    if resp.status_code == 404:
        raise UserError(f"Rust {version} does not exist (no channel manifest at {url})")
    if resp.status_code != 200:
        return None
    import base64

    return "sha256-" + base64.b64encode(hashlib.sha256(resp.content).digest()).decode()


OWN_FLAKE = (
    "flake.nix is the project's own and stays as it is; libnix's outputs are in nix/libnix.nix. To use "
    'them, add the input `fenix = { url = "github:nix-community/fenix"; '
    'inputs.nixpkgs.follows = "nixpkgs"; };` and merge them into your outputs: '
    "`outputs = inputs@{ nixpkgs, ... }: nixpkgs.lib.recursiveUpdate (import ./nix/libnix.nix inputs) "
    "{ /* your outputs */ };` (or `libnix init --force` to replace flake.nix)"
)


def offline_hint(version: str) -> str:
    url = cargo.manifest_url(version)
    return (
        f"the channel manifest of Rust {version} could not be fetched, so flake.nix pins a fake hash (the "
        "first evaluation fails and prints the right one); fill it in when online with "
        f"`libnix update --data toolchain_sha256=$(nix-prefetch-url {url})`"
    )


def _answer(rendered: Path, key: str) -> str:
    import yaml

    answers = yaml.safe_load((rendered / template.ANSWERS).read_text()) or {}
    return str(answers.get(key, ""))


def _is_empty(root: Path) -> bool:
    return not any(p.name != ".git" for p in root.iterdir())


def _same(a: Path, b: Path) -> bool:
    return a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes()


def _render(
    src: str, ref: str | None, dest: Path, data: dict[str, Any], defaults: dict[str, Any], ask: bool
) -> None:
    import copier

    try:
        copier.run_copy(
            src,
            dest,
            data=data,
            user_defaults=defaults,
            defaults=not ask,
            vcs_ref=ref,
            quiet=True,
            overwrite=True,
        )
    except (copier.errors.CopierError, ValueError) as exc:
        raise UserError(f"the template refused the answers: {str(exc).splitlines()[0]}") from None


def run_init(opts: InitOptions, log: Log = lambda _m: None) -> InitResult:
    root = Path(opts.directory).resolve()
    result = InitResult(root, pretend=opts.pretend)
    if root.exists() and not root.is_dir():
        raise UserError(f"{root} is not a directory")
    if (root / template.ANSWERS).is_file():
        result.already = True
        return result
    parent = root if root.exists() else next(p for p in root.parents if p.exists())
    if not os.access(parent, os.W_OK):
        raise UserError(f"cannot write to {parent}: permission denied")
    known = template.questions()
    data = parse_data(opts.data, known)

    new_crate = not root.exists() or _is_empty(root)
    if not new_crate and not (root / "Cargo.toml").is_file():
        raise UserError(
            f"no Cargo.toml in {root}: libnix init works in a Rust crate or workspace, or an empty directory"
        )
    project = None if new_crate else cargo.read_project(root)
    at = roots.locate(root)
    result.at = at
    own = workflows.own_release_workflow(at.repo) if at.repo.exists() else None
    toolchain = cargo.read_toolchain(root) if root.exists() else None
    defaults = (
        project_defaults(root, project, own, toolchain, at) if root.exists() else {"project_dir": at.sub}
    )
    data["project_dir"] = at.sub  # computed, never asked: where the workflows run
    if new_crate:
        defaults.update(project_name=data.get("project_name") or cargo.crate_name_for(root), binaries=[])
        defaults["binaries"] = [defaults["project_name"]]
    channel = data.get("toolchain_channel", defaults.get("toolchain_channel"))
    if channel == "version" and not data.get("toolchain_sha256"):
        version = data.get("toolchain_version") or defaults.get("toolchain_version", "")
        if not version:
            raise UserError(
                "toolchain_channel=version needs toolchain_version (e.g. --data toolchain_version=1.87.0)"
            )
        digest = manifest_hash(version, opts.offline)
        if digest:
            data["toolchain_sha256"] = digest
        else:
            result.warnings.append(offline_hint(version))

    own_flake = (root / "flake.nix").is_file() and not opts.force and "flake_file" not in data
    asking = not opts.defaults
    if own_flake:
        # the project's flake stays as it is (unless the person at the terminal says otherwise): libnix's
        # outputs go to nix/libnix.nix, for it to import
        (defaults if asking else data)["flake_file"] = False
    elif "flake_file" not in data:
        data["flake_file"] = True  # nothing of the project's to keep: not a question
    # what Cargo.lock's crates need, for the summary and a pretend run (a real one refreshes the file)
    native = _planned_native(root) if (asking or opts.pretend) and root.exists() else []
    if asking:
        _decided_by_files(toolchain, defaults, data)
        log("\n".join(found_summary(at, project, defaults, own, own_flake, toolchain, native)))

    if opts.template:
        src, ref = opts.template, opts.vcs_ref
    else:
        cache, ref = template.versioned_source()
        src = template.portable(Path(cache))  # the answers file is committed: no machine's home in it
    with tempfile.TemporaryDirectory(prefix="libnix-init-") as tmp:
        rendered = Path(tmp) / "out"
        _render(src, ref, rendered, data, defaults, ask=asking)
        if asking:
            _pin_chosen_toolchain(src, ref, rendered, opts.offline, result, {"project_dir": at.sub})
        if _answer(rendered, "flake_file") in ("False", "false") and (root / "flake.nix").is_file():
            result.warnings.append(OWN_FLAKE)
        skip = set(template.skip_if_exists())
        files = sorted(p.relative_to(rendered).as_posix() for p in rendered.rglob("*") if p.is_file())
        for rel in files:
            target = _target(at, rel)
            if rel in skip and target.exists():
                result.kept.append(rel)
            elif target.exists() and _same(target, rendered / rel):
                result.unchanged.append(rel)
            elif target.exists() and not opts.force:
                result.conflicts.append(rel)
            else:
                result.written.append(rel)
        if result.conflicts:
            raise UserError(
                f"these files exist and differ from the template: {', '.join(result.conflicts)} "
                "(pass --force to replace them)"
            )
        if (
            own
            and any(f.endswith("workflows/libnix-ci.yml") for f in files)
            and not any(f.endswith("workflows/libnix-release.yml") for f in files)
        ):
            action = _answer(rendered, "libnix_action")
            result.warnings.append(
                f"{own} releases on tags: libnix adds no release workflow beside it. To attach the pinned "
                f"build system to your releases, add to its job: `- uses: {action}` "
                'with `publish: "true"` (after actions/checkout with fetch-depth: 0)'
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
        if new_crate:
            result.created_crate = ["Cargo.toml", "src/main.rs"]
        ignores = _missing_ignores(root) if root.exists() else list(GITIGNORE_LINES)
        if ignores:
            result.written.append(".gitignore")
        if opts.pretend:
            result.native = native
            return result
        try:
            _write(at, rendered, result, new_crate, str(defaults["project_name"]), ignores)
            _fill_native_deps(root, result.native, result.warnings)
        except OSError as exc:
            raise UserError(f"cannot write to {exc.filename or root}: {exc.strerror}") from None
    return result


def _planned_native(root: Path) -> list[str]:
    return native_deps.summary(native_deps.plan(native_deps.locked_packages(root)))


def _decided_by_files(
    toolchain: cargo.Toolchain | None, defaults: dict[str, Any], data: dict[str, Any]
) -> None:
    """What the project's files already answer is not asked: a rust-toolchain file decides the toolchain
    and its targets; a forge other than GitHub has no GitHub workflows to add."""
    if toolchain is not None:
        for key in ("toolchain_channel", "toolchain_version", "targets"):
            if key in defaults and key not in data:
                data[key] = defaults[key]
    if defaults.get("forge", "none") not in ("github", "none") and "ci" not in data:
        data["ci"] = False


def found_summary(
    at: roots.Roots,
    project: cargo.Project | None,
    facts: dict[str, Any],
    own: str | None,
    own_flake: bool,
    toolchain: cargo.Toolchain | None,
    native: list[str],
) -> list[str]:
    """What libnix found, said once before any question: what it will write follows from these."""
    lines = ["libnix found:"]
    if project is None:
        lines.append(
            f"  a new binary crate {facts.get('project_name')} (Cargo.toml and src/main.rs are written)"
        )
    else:
        kind = "workspace" if project.is_workspace else "crate"
        lines.append(
            f"  {kind} {project.name} {project.version or '(no version)'}, edition {project.edition}"
        )
        if project.members:
            lines.append(f"  members: {', '.join(project.members)}")
        if project.binaries:
            lines.append(f"  binaries: {', '.join(project.binaries)}")
    if toolchain is not None:
        pinned = toolchain.version or toolchain.channel
        lines.append(f"  toolchain: {pinned} (from rust-toolchain; not asked)")
    else:
        lines.append("  toolchain: no rust-toolchain file (you choose it below)")
    if facts.get("forge", "none") != "none":
        lines.append(f"  forge: {facts['forge']} {facts.get('repo_owner')}/{facts.get('repo_name')}")
    else:
        lines.append("  forge: no origin remote libnix knows (GitHub workflows are offered)")
    if facts.get("default_branch"):
        lines.append(f"  default branch: {facts['default_branch']}")
    if facts.get("tag_patterns"):
        lines.append(f"  release tags: {', '.join(facts['tag_patterns'])}")
    if native:
        lines.append(f"  native inputs from Cargo.lock: {'; '.join(native)}")
    if own_flake:
        lines.append(
            "  flake.nix: yours; by default it stays and imports libnix's outputs from nix/libnix.nix"
        )
    if own:
        lines.append(f"  {own}: your release workflow; libnix adds none beside it by default")
    where = f"{at.project}" + (f" (workflows at the repository's root, {at.repo})" if at.sub else "")
    lines.append(f"  files go to {where}")
    return lines


def _pin_chosen_toolchain(
    src: str, ref: str | None, rendered: Path, offline: bool, result: InitResult, computed: dict[str, Any]
) -> None:
    """A pinned toolchain chosen at the terminal gets its manifest's hash, as one given with --data does:
    the render is made again with it (the answers otherwise the same)."""
    import yaml

    answers = yaml.safe_load((rendered / template.ANSWERS).read_text()) or {}
    version = str(answers.get("toolchain_version") or "")
    if answers.get("toolchain_channel") != "version" or answers.get("toolchain_sha256") or not version:
        return
    digest = manifest_hash(version, offline)
    if not digest:
        result.warnings.append(offline_hint(version))
        return
    data = {**{k: v for k, v in answers.items() if not k.startswith("_")}, **computed}
    data["toolchain_sha256"] = digest
    shutil.rmtree(rendered)
    _render(src, ref, rendered, data, {}, ask=False)


def _fill_native_deps(root: Path, native: list[str], warnings: list[str]) -> None:
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
            created += [root / rel for rel in cargo.write_minimal_crate(root, name)]
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


@dataclass(frozen=True)
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
    toolchain: cargo.Toolchain | None,
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
    answers = template.read_answers(root)
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
    toolchain = cargo.read_toolchain(root)
    _follow_toolchain(toolchain, answers, data, opts.offline, result)
    if opts.template:
        src, ref = opts.template, opts.vcs_ref
        data["_src_path"] = src
    else:
        src, ref = template.versioned_source()
        recorded = str(answers.get("_src_path", ""))
        where = Path(recorded).expanduser()
        if template.is_cache(recorded) and where.resolve() != Path(src).resolve():
            # made with libnix's template, elsewhere (another cache location, another machine): copier
            # reads the old version from the recorded place, so the installed template goes there too
            src, ref = template.versioned_source(repo=where)
        elif recorded and where.resolve() != Path(src).resolve() and opts.vcs_ref is None:
            if "://" not in recorded and ":" not in recorded.split("/")[0] and not where.is_dir():
                raise UserError(
                    f"the template recorded in {template.ANSWERS} ({recorded}) is not on this machine: "
                    "update from a libnix checkout with --template PATH [--vcs-ref REF]"
                )
            src = recorded  # a project made from a libnix checkout stays with it
            ref = None
        if not template.has_version(str(Path(src).expanduser()), result.from_version):
            raise UserError(
                f"the template version {result.from_version} that made this project is not in {src}: "
                "update from a libnix checkout with --template PATH [--vcs-ref REF]"
            )
        if opts.vcs_ref:
            ref = opts.vcs_ref
    result.to_version = ref or "latest"
    try:
        # a newer template's new facts take the project's values; its new questions are asked on a terminal
        facts = project_defaults(root, cargo.read_project(root), None, toolchain, at)
        copier.run_update(
            root, answers_file=template.ANSWERS, data=data, defaults=not opts.ask, overwrite=True,
            conflict="inline", vcs_ref=ref, quiet=True, user_defaults=facts,
            skip_answered=True,
            # a subdirectory project's workflows live at the repository's root: merged below, not here
            exclude=[".github"] if at.sub else (),
        )  # fmt: skip
    except (copier.errors.CopierError, ValueError) as exc:
        raise ExternalError(f"copier update failed: {str(exc).splitlines()[0]}") from None
    if at.sub:
        _update_workflows(at, answers, data, src, ref)
    _fill_native_deps(root, result.native, result.warnings)  # Cargo.lock may have changed since
    stale = past_support(str(template.read_answers(root).get("nixpkgs_ref", "")))
    if stale:
        result.warnings.append(stale)
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
    return result


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
        _render(old_src, str(answers.get("_commit") or "") or None, old, {**recorded, "project_dir": at.sub},
                {}, ask=False)  # fmt: skip
        _render(src, ref, new, {**recorded, **data, "project_dir": at.sub}, {}, ask=False)
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
                if ours.exists() and _same(ours, base):
                    ours.unlink()  # the template dropped it and the user never changed it
                continue
            if not ours.exists():
                if not base.exists():  # a workflow the new template adds
                    ours.parent.mkdir(parents=True, exist_ok=True)
                    atomic_write(ours, theirs.read_bytes())
                continue  # removed by the user: it stays removed
            if not base.exists() or _same(base, theirs):
                continue  # the template did not change it (or it is the user's own of that name)
            proc = subprocess.run(
                ["git", "merge-file", "-p", "-L", "before updating", "-L", "last update", "-L",
                 "after updating", str(ours), str(base), str(theirs)],
                capture_output=True,
            )  # fmt: skip
            if proc.returncode < 0 or proc.returncode > 127:
                raise ExternalError(f"git merge-file failed on {rel}: {proc.stderr.decode().strip()}")
            if proc.stdout != ours.read_bytes():
                atomic_write(ours, proc.stdout)
