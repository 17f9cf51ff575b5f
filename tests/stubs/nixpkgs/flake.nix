# A STAND-IN for nixpkgs, which cannot be fetched on this machine: just the attributes the generated
# flake.nix and cargo (libnix)'s derivations touch, each package a real (never built) derivation.
{
  outputs =
    { self }:
    let
      genAttrs = names: f: builtins.listToAttrs (map (name: { inherit name; value = f name; }) names);
      # the real nixpkgs' legacyPackages: lib.systems.flakeExposed (lib/systems/flake-systems.nix)
      systems = [
        "x86_64-linux" "aarch64-linux" "x86_64-darwin" "armv6l-linux" "armv7l-linux" "i686-linux"
        "aarch64-darwin" "powerpc64le-linux" "riscv64-linux" "x86_64-freebsd"
      ];
      drv = system: name: derivation {
        inherit name system;
        builder = "/bin/sh";
        args = [ "-c" "echo ${name} > $out" ];
      };
      pkgsFor = system: {
        inherit system;
        lib = self.lib;
        mkShell = attrs: drv system "nix-shell" // { passthru = attrs; };
        stdenv.mkDerivation = attrs: drv system attrs.name;
        fetchurl = attrs: drv system "crate.tar.gz";
        nix-prefetch-git = drv system "nix-prefetch-git";
        nixfmt = drv system "nixfmt";
        nixfmt-rfc-style = drv system "nixfmt";
        pkg-config = drv system "pkg-config";
        openssl = drv system "openssl";
        hello = drv system "hello";
        git = drv system "git";
        nix = drv system "nix";
        actionlint = drv system "actionlint";
        shellcheck = drv system "shellcheck";
        ruff = drv system "ruff";
        check-jsonschema = drv system "check-jsonschema";
        runCommand = name: env: script: drv system name;
        callPackage = fn: args: self.lib.callPackageWith (pkgsFor system) fn args;
        pkgs = pkgsFor system; # nixpkgs holds itself; callPackageWith (pkgs // …) relies on it
        writeShellScriptBin = name: text: drv system name;
        fetchFromGitHub = attrs: drv system "source";
        rustPlatform.buildRustPackage = attrs: drv system "${attrs.pname}-${attrs.version}";
        jq = drv system "jq";
        mktemp = drv system "mktemp";
        python3 = drv system "python3" // {
          withPackages = f: drv system "python3-env-${toString (builtins.length (f python3Packages))}";
        };
        python3Packages = python3Packages;
      };
      python3Packages = {
        buildPythonApplication = attrs: drv "x86_64-linux" "${attrs.pname}-${attrs.version}" // {
          inherit (attrs) pname version meta;
        };
        setuptools = drv "x86_64-linux" "setuptools";
        copier = drv "x86_64-linux" "copier";
        requests = drv "x86_64-linux" "requests";
        tree-sitter = drv "x86_64-linux" "tree-sitter";
        tree-sitter-grammars.tree-sitter-nix = drv "x86_64-linux" "tree-sitter-nix";
        zstandard = drv "x86_64-linux" "zstandard";
        pytest = drv "x86_64-linux" "pytest";
        pytest-xdist = drv "x86_64-linux" "pytest-xdist";
      };
    in
    {
      lib = {
        inherit genAttrs;
        # cargo (libnix)'s default.nix calls every crate file through it
        callPackageWith =
          autoArgs: fn: args:
          let
            f = if builtins.isFunction fn then fn else import fn;
          in
          f (builtins.intersectAttrs (builtins.functionArgs f) autoArgs // args);
        fakeSha256 = "0000000000000000000000000000000000000000000000000000";
        fileset.unions = parts: parts;
        makeBinPath = packages: builtins.concatStringsSep ":" (map (p: "${p}/bin") packages);
        licenses.mit = { spdxId = "MIT"; };
        fileset.toSource = { root, fileset }: root;
      };
      legacyPackages = genAttrs systems pkgsFor;
    };
}
