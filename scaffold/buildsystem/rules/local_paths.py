"""Every other path literal: nix reads it at evaluation time, on the consumer's machine.

A path inside the build system (`./derivations/default.nix`, `./Cargo.dependencies.nix`) travels with
the export and stays. A path into the project (relative or absolute, resolved from where the files were
generated) becomes the same path of the tag's tarball. Anything else would read the generating
machine's disk, or the consumer's (`<nixpkgs>`, `~/…`): refused.

A path read only under its own `builtins.pathExists` guard may be absent from the tag: the build_parser
generation's caller reads `../../../Cargo.dependencies.nix` only `if builtins.pathExists` finds it. It is
pinned all the same (`pathExists` of a path inside a fetched tarball evaluates without IFD, and says no);
an unguarded read of a missing path stays an error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from scaffold.buildsystem.findings import Finding
from scaffold.buildsystem.rules import Context, FileJob, relative_to
from scaffold.nix import syntax as ns

if TYPE_CHECKING:
    from tree_sitter import Node


def apply(ctx: Context, job: FileJob) -> None:
    src = job.src
    if b"/" not in src.data and b"<" not in src.data:
        return
    for node in src.paths():
        if job.taken(node) or (node.parent is not None and node.parent.type in ns.PATHS):
            continue
        text, line = src.text(node), src.line(node)
        if node.type == "spath_expression":
            ctx.report.errors.append(Finding(src.rel, line, f"impure search path {text} (not pinned)"))
            continue
        if node.type == "hpath_expression":
            ctx.report.errors.append(Finding(src.rel, line, f"home path {text} cannot be pinned"))
            continue
        if text == "/." or any(c.type == "interpolation" for c in node.named_children):
            continue  # `/. + …` turns a fetched store path into a path; interpolated: checked by nix
        absolute = text.startswith("/")
        base = ctx.origin.generated_at / Path(src.rel).parent
        resolved = Path(os.path.normpath(text if absolute else base / text))
        if not absolute and relative_to(resolved, ctx.origin.generated_at) is not None:
            continue  # a file of the build system itself
        sub = ctx.source_sub(resolved)
        if sub is None:
            ctx.report.errors.append(
                Finding(src.rel, line, f"local path {text} ({resolved}) is outside the project")
            )
            continue
        job.replace(node, ctx.pin.path_expr(sub))
        if not _guarded(src, node):
            ctx.must_exist(src, node, sub, "path")
        ctx.report.rewritten.append(Finding(src.rel, line, f"{text} pinned to the tag's tarball"))


def _guarded(src: ns.Source, node: Node) -> bool:
    """Whether `node` stands in the condition or the `then` branch of `if builtins.pathExists <node>`."""
    text = src.text(node)
    scope = node.parent
    while scope is not None:
        if scope.type == "if_expression":
            name, args = ns.call(src, scope.child_by_field_name("condition"))
            other = scope.child_by_field_name("alternative")
            outside_else = other is None or not other.start_byte <= node.start_byte < other.end_byte
            same = bool(args) and src.text(ns.unparen(args[0])) == text
            if ns.last_name(name) == "pathExists" and same and outside_else:
                return True
        scope = scope.parent
    return False
