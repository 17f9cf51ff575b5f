"""What `libnix init` and `libnix update` take for the template's answers: the project's facts (Cargo.toml,
rust-toolchain, the origin remote) as defaults, `--data KEY=VALUE` parsed against the template's
questions, a pinned toolchain's manifest hash; and the copier render both make.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scaffold.environ import without_tokens
from scaffold.errors import UserError
from scaffold.forge import detect
from scaffold.git import repo as gitrepo
from scaffold.git import roots
from scaffold.init import workflows
from scaffold.project import manifest, native_deps

Log = Callable[[str], None]


def parse_data(pairs: tuple[str, ...], known: dict[str, dict[str, Any]]) -> dict[str, Any]:
    import yaml

    data: dict[str, Any] = {}
    release = None
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise UserError(f"--data {pair!r}: expected KEY=VALUE")
        if key == "cargo_libnix_release":  # not a question: it sets the three answers of a known release
            release = raw
            continue
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
        manifest.validate_target(str(target))
    if release is not None:
        from scaffold.init import cargo_libnix_releases

        given = data.get("cargo_libnix_sha256")
        data.update(cargo_libnix_releases.answers_for(release, str(given) if given else None))
    return data


def project_defaults(
    root: Path,
    project: manifest.Project | None,
    own_release: str | None,
    toolchain: manifest.Toolchain | None,
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


def _member_names(root: Path, project: manifest.Project) -> tuple[str, ...]:
    """The package names of the workspace's members: what per-crate release tags begin with."""
    names = []
    for member in project.members:
        package = (manifest.read_toml(root / member / "Cargo.toml").get("package") or {}) if (
            root / member / "Cargo.toml"
        ).is_file() else {}  # fmt: skip
        if package.get("name"):
            names.append(str(package["name"]))
    return tuple(names)


def toolchain_facts(toolchain: manifest.Toolchain | None) -> dict[str, Any]:
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
        manifest.validate_target(target)
    facts["targets"] = list(toolchain.targets)
    return facts


def manifest_hash(version: str, offline: bool) -> str | None:
    """sha256 (SRI) of the channel manifest of a pinned toolchain, which the flake fetches with
    `builtins.fetchurl` (an evaluation-time fetch with a hash: no import from derivation)."""
    if offline:
        return None
    import requests

    url = manifest.manifest_url(version, os.environ.get("LIBNIX_RUST_DIST", manifest.RUST_DIST).rstrip("/"))
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


def offline_hint(version: str) -> str:
    url = manifest.manifest_url(version)
    return (
        f"the channel manifest of Rust {version} could not be fetched, so flake.nix pins a fake hash (the "
        "first evaluation fails and prints the right one); fill it in when online with "
        f"`libnix update --data toolchain_sha256=$(nix-prefetch-url {url})`"
    )


def same_file(a: Path, b: Path) -> bool:
    return a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes()


def render(
    src: str, ref: str | None, dest: Path, data: dict[str, Any], defaults: dict[str, Any], ask: bool
) -> None:
    import copier

    try:
        with without_tokens():  # copier runs git with os.environ
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


def planned_native(root: Path) -> list[str]:
    return native_deps.summary(native_deps.plan(native_deps.locked_packages(root)))


def decided_by_files(
    toolchain: manifest.Toolchain | None, defaults: dict[str, Any], data: dict[str, Any]
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
    project: manifest.Project | None,
    facts: dict[str, Any],
    own: str | None,
    own_flake: bool,
    toolchain: manifest.Toolchain | None,
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
