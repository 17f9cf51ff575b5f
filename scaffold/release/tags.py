"""What a release tag releases: the project, or the workspace member it names, and at which version.

Workspaces tag per crate: release-plz writes `<package>-v<version>`, cargo-release `<crate>-v<version>`,
tokio `<crate>-<version>`, others `<crate>@<version>`. Such a tag releases that member, with the version
its Cargo.toml has at the tag (checked against the tag). A tag naming no member releases the project.
A version of `0.0.0` is a placeholder (codex stamps the real one in its release job): the tag's version
wins, and the release says where its version came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from scaffold.errors import UserError
from scaffold.project import manifest

_VERSION = re.compile(r"^\d+\.\d+\.\d+(?:[-+][\w.+-]*)?$")
SEPARATORS = ("-v", "-", "@")  # <member>-v1.2.3, <member>-1.2.3, <member>@1.2.3
PLACEHOLDER = "0.0.0"


@dataclass(frozen=True)
class Released:
    name: str  # the package a consumer gets (the member's, or the project's)
    version: str
    version_from: str  # said in the dry run: "Cargo.toml at v1.2.0", "the tag (Cargo.toml says 0.0.0)"
    member: str | None = None  # the workspace member the tag names (its package name)
    member_dir: str | None = None  # its directory, relative to the project
    binaries: list[str] = field(default_factory=list)  # the released package's own binaries first


def member_version(doc: dict[str, Any], workspace_version: str | None) -> tuple[str | None, str | None]:
    """(package name, version) of a member's Cargo.toml, `version.workspace = true` resolved."""
    package = doc.get("package") or {}
    version = package.get("version")
    if isinstance(version, dict) and version.get("workspace"):
        version = workspace_version
    name = package.get("name")
    return (str(name) if name else None), (str(version) if version is not None else None)


def named_member(tag: str, members: dict[str, tuple[str, str | None]]) -> tuple[str, str] | None:
    """(member dir, the version the tag names) of the member `tag` names, longest name first (so that
    `tokio-util-0.7.16` is tokio-util's, not tokio's)."""
    for directory, (name, _version) in sorted(members.items(), key=lambda m: -len(m[1][0])):
        for sep in SEPARATORS:
            rest = tag.removeprefix(name + sep) if tag.startswith(name + sep) else None
            if rest is not None and _VERSION.match(rest):
                return directory, rest
    return None


def released(
    tag: str,
    project: manifest.Project,
    members: dict[str, tuple[str, str | None]],
    member_binaries: dict[str, list[str]],
    *,
    explicit: str | None = None,
    where: str = "",
) -> Released:
    """The package and version tag T releases. `members`: member dir -> (package name, version at T)."""
    where = where or tag
    found = named_member(tag, members)
    if found is not None:
        directory, tagged = found
        name, version = members[directory]
        binaries = member_binaries.get(directory, [])
        rest = [b for b in project.binaries if b not in binaries]
        if explicit:
            return Released(name, explicit, "--version", name, directory, [*binaries, *rest])
        if version in (None, PLACEHOLDER):
            said = f"{name}'s Cargo.toml says {version}" if version else f"{name}'s Cargo.toml has no version"
            return Released(name, tagged, f"the tag ({said})", name, directory, [*binaries, *rest])
        if version != tagged:
            raise UserError(
                f"the tag {tag} names {name} {tagged}, but {name}'s Cargo.toml at {where} says {version}: "
                "tag the commit that has that version, or pass --version"
            )
        return Released(name, version, f"{name}'s Cargo.toml at {where}", name, directory, [*binaries, *rest])
    if explicit:
        return Released(project.name, explicit, "--version", binaries=project.binaries)
    from_tag = manifest.version_from_tag(tag)
    if project.version and project.version != PLACEHOLDER:
        return Released(project.name, project.version, f"Cargo.toml at {where}", binaries=project.binaries)
    said = "Cargo.toml says 0.0.0" if project.version == PLACEHOLDER else "Cargo.toml has no version"
    return Released(project.name, from_tag, f"the tag ({said})", binaries=project.binaries)
