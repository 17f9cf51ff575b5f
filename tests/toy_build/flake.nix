# The toy package set as a nixpkgs flake (lib, legacyPackages), for a consumer's `follows` or
# `--override-input nixpkgs`: what `libnix check --build --nixpkgs` builds the export's flake with.
{
  outputs =
    { self }:
    let
      lib = import ./lib;
    in
    {
      inherit lib;
      legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ] (
        system: import ./pkgs.nix { inherit lib system; }
      );
    };
}
