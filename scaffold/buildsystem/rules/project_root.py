"""`project_root`: the project's root (the directory of the root Cargo.toml), whatever form was written.

cargo (libnix) writes the build system to `target/<profile>/nix/` and, depending on its version and
options, `project_root = ./.;`, `../.;`, `../../../.;` or the absolute path of the checkout; read
relative to the export they name the wrong directory (`./.` the export itself, `../.` under
`target/release/nix` the directory `target/release`). Every form means the project's root, so each one
becomes that directory of the tag's tarball, as a path value (`lib.fileset.toSource` refuses strings).
"""

from __future__ import annotations

from scaffold.buildsystem.findings import Finding
from scaffold.buildsystem.rules import Context, FileJob
from scaffold.nix import syntax as ns


def apply(ctx: Context, job: FileJob) -> None:
    src = job.src
    if b"project_root" not in src.data:
        return
    for binding in src.bindings():
        if ns.binding_name(src, binding) != "project_root":
            continue
        value = ns.unparen(binding.child_by_field_name("expression"))
        if value is None or value.type not in ("path_expression", "hpath_expression") or job.taken(value):
            continue
        if any(c.type == "interpolation" for c in value.named_children):
            continue  # not a literal: local_paths reports it
        written = src.text(value)
        job.replace(value, ctx.pin.path_expr(ctx.project_sub))
        ctx.must_exist(src, value, ctx.project_sub, "project_root")
        shown = f"the tarball's {ctx.project_sub}/" if ctx.project_sub else "the tag's tarball"
        ctx.report.rewritten.append(Finding(src.rel, src.line(value), f"project_root = {written} -> {shown}"))
