"""The generating machine's path of a build-system file, inside a message: made export-relative.

Every `*-script_build_run-*.nix` names its own file in the notice printed when a build script fails:
`"There was an error executing build_script_build in file: '/tmp/blah/derivations/deps/….nix':"` (other
generations: `/home/nixos/cargo/target/debug/nix/derivations/…`). It is text for a person, not a path nix
reads; in an export it names the file as the consumer has it: `derivations/deps/….nix`. Only text inside
a string is touched, and only a path that ends with the file's own place in the build system (so
`nixpkgsSrc + "/pkgs/top-level/default.nix"` is never mistaken for the export's `default.nix`).
"""

from __future__ import annotations

import re

from scaffold.buildsystem.findings import Finding
from scaffold.buildsystem.rules import Context, FileJob

# an absolute path standing on its own (not the tail of a URL or of a longer path)
ABSOLUTE = re.compile(rb"(?<![\w.\-~%+/:@])/[\w.\-+@/]*[\w\-+]\.nix\b")


def _names_itself(path: str, rel: str) -> bool:
    return path.endswith("/" + rel) and len(path) > len(rel) + 1


def apply(ctx: Context, job: FileJob) -> None:
    src = job.src
    if b".nix" not in src.data:
        return
    for m in ABSOLUTE.finditer(src.data):
        node = src.node_at(m.start(), m.end())
        if node is None or node.type != "string_fragment":
            continue
        if not _names_itself(m.group().decode(), src.rel) or any(
            a < m.end() and m.start() < b for a, b, _ in job.edits
        ):
            continue
        job.replace_range(m.start(), m.end(), src.rel)
        ctx.report.rewritten.append(
            Finding(src.rel, src.line_at(m.start()), f"message text {m.group().decode()} -> {src.rel}")
        )
