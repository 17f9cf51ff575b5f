# libnix check --eval, the plain form: what a consumer without flakes writes,
# `import "${asset}/cargo_build_caller.nix" { inherit pkgs; }`, with their nixpkgs (or, with
# nixpkgs = null, the one the caller pins), for one system; every root crate's drvPath.
{
  export,
  nixpkgs ? null,
  fenix ? null,
  system ? builtins.currentSystem,
  only ? null,
}:
let
  info = builtins.fromJSON (builtins.readFile (export + "/libnix-export.json"));
  pkgs = import nixpkgs { inherit system; };
  given =
    (if nixpkgs == null then { } else { inherit pkgs; })
    // (
      if fenix == null then { }
      else { fenix = import fenix (if nixpkgs == null then { } else { inherit pkgs; }); }
    );
  crates = import (export + "/cargo_build_caller.nix") ({ inherit system; } // given);
  names = if only == null then info.attributes else [ only ];
in
builtins.listToAttrs (map (name: { inherit name; value = crates.${name}.drvPath; }) names)
