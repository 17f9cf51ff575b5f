"""The generating machine's path of a build-system file, inside a message: made export-relative.

Every `*-script_build_run-*.nix` names its own file in the notice printed when a build script fails:
`"There was an error executing build_script_build in file: '/tmp/blah/derivations/deps/….nix':"` (other
generations: `/home/nixos/cargo/target/debug/nix/derivations/…`). It is text for a person, not a path nix
reads; in an export it names the file as the consumer has it: `derivations/deps/….nix`. Only text inside
a string is touched, and only when its tail is a file of the build system.
"""

from __future__ import annotations

import re

from . import Context, FileJob

# an absolute path standing on its own (not the tail of a URL or of a longer path)
ABSOLUTE = re.compile(rb"(?<![\w.\-~%+/:@])/[\w.\-+@/]*[\w\-+]\.nix\b")


def _tail_in(path: str, files: frozenset[str]) -> str | None:
    parts = path.strip("/").split("/")
    for k in range(len(parts), 0, -1):
        tail = "/".join(parts[-k:])
        if tail in files:
            return tail
    return None


def apply(ctx: Context, job: FileJob) -> None:
    from ..buildsystem import Finding

    src = job.src
    if b".nix" not in src.data:
        return
    for m in ABSOLUTE.finditer(src.data):
        node = src.node_at(m.start(), m.end())
        if node is None or node.type != "string_fragment":
            continue
        tail = _tail_in(m.group().decode(), ctx.export_files)
        if tail is None or any(a < m.end() and m.start() < b for a, b, _ in job.edits):
            continue
        job.replace_range(m.start(), m.end(), tail)
        ctx.report.rewritten.append(
            Finding(src.rel, src.line_at(m.start()), f"message text {m.group().decode()} -> {tail}")
        )
