"""Sources a generator already pinned to the tag's tarball.

`write-nix-buildsystem --url U --hash H` writes, for every local crate (generator source nix_code.rs
`generate_src`, 2025), `src = pkgs.fetchurl { url = U; sha256 = H; };`: H is the hash of the tarball FILE
and the crate's `unpackPhase = "";` never unpacks it. libnix runs the generator without `--url/--hash`, but
a `--from` directory may have been made with them: such a fetchurl becomes the unpacked tarball, pinned
with its NAR hash (robust to the forge recompressing). A `builtins.fetchTarball` of U is checked against
the hash libnix computed; bound to `project_root` it becomes a path value, as `lib.fileset` needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scaffold.buildsystem.findings import Finding
from scaffold.buildsystem.pins import Pin
from scaffold.buildsystem.rules import Context, FileJob
from scaffold.errors import UserError
from scaffold.hashing.nixhash import parse_sha256
from scaffold.nix import syntax as ns

if TYPE_CHECKING:
    from tree_sitter import Node

TARBALL = ("builtins.fetchTarball", "fetchTarball")


def fetch_calls(src: ns.Source, names: tuple[str, ...]) -> list[tuple[Node, dict[str, str]]]:
    """Calls of the given fetchers whose argument is a plain `{ url = "…"; sha256 = "…"; }`."""
    if not any(n.rsplit(".", 1)[-1].encode() in src.data for n in names):
        return []
    out = []
    for node in src.applications():
        name, args = ns.call(src, node)
        if name in names and len(args) == 1:
            attrs = ns.plain_attrs(src, args[0])
            if attrs is not None and "url" in attrs:
                out.append((node, attrs))
    return out


def hash_problem(attrs: dict[str, str], pin: Pin) -> str | None:
    """What is wrong with a `fetchTarball { url = <the tag's URL>; sha256; }`, if anything."""
    try:
        pinned = parse_sha256(attrs.get("sha256", ""))
    except UserError:
        return f"malformed sha256 for {pin.url}"
    if pinned != pin.sha256:
        return f"{pin.url} pinned to {pinned.prefixed}, but its hash is {pin.sha256.prefixed}"
    return None


def apply(ctx: Context, job: FileJob) -> None:
    src, pin = job.src, ctx.pin
    if pin.url.encode() not in src.data:
        return
    for node, attrs in fetch_calls(src, (*TARBALL, "pkgs.fetchurl", "fetchurl")):
        if attrs["url"] != pin.url:
            continue
        name, _ = ns.call(src, node)
        as_path = ns.bound_name(src, node) == "project_root"
        sub = ctx.project_sub
        new = pin.path_expr(sub) if as_path else pin.string_expr(sub)
        line = src.line(node)
        if name in TARBALL:
            problem = hash_problem(attrs, pin)
            if problem is not None:
                ctx.report.errors.append(Finding(src.rel, line, problem))
                continue
            if not as_path:
                continue  # already right
            what = "fetchTarball of the tag's tarball -> a path value"
        else:
            what = "fetchurl of the tag's tarball (a file hash, never unpacked) -> its unpacked tree"
            wrong = _flat_problem(attrs, ctx)
            if wrong is not None:
                ctx.report.errors.append(Finding(src.rel, line, wrong))
                continue
        # `/. + (fetchTarball …)`: the wrapper is already there when the value is ours
        job.replace(_outer(src, node) if as_path else node, new)
        ctx.report.rewritten.append(Finding(src.rel, line, what))


def _flat_problem(attrs: dict[str, str], ctx: Context) -> str | None:
    """A flat hash that is not the tarball file's: `write-nix-buildsystem --url U --hash H` was given
    another file's hash (upstream's README computes it with `nix-prefetch-url U`, no --unpack). Checked
    when libnix has the file (a file:// URL, --verify-remote); the right one is named."""
    if ctx.flat is None:
        return None
    try:
        given = parse_sha256(attrs.get("sha256", ""))
    except UserError:
        return f"malformed sha256 for {ctx.pin.url}"
    if given == ctx.flat:
        return None
    return (
        f"fetchurl of {ctx.pin.url} has the flat hash {given.prefixed}, but the tarball file's is "
        f"{ctx.flat.prefixed} (libnix pins its unpacked tree: {ctx.pin.sha256.prefixed})"
    )


def _outer(src: ns.Source, node: Node) -> Node:
    """The whole value of a binding around `node` (the expression after `project_root =`)."""
    while node.parent is not None and node.parent.type != "binding":
        node = node.parent
    return node
