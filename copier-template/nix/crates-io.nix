# crates.io answers HTTP 403 on its API download endpoint to nixpkgs' fetchurl (whose agent starts with
# `curl/`) since 2026, and cargo (libnix) fetches every crate there:
#   pkgs.fetchurl { url = "https://crates.io/api/v1/crates/N/V/download"; sha256 = …; }
# This overlay's fetchurl takes such a URL from static.crates.io, which serves the same `.crate` bytes
# (the sha256 holds), named as nixpkgs' importCargoLock names it, crate-N-V.tar.gz (so a binary cache
# that holds nixpkgs' copy serves it); a name already given is kept, and every other fetch is passed
# through untouched. Pure nix: no import-from-derivation. Written by `libnix init`, kept by
# `libnix update`; nix/libnix.nix hands it to cargo (libnix)'s build and to the project's export.
final: prev:
let
  apiDownload = url: builtins.match "https://crates\\.io/api/v1/crates/([^/]+)/([^/]+)/download" url;
  moved =
    args:
    let
      crate = if builtins.isAttrs args && builtins.isString (args.url or null) then apiDownload args.url else null;
      name = builtins.elemAt crate 0;
      version = builtins.elemAt crate 1;
    in
    if crate == null then
      args
    else
      { name = "crate-${name}-${version}.tar.gz"; }
      // args
      // {
        url = "https://static.crates.io/crates/${name}/${name}-${version}.crate";
      };
in
{
  fetchurl = prev.lib.mirrorFunctionArgs prev.fetchurl (args: prev.fetchurl (moved args));
}
