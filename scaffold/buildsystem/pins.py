"""What an export is pinned to, where its files came from, and the files it is entered by.

Shared by `buildsystem` (layout, rewrite, verify) and the rules of `rules/`, which sit below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scaffold.hashing.nixhash import Sha256


@dataclass(frozen=True)
class Pin:
    """The tag's tarball: where consumers fetch the sources, and its fetchTarball hash."""

    url: str
    sha256: Sha256

    def fetch(self) -> str:
        return f'builtins.fetchTarball {{ url = {nix_string(self.url)}; sha256 = "{self.sha256.prefixed}"; }}'

    def path_expr(self, sub: str) -> str:
        # a path value, not a string: `lib.fileset.toSource { root = project_root; }` refuses strings
        expr = f"/. + builtins.unsafeDiscardStringContext ({self.fetch()})"
        return f'({expr} + "/{sub}")' if sub else f"({expr})"

    def string_expr(self, sub: str) -> str:
        return f'"${{{self.fetch()}}}/{sub}"' if sub else self.fetch()


@dataclass(frozen=True)
class Origin:
    """Where the files were generated (relative literals resolve from there) and the trees whose
    contents the tarball holds (the repository, or the worktree of the tag)."""

    generated_at: Path
    source_roots: tuple[Path, ...]


def nix_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
    return f'"{escaped}"'
