"""The rewrite rules for an exported build system, one module per thing cargo (libnix) writes.

Each rule reads one file's syntax tree and records edits (byte ranges and their replacement), findings
and the paths it pinned. `buildsystem.rewrite` runs them in the order of `RULES`, and an edit a rule
makes hides that range from the rules after it:

| module | what it handles |
| --- | --- |
| `pinned_src` | sources already pinned to the tag's URL: `pkgs.fetchurl` (`--url/--hash`), `fetchTarball` |
| `filter_source` | older root crates' `src = builtins.filterSource (…) /abs/checkout[/member];` |
| `project_root` | `project_root = ./.;`, `../.;`, `../../../.;`, an absolute path: the project's root |
| `fileset` | the files `fn.relativeFileset project_root [ … ]` names must exist in the tag's tree |
| `consumer_pkgs` | the caller's own nixpkgs and fenix become parameters: the consumer's `pkgs` is used |
| `crate_sources` | registry crates: crates.io's API URL (403 to nix) -> static.crates.io, nixpkgs' name |
| `fetcher_imports` | import / callPackage of a fetcher's output (IFD) rewritten to its builtins twin |
| `build_time_arguments` | default.nix's eval-time reads of build-script output (IFD) moved to build time |
| `text_paths` | the generating machine's path of a build-system file inside a message: made export-relative |
| `local_paths` | other path literals: kept in the build system, pinned in the project, else refused |
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scaffold.buildsystem.findings import Finding, Report
from scaffold.buildsystem.pins import Origin, Pin
from scaffold.hashing.nixhash import Sha256
from scaffold.nix.syntax import Source

if TYPE_CHECKING:
    from tree_sitter import Node


@dataclass
class Context:
    """What every rule may know about the export."""

    pin: Pin
    origin: Origin
    report: Report
    export_files: frozenset[str]  # every file of the build system, relative to its root
    tag_paths: frozenset[str] | None = None  # files and directories of the tag's tree, when known
    project_sub: str = ""  # the project's root inside the tarball ("" = its top)
    build_time_arguments: bool = False  # build_time_arguments may rewrite (no --keep-ifd, uses checked)
    why_missing: Callable[[str], str] | None = None  # why a path of the tag is not in its tarball
    nixpkgs: Pin | None = None  # the project's flake.lock nixpkgs: the caller's default pkgs (consumer_pkgs)
    flat: Sha256 | None = None  # the tag tarball file's own sha256, when libnix has the file (pinned_src)

    def under_project(self, sub: str) -> str:
        return "/".join(p for p in (self.project_sub, sub) if p)

    def source_sub(self, path: Path) -> str | None:
        """Where a path of the generating machine lies in the tarball, if it lies in the project."""
        return next((s for r in self.origin.source_roots if (s := relative_to(path, r)) is not None), None)

    def must_exist(self, src: Source, node: Node, sub: str, what: str) -> None:
        """Every pinned path must be in the tag's tree, or the consumer's build fails much later."""
        sub = posixpath.normpath(sub) if sub else sub  # `src/../examples/x.rs` is listed as rustc saw it
        if self.tag_paths is None or sub in ("", ".") or sub in self.tag_paths:
            return
        why = self.why_missing(sub) if self.why_missing else ""
        where = why or "does not exist in the tag's tree"
        self.report.errors.append(Finding(src.rel, src.line(node), f"{what} {sub!r} {where}"))


@dataclass
class FileJob:
    src: Source
    edits: list[tuple[int, int, str]] = field(default_factory=list)

    def taken(self, node: Node) -> bool:
        return self.taken_range(node.start_byte, node.end_byte)

    def taken_range(self, start: int, end: int) -> bool:
        return any(a < end and start < b for a, b, _ in self.edits)

    def replace(self, node: Node, text: str) -> None:
        self.edits.append((node.start_byte, node.end_byte, text))

    def replace_range(self, start: int, end: int, text: str) -> None:
        self.edits.append((start, end, text))

    def result(self) -> bytes:
        data = self.src.data
        for start, end, new in sorted(self.edits, reverse=True):
            data = data[:start] + new.encode() + data[end:]
        return data


Rule = Callable[[Context, FileJob], None]


def rules() -> list[Rule]:
    from scaffold.buildsystem.rules import (
        build_time_arguments,
        consumer_pkgs,
        crate_sources,
        fetcher_imports,
        fileset,
        filter_source,
        local_paths,
        pinned_src,
        project_root,
        text_paths,
    )

    return [
        pinned_src.apply,
        filter_source.apply,
        project_root.apply,
        fileset.apply,
        consumer_pkgs.apply,
        crate_sources.apply,
        fetcher_imports.apply,
        build_time_arguments.apply,
        text_paths.apply,
        local_paths.apply,
    ]


def relative_to(path: Path, root: Path) -> str | None:
    try:
        rel = path.relative_to(root)
    except ValueError:
        return None
    return "" if str(rel) == "." else rel.as_posix()
