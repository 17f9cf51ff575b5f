# The flake of a build system exported by libnix (written as flake.nix into the export; the @names@ are
# filled in from the export). `nix build URL#default`, `nix run URL`, or an input whose nixpkgs follows
# yours: the crates are built by cargo_build_caller.nix with this flake's nixpkgs and fenix, locked in
# flake.lock to exactly what the caller pins. libnix-export.json says what there is to build.
{
  description = "@description@";

  inputs = {
    nixpkgs.url = "@nixpkgs@";
    # a source tree, not a flake: fenix is imported with this flake's nixpkgs, so it evaluates no nixpkgs
    # of its own and its inputs need no lock entries
    fenix = {
      url = "@fenix@";
      flake = false;
    };
  };

  outputs =
    { self, nixpkgs, fenix }:
    let
      inherit (nixpkgs) lib;
      export = builtins.fromJSON (builtins.readFile ./libnix-export.json);
      caller = import ./cargo_build_caller.nix;
      # the root crates of the build system, built with the package set `pkgs`
      crates =
        pkgs:
        caller (
          builtins.intersectAttrs (builtins.functionArgs caller) {
            inherit pkgs;
            inherit (pkgs.stdenv.hostPlatform) system;
            fenix = import fenix { inherit pkgs; };
          }
        );
      # binary name -> root crate, for `nix run URL#name` and `nix build URL#name`
      binaries = lib.mapAttrs' (attr: bin: lib.nameValuePair bin attr) export.binaries;
      perSystem =
        f: lib.genAttrs export.systems (system: f (crates nixpkgs.legacyPackages.${system}));
      app = set: attr: {
        type = "app";
        program = "${set.${attr}}/bin/${export.binaries.${attr}}";
      };
    in
    {
      packages = perSystem (
        set:
        lib.genAttrs export.attributes (attr: set.${attr})
        // lib.mapAttrs (_bin: attr: set.${attr}) binaries
        // {
          default = set.${export.default};
        }
      );
      apps = perSystem (
        set:
        lib.mapAttrs (_bin: app set) binaries
        // lib.optionalAttrs (export.binaries ? ${export.default}) { default = app set export.default; }
      );
      # pkgs.<package> on your own nixpkgs: `nixpkgs.overlays = [ input.overlays.default ];`
      overlays.default = final: _prev: { ${export.package} = (crates final).${export.default}; };
    };
}
