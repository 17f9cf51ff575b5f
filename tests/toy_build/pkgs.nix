# A package set that BUILDS (unlike ../stubs and ../shared/nix-eval's shim, which only evaluate): just
# enough of nixpkgs for cargo (libnix)'s generated crates, with stand-ins where the real tool cannot run
# here. The real nixpkgs lib (fileset) comes from ../shared/nix-eval. Builds run with the sandbox off
# (Debian's nix), through /bin/bash and the host's coreutils, tar, jq. `toyRustc` records its arguments;
# `hostRustc` is the host's real rustc (Debian's rustc-web), which fenix/default.nix hands out as the
# toolchain, so that the export's flake builds real binaries (default.nix and flake.nix lay this folder
# out as a nixpkgs, once the real lib is copied in as ./lib).
{ lib, system ? builtins.currentSystem }:
let
  host = "/usr"; # ${pkgs.jq}/bin/jq, ${pkgs.mktemp}/bin/mktemp: the host's
  mkDerivation =
    attrs:
    let
      drv = builtins.derivation (
        removeAttrs attrs [ "passthru" "meta" "env" ]
        // (attrs.env or { })
        // {
          inherit system;
          builder = "/bin/bash";
          args = [ ./builder.sh ];
          PATH = "/usr/bin:/bin";
          phases = attrs.phases or "unpackPhase buildPhase installPhase";
        }
      );
    in
    drv // (attrs.passthru or { }) // { meta = attrs.meta or { }; };
  file =
    name: source:
    mkDerivation {
      inherit name;
      buildCommand = "mkdir -p $out/bin && cp ${source} $out/bin/${baseNameOf name} && chmod +x $out/bin/*";
    };
  crates = {
    # crates.io downloads, by URL (as cargo (libnix) writes them, and as a release points them at
    # static.crates.io): the toy crates of ./crates, packed as crates.io packs them
    "https://crates.io/api/v1/crates/anyhow/1.0.96/download" = "anyhow-1.0.96";
    "https://crates.io/api/v1/crates/itoa/1.0.14/download" = "itoa-1.0.14";
    "https://static.crates.io/crates/anyhow/anyhow-1.0.96.crate" = "anyhow-1.0.96";
    "https://static.crates.io/crates/itoa/itoa-1.0.14.crate" = "itoa-1.0.14";
  };
  pkgs = {
    inherit lib pkgs;
    stdenv = {
      inherit mkDerivation;
      hostPlatform = { inherit system; };
    };
    jq = host;
    mktemp = host;
    callPackage = fn: args: (if builtins.isPath fn then import fn else fn) (builtins.intersectAttrs (builtins.functionArgs (if builtins.isPath fn then import fn else fn)) pkgs // args);
    fetchFromGitHub = args: throw "toy pkgs: no network (fetchFromGitHub ${args.repo})";
    # build-rs-libnix: its nix file builds it from GitHub; here, the stand-in of ./build-rs-libnix
    rustPlatform.buildRustPackage = _: file "build-rs-libnix" ./build-rs-libnix;
    fetchurl = if builtins.pathExists ./real-crates then pkgs.fetchurlFixed else pkgs.fetchurlToy;
    # the toy crates of ./crates, whatever hash the build system pins
    fetchurlToy =
      { url, ... }:
      mkDerivation {
        name = crates.${url};
        buildCommand = "tar czf $out -C ${./crates} ${crates.${url}}";
      };
    # REAL crates (a test lays this folder out with a `real-crates` file): a fixed-output derivation
    # named as nixpkgs' fetchurl names it (`name`, else the URL's last segment), whose store path nix
    # finds when the test added the registry's `.crate` under that name and hash; any other name or hash
    # is a path that is not there, and its builder refuses to download: no network, nothing fetched
    fetchurlFixed =
      {
        url,
        sha256,
        name ? baseNameOf url,
        ...
      }:
      builtins.derivation {
        inherit name system url;
        builder = "/bin/sh";
        args = [
          "-c"
          "echo \"toy fetchurl: not in the store as $name, and nothing is downloaded here: $url\" >&2; exit 1"
        ];
        outputHashMode = "flat";
        outputHashAlgo = "sha256";
        outputHash = sha256;
      };
    writeShellScriptBin = name: text: mkDerivation { inherit name; buildCommand = "echo >$out"; };
    # rustc: the recording stand-in of ./rustc
    toyRustc = file "rustc" ./rustc;
    # the host's rustc, linked (it finds its standard library from where it really is)
    hostRustc = mkDerivation {
      name = "host-rustc";
      buildCommand = "mkdir -p $out/bin && ln -s /usr/bin/rustc $out/bin/rustc";
    };
  };
in
pkgs
