"""Every other path literal: nix reads it at evaluation time, on the consumer's machine.

A path inside the build system (`./derivations/default.nix`, `./Cargo.dependencies.nix`) travels with
the export and stays. A path into the project (relative or absolute, resolved from where the files were
generated) becomes the same path of the tag's tarball. Anything else would read the generating
machine's disk, or the consumer's (`<nixpkgs>`, `~/…`): refused.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import nixsyntax as ns
from ..findings import Finding
from . import Context, FileJob, relative_to


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
        ctx.must_exist(src, node, sub, "path")
        ctx.report.rewritten.append(Finding(src.rel, line, f"{text} pinned to the tag's tarball"))
