"""The answers file `.libnix-answers.yml` (copier's, written by `libnix init` and `update`): the one place
that reads it, for init, update and release alike, and that says what its answers mean to a release
(the systems it builds for, the binary cache its CI pushes to).

May import: `scaffold.errors`, `scaffold.names`, `scaffold.git`, `scaffold.init.template` (the
template's defaults). Never copier: release reads answers without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scaffold.errors import UserError
from scaffold.git import repo as gitrepo
from scaffold.git import roots
from scaffold.names import ANSWERS


def parse(text: str | bytes | None) -> dict[str, Any] | None:
    """The answers in `text`, or None when it is no answers file (missing, not YAML, not a mapping)."""
    import yaml  # copier depends on PyYAML

    try:
        data = yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def read(project: Path) -> dict[str, Any]:
    """The answers of a project `libnix init` set up; a clear error when it was not."""
    path = project / ANSWERS
    if not path.is_file():
        raise UserError(f"{project} was not set up by libnix init (no {ANSWERS}): run `libnix init` first")
    data = parse(path.read_text())
    if data is None:
        raise UserError(f"{path} is not a copier answers file")
    return data


def rendered(directory: Path) -> dict[str, Any]:
    """The answers of a render libnix just made (a temporary directory): there, always."""
    return parse((directory / ANSWERS).read_text()) or {}


def at_ref(ref: gitrepo.Ref, at: roots.Roots) -> dict[str, Any]:
    """What `libnix init` recorded for the project, as a tag has it ({} when nothing)."""
    return parse(gitrepo.show_file(ref, at.in_repo(ANSWERS))) or {}


def binary_cache(answers: dict[str, Any]) -> tuple[str, str] | None:
    """(substituter URL, public key) of the binary cache the project's CI pushes to, if it has one."""
    name = str(answers.get("binary_cache") or "")
    if not name.startswith("cachix:") or not name[7:]:
        return None
    return f"https://{name[7:]}.cachix.org", str(answers.get("binary_cache_key") or "")


def systems(answers: dict[str, Any]) -> list[str]:
    """The systems the project builds for: what `libnix init` recorded, else the template's default."""
    from scaffold.init import template

    chosen = answers.get("systems")
    if isinstance(chosen, list) and chosen and all(isinstance(s, str) for s in chosen):
        return chosen
    return list(template.questions()["systems"]["default"])
