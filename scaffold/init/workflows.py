"""What a project's CI already is: its default branch, how it names release tags, and whether it has a
release workflow of its own. The workflows libnix writes follow the project instead of assuming
`main` and `v*`, and never stand beside the project's own release pipeline (two workflows racing to
create the same GitHub release on every tag)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from scaffold.git import repo as gitrepo

OURS = ("libnix-ci.yml", "libnix-release.yml")


def default_branch(repo: Path) -> str | None:
    """origin's default branch (origin/HEAD), else the branch checked out."""
    if not (repo / ".git").exists():
        return None
    proc = gitrepo.git(
        str(repo), "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD", check=False
    )
    name = proc.stdout.decode().strip()
    if proc.returncode == 0 and "/" in name:
        return name.split("/", 1)[1]
    proc = gitrepo.git(str(repo), "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    return (proc.stdout.decode().strip() or None) if proc.returncode == 0 else None


# a semantic version as GitHub's filter patterns write it (`+`: one or more of what precedes, `.` literal)
_SEMVER_GLOB = "[0-9]+.[0-9]+.[0-9]+*"


def tag_patterns(repo: Path, members: tuple[str, ...] = ()) -> list[str] | None:
    """Glob patterns (as GitHub Actions matches tags) for the project's release tags: `v*` for v1.2.3,
    `[0-9]*` for 1.2.3 or 2026-08-17, `name-*` for name-1.2; per-crate tags of a workspace's `members`
    (package names: tokio's `tokio-util-0.7.16`, release-plz's `member-v1.2.3`, `member@1.2.3`) as one
    pattern per separator that needs a version after it (`*-v[0-9]+.[0-9]+.[0-9]+*`), so that the next
    member's first tag matches too; the common ones, most used first."""
    if not (repo / ".git").exists():
        return None
    tags = gitrepo.git(str(repo), "tag", "--list", check=False).stdout.decode().split()
    counts: Counter[str] = Counter()
    names = sorted(members, key=len, reverse=True)
    for tag in tags:
        crate = next(
            (f"*{sep}{_SEMVER_GLOB}" for n in names for sep in ("-v", "-", "@")
             if tag.startswith(n + sep) and re.match(r"^\d+\.\d+\.\d+", tag[len(n + sep) :])),
            None,
        )  # fmt: skip
        if crate:
            counts[crate] += 1
        elif re.match(r"^v\d", tag):
            counts["v*"] += 1
        elif tag[:1].isdigit():
            counts["[0-9]*"] += 1
        elif m := re.match(r"^([A-Za-z][\w.]*[-_/]v?)\d", tag):
            counts[m.group(1) + "*"] += 1
    if not counts:
        return None
    return [p for p, n in counts.most_common(3) if n * 10 >= len(tags)] or [counts.most_common(1)[0][0]]


def own_release_workflow(root: Path) -> str | None:
    """A workflow of the project's that releases: runs on tag pushes or on a published release, or is
    called release/publish. Its path relative to root, or None."""
    import yaml

    folder = root / ".github" / "workflows"
    if not folder.is_dir():
        return None
    for path in sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]):
        if path.name in OURS:
            continue
        if path.stem.lower() in ("release", "publish", "cd"):
            return path.relative_to(root).as_posix()
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        if _releases(doc):
            return path.relative_to(root).as_posix()
    return None


def _releases(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads the key `on` as true
    if isinstance(on, str):
        on = {on: None}
    elif isinstance(on, list):
        on = dict.fromkeys(on)
    if not isinstance(on, dict):
        return False
    push = on.get("push")
    return "release" in on or (isinstance(push, dict) and "tags" in push)
