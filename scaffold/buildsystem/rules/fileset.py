"""The files a root crate builds from: `fn.relativeFileset project_root [ "src/main.rs" … ]`.

Each crate file takes `project_root` as an argument and lists, relative to it, every file rustc reads.
Those paths are pinned through `project_root`; each must exist in the tag's tree, or the consumer's
build fails with `lib.fileset.toSource: … does not exist` long after the release.
"""

from __future__ import annotations

from scaffold.buildsystem.rules import Context, FileJob
from scaffold.nix import syntax as ns


def apply(ctx: Context, job: FileJob) -> None:
    src = job.src
    if ctx.tag_paths is None or b"relativeFileset" not in src.data:
        return
    for _node, args in ns.calls(src, "relativeFileset", 2):
        files = ns.unparen(args[1])
        if files is None or files.type != "list_expression":
            continue
        for item in files.named_children:
            value = ns.string_value(src, item)
            if value is not None:
                ctx.must_exist(src, item, ctx.under_project(value.strip("/")), "fileset entry")
