"""Pin a generated build system's local sources to the release tarball, on a staging copy: every rule of
`rules/` (one module per thing cargo (libnix) writes) reads each file's syntax tree once and records its
edits; `verify` checks the result.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scaffold.buildsystem.findings import Finding, Report
from scaffold.buildsystem.layout import nix_files, parse, syntax_error
from scaffold.buildsystem.pins import Origin, Pin
from scaffold.buildsystem.rules import Context, FileJob, build_time_arguments, rules
from scaffold.hashing.nixhash import Sha256


def rewrite(
    root: Path,
    origin: Origin,
    pin: Pin,
    tag_paths: frozenset[str] | None = None,
    project_sub: str = "",
    *,
    keep_ifd: bool = False,
    why_missing: Callable[[str], str] | None = None,
    nixpkgs: Pin | None = None,
    flat: Sha256 | None = None,
) -> Report:
    """Rewrite every `.nix` file under `root` in place (a staging copy); `verify` checks the result.
    `tag_paths`: what the tag's tarball holds; `why_missing` says why a path is not there."""
    report = Report()
    export_files = frozenset(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    ctx = Context(
        pin,
        origin,
        report,
        export_files,
        tag_paths,
        project_sub,
        why_missing=why_missing,
        nixpkgs=nixpkgs,
        flat=flat,
    )
    steps = rules()
    sources = []
    for path in nix_files(root):
        src = parse(path.relative_to(root).as_posix(), path.read_bytes())
        bad = syntax_error(src)
        if bad is not None:
            report.errors.append(bad)
        else:
            sources.append((path, src))
    if not keep_ifd:
        why = build_time_arguments.survey([src for _, src in sources])
        ctx.build_time_arguments = why is None
        if why is not None:
            report.notes.append(Finding("(release)", 0, f"build-script arguments read at evaluation: {why}"))
    for path, src in sources:
        job = FileJob(src)
        for step in steps:
            step(ctx, job)
        if job.edits:
            path.write_bytes(job.result())
    return report
