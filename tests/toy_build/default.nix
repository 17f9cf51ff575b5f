# nixpkgs' entry point for the toy package set: `import TOY { system = …; }` (./lib is the real nixpkgs lib,
# copied in by the test that lays this folder out as a nixpkgs)
{
  system ? builtins.currentSystem,
  ...
}:
import ./pkgs.nix {
  lib = import ./lib;
  inherit system;
}
