"""Import-from-derivation of a fetcher's output, rewritten where builtins do the same fetch.

`import (pkgs.fetchFromGitHub {…})` (fenix in every caller) and `pkgs.callPackage (pkgs.fetchFromGitHub
{…}) {}` (the build_parser of older callers, through a `let` name) make nix build a derivation during
evaluation. `builtins.fetchTarball` of the same GitHub archive yields the same store path (name
`source`, the same NAR hash), fetched at evaluation time with no derivation; `pkgs.fetchurl` has
`builtins.fetchurl` (flat hash, name = the URL's basename) and `pkgs.fetchzip` `builtins.fetchTarball`.
Only fetchers that reach an import are rewritten: a plain `src = pkgs.fetchFromGitHub {…}` is built at
build time and stays. The rest (fetchgit, extra arguments such as fetchSubmodules, derivations) are
reported with file and line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scaffold.buildsystem import ifd
from scaffold.buildsystem.findings import Finding
from scaffold.buildsystem.pins import nix_string
from scaffold.buildsystem.rules import Context, FileJob
from scaffold.nix import syntax as ns

if TYPE_CHECKING:
    from tree_sitter import Node


def _string(value: str) -> str:
    return nix_string(value)


def builtin_twin(src: ns.Source, fetcher: Node) -> str | None:
    """The builtins call that fetches exactly what `fetcher` does, or None."""
    name, args = ns.call(src, fetcher)
    last = ns.last_name(name)
    attrs = ns.plain_attrs(src, args[0]) if len(args) == 1 else None
    if attrs is None:
        return None
    digest = attrs.get("sha256") or attrs.get("hash")
    if not digest or ("sha256" in attrs and "hash" in attrs):
        return None
    if last == "fetchFromGitHub" and set(attrs) <= {"owner", "repo", "rev", "tag", "sha256", "hash", "name"}:
        ref = attrs.get("rev") or (f"refs/tags/{attrs['tag']}" if "tag" in attrs else None)
        if ref is None or ("rev" in attrs and "tag" in attrs):
            return None
        url = f"https://github.com/{attrs['owner']}/{attrs['repo']}/archive/{ref}.tar.gz"
        builtin = "builtins.fetchTarball"
    elif last == "fetchzip" and set(attrs) <= {"url", "sha256", "hash", "name"}:
        url, builtin = attrs["url"], "builtins.fetchTarball"
    elif last == "fetchurl" and set(attrs) <= {"url", "sha256", "hash"}:
        url, builtin = attrs["url"], "builtins.fetchurl"
    else:
        return None
    body = f"    url = {_string(url)};\n    sha256 = {_string(digest)};\n"
    if "name" in attrs:
        body += f"    name = {_string(attrs['name'])};\n"
    return f"{builtin} {{\n{body}  }}"


def apply(ctx: Context, job: FileJob) -> None:
    src = job.src
    for site in ifd.find(src):
        if site.kind != "fetcher" or job.taken(site.source):
            continue
        twin = builtin_twin(src, site.source)
        if twin is None:
            continue  # verify reports it
        job.replace(site.source, twin)
        ctx.report.rewritten.append(
            Finding(
                src.rel,
                src.line(site.source),
                f"{site.producer} (imported at evaluation) -> {twin.split(' ', 1)[0]}",
            )
        )
