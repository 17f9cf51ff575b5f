"""Import-from-derivation: where evaluation would have to build (or fetch through a derivation) first.

An import, callPackage, readFile, pathExists, readDir (and fromJSON/importJSON of one) of a fetcher's
output (`pkgs.fetchFromGitHub`, `fetchgit`, `fetchurl`, `fetchzip`, …) or of a derivation's output makes
nix build during evaluation; nixpkgs, Hydra and `allow-import-from-derivation = false` refuse it. The
builtins fetchers (`builtins.fetchTarball`, `builtins.fetchurl`, `builtins.fetchGit`) fetch at
evaluation time without a derivation: not IFD. Names are followed through `let`/`rec` bindings; a
function parameter interpolated into a read (`builtins.readFile "${crate}/nix/…"`) is a derivation's
output in a generated build system (crates are the only values passed around).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from scaffold.nix import syntax as ns

if TYPE_CHECKING:
    from tree_sitter import Node

IMPORTS = {"import", "scopedImport", "callPackage", "callPackages", "importJSON", "importTOML"}
READS = {"readFile", "pathExists", "readDir", "readFileType"}
FETCHERS = {
    "fetchFromGitHub", "fetchFromGitLab", "fetchFromGitea", "fetchFromCodeberg", "fetchFromSourcehut",
    "fetchFromBitbucket", "fetchFromSavannah", "fetchFromRepoOrCz", "fetchgit", "fetchurl", "fetchzip",
    "fetchCrate", "fetchpatch", "fetchsvn", "fetchhg", "fetchdarcs",
}  # fmt: skip
BUILTIN_FETCHERS = {"fetchTarball", "fetchGit", "fetchTree", "fetchMercurial", "fetchClosure"}
DERIVATIONS = {
    "mkDerivation", "derivation", "runCommand", "runCommandLocal", "runCommandCC", "runCommandNoCC",
    "writeText", "writeTextFile", "writeScript", "writeShellScript", "writeShellScriptBin",
    "symlinkJoin", "buildRustPackage", "buildPythonPackage", "buildGoModule", "linkFarm",
}  # fmt: skip


@dataclass(frozen=True)
class Site:
    sink: Node  # the import / read
    sink_name: str
    source: Node  # the expression whose output is read
    kind: str  # "fetcher", "derivation" or "output" (a parameter interpolated into a read)
    producer: str  # fetchFromGitHub, mkDerivation, or the parameter's name


def _sink(name: str | None) -> str | None:
    last = ns.last_name(name)
    if last in IMPORTS or last in READS:
        if name == last and last in READS:
            return None  # a bare readFile is no builtin: someone's own function
        return last
    return None


def find(src: ns.Source) -> list[Site]:
    if not any(w in src.data for w in (b"import", b"callPackage", b"readFile", b"pathExists", b"readDir")):
        return []
    sites = []
    for node in src.applications():
        if (
            node.parent is not None
            and node.parent.type == "apply_expression"
            and node.parent.child_by_field_name("function") == node
        ):
            continue  # the inner part of `f a b`: handled at the outer application
        name, args = ns.call(src, node)
        sink = _sink(name)
        if sink is None or not args:
            continue
        first = ns.unparen(args[0])
        source = ns.source_of(src, first)
        if source is None:
            continue
        if source.type == "variable_expression":
            interpolated = first is not None and first.type in ns.STRINGS
            if interpolated and sink in READS:
                sites.append(Site(node, sink, source, "output", src.text(source)))
            continue
        producer, _ = ns.call(src, source)
        last = ns.last_name(producer)
        if producer is None or producer.startswith("builtins.") or last in BUILTIN_FETCHERS:
            continue
        if last in FETCHERS:
            sites.append(Site(node, sink, source, "fetcher", last))
        elif last in DERIVATIONS:
            sites.append(Site(node, sink, source, "derivation", last))
    return sites


def describe(site: Site) -> str:
    what = {
        "fetcher": f"the output of {site.producer}",
        "derivation": f"a derivation's output ({site.producer})",
        "output": f"a derivation's output ({site.producer})",
    }[site.kind]
    return f"{site.sink_name} of {what} during evaluation"
