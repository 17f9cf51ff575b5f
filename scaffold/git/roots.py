"""A project's two roots, carried together: the repository's and the project's.

The repository root is git's top level: what the forge's tag tarball holds, where `.github/workflows/`
must live (GitHub reads no other), what `git archive` streams. The project root is the directory of the
root `Cargo.toml`, where `flake.nix`, `Cargo.lock` and the answers file live. They differ when a Rust
workspace sits in a subdirectory of its repository (openai/codex keeps its workspace in `codex-rs/`
beside a TypeScript CLI): then every path libnix pins, checks or reads at a tag is the project's path
inside the repository (`codex-rs/src/main.rs`), and workflows run in that directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scaffold.git import repo as gitrepo


@dataclass(frozen=True)
class Roots:
    repo: Path  # git's top level
    project: Path  # the directory of the root Cargo.toml

    @property
    def sub(self) -> str:
        """The project's directory inside the repository ("" at its top), as git and tarballs name it."""
        rel = self.project.relative_to(self.repo).as_posix()
        return "" if rel == "." else rel

    def in_repo(self, rel: str) -> str:
        """A path of the project as a path of the repository's tree (and of its tarball)."""
        return f"{self.sub}/{rel}" if self.sub else rel


def of(path: str | Path) -> Roots:
    """The roots of the project at `path` (a directory inside a git work tree)."""
    top = Path(gitrepo.toplevel(str(path)))
    prefix = gitrepo.git(str(path), "rev-parse", "--show-prefix").stdout.decode().strip().strip("/")
    return Roots(top, top / prefix if prefix else top)


def locate(path: Path) -> Roots:
    """The roots of a project that may not exist yet or have no repository yet: a directory outside any
    work tree is its own repository root (init makes it one), one inside a work tree is a project in
    that repository (no repository inside the repository)."""
    existing = next((p for p in (path, *path.parents) if p.is_dir()), None)
    if existing is None:
        return Roots(path, path)
    proc = gitrepo.git(str(existing), "rev-parse", "--show-toplevel", check=False)
    if proc.returncode != 0:
        return Roots(path, path)
    top = Path(proc.stdout.decode().strip()).resolve()
    return Roots(top, path.resolve()) if path.resolve().is_relative_to(top) else Roots(path, path)
