"""Registry crates fetched where crates.io serves them to nix, under nixpkgs' store name.

Every crate cargo (libnix) writes is `src = pkgs.fetchurl { url = "https://crates.io/api/v1/crates/N/V/
download"; sha256 = …; }` (generator source nix_code.rs `generate_src`; the newest generation, commit
2595daa, adds `name = "crate-N-V.tar.gz";` before the url). crates.io answers 403 on that endpoint to
nixpkgs' fetchurl, so every consumer's build would fail at its first crate no cache has: the url becomes
`https://static.crates.io/crates/N/N-V.crate` (the same bytes, so the sha256 stays), and a missing name
becomes nixpkgs' `crate-N-V.tar.gz`, so the store path is the one a binary cache has for nixpkgs' copy.
A name the generator wrote is kept; git sources and other URLs are not touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from scaffold.buildsystem.crates_io import API_PREFIX, api_crate, static_url, store_name
from scaffold.buildsystem.pins import nix_string
from scaffold.buildsystem.rules import Context, FileJob

if TYPE_CHECKING:
    from tree_sitter import Node
from scaffold.nix import syntax as ns

Bindings = dict[str, tuple["Node", "Node"]]


def api_fetches(src: ns.Source) -> Iterator[tuple[Node, Bindings, tuple[str, str]]]:
    """Each `fetchurl` of crates.io's API endpoint: the call, its bindings, (name, version). The rule
    moves them; `verify` refuses an export that still has one."""
    if API_PREFIX.encode() not in src.data:
        return
    for node, args in ns.calls(src, "fetchurl", 1):
        attrset = ns.unparen(args[0])
        if attrset is None or attrset.type != "attrset_expression":
            continue
        values = {name: (binding, value) for name, binding, value in ns.bindings(src, attrset)}
        crate = api_crate(ns.string_value(src, values["url"][1]) or "") if "url" in values else None
        if crate is not None:
            yield node, values, crate


def apply(ctx: Context, job: FileJob) -> None:
    src = job.src
    for _node, values, crate in api_fetches(src):
        url_binding, url_value = values["url"]
        if job.taken(url_value):
            continue
        job.replace(url_value, nix_string(static_url(*crate)))
        if "name" not in values:
            before = src.line_before(url_binding.start_byte)
            gap = f"\n{before}" if not before.strip() else " "  # on its own line, as the newest generator
            named = f"name = {nix_string(store_name(*crate))};{gap}"
            job.replace_range(url_binding.start_byte, url_binding.start_byte, named)
        ctx.report.crates_moved += 1
