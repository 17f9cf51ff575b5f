"""What a tag releases: Cargo.toml as the tag has it (the checkout may be a branch whose version moved on),
the project or the workspace member the tag names (`tags`), and the forge that serves its tarball.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scaffold.errors import UserError
from scaffold.forge import Forge, detect
from scaffold.git import repo as gitrepo
from scaffold.git import roots
from scaffold.project import manifest
from scaffold.release import tags

if TYPE_CHECKING:
    from scaffold.release.pipeline import ReleaseOptions


def forge_for(repo: str, opts: ReleaseOptions, project: manifest.Project) -> Forge | None:
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


def project_at(at: roots.Roots, opts: ReleaseOptions) -> tuple[manifest.Project, tags.Released]:
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
