"""Older root crates: `src = builtins.filterSource (path: type: …) /abs/checkout[/member];`.

Before `project_root`, cargo (libnix) wrote the absolute path of the workspace root (generator source
nix_code.rs `generate_src`, no `--url`) into every local crate, filtered to drop `target` and `result*`.
It becomes the tag's tarball (+ `/member`): the tarball holds no `target/` or `result` (they are not
committed), so the filter has nothing left to drop. A checkout of another machine (a `--from` directory
made elsewhere) is matched to the tag's tree by its longest trailing part that is a crate directory there,
else taken as the project's root, which is what upstream writes.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from scaffold.buildsystem.findings import Finding
from scaffold.buildsystem.rules import Context, FileJob
from scaffold.nix import syntax as ns


def _sub_for(ctx: Context, written: str, rel_file: str) -> str | None:
    if written.startswith("/"):
        path = Path(os.path.normpath(written))
    else:
        path = Path(os.path.normpath(ctx.origin.generated_at / Path(rel_file).parent / written))
    sub = ctx.source_sub(path)
    if sub is not None:
        return sub
    if not written.startswith("/"):
        return None
    parts = PurePosixPath(written).parts[1:]
    for k in range(len(parts), 0, -1):
        tail = "/".join(parts[-k:])
        if ctx.tag_paths is not None and ctx.under_project(f"{tail}/Cargo.toml") in ctx.tag_paths:
            return tail
    return ""


def apply(ctx: Context, job: FileJob) -> None:
    src = job.src
    if b"filterSource" not in src.data:
        return
    for node, args in ns.calls(src, "filterSource", 2):
        if job.taken(node):
            continue
        where = ns.unparen(args[1])
        if where is None or where.type != "path_expression" or where.named_child_count != 1:
            continue  # not a literal: local_paths reports what it is
        written = src.text(where)
        sub = _sub_for(ctx, written, src.rel)
        if sub is None:
            continue  # outside the project: local_paths refuses it
        full = ctx.under_project(sub)
        job.replace(node, ctx.pin.string_expr(full))
        ctx.must_exist(src, where, full, "filterSource directory")
        ctx.report.rewritten.append(
            Finding(
                src.rel,
                src.line(node),
                f"src = builtins.filterSource … {written} -> the tag's tarball"
                + (f" /{full}" if full else ""),
            )
        )
