{
  description = "libnix: wire Rust projects into nix flakes with cargo (libnix), and release pinned, IFD-free build systems";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      forAllSystems = nixpkgs.lib.genAttrs systems;
      version = builtins.head (
        builtins.match ''.*__version__ = "([^"]+)".*'' (builtins.readFile ./scaffold/__init__.py)
      );

      libnixFor =
        pkgs:
        pkgs.python3Packages.buildPythonApplication {
          pname = "libnix";
          inherit version;
          pyproject = true;
          src = pkgs.lib.fileset.toSource {
            root = ./.;
            fileset = pkgs.lib.fileset.unions [
              ./pyproject.toml
              ./README.md
              ./scaffold
              ./copier.yml
              ./copier-template
            ];
          };
          build-system = [ pkgs.python3Packages.setuptools ];
          dependencies = with pkgs.python3Packages; [
            copier
            requests
            tree-sitter
            tree-sitter-grammars.tree-sitter-nix
            zstandard
          ];
          # libnix runs git; nix itself is optional (verification only) and comes from the user's PATH
          makeWrapperArgs = [
            "--prefix"
            "PATH"
            ":"
            (pkgs.lib.makeBinPath [ pkgs.git ])
          ];
          pythonImportsCheck = [ "scaffold" ];
          meta = {
            description = "Wire Rust projects into nix flakes with cargo (libnix) and release pinned build systems";
            license = pkgs.lib.licenses.mit;
            mainProgram = "libnix";
          };
        };
    in
    {
      packages = forAllSystems (
        system:
        let
          libnix = libnixFor nixpkgs.legacyPackages.${system};
        in
        {
          inherit libnix;
          default = libnix;
        }
      );

      apps = forAllSystems (system: {
        default = {
          type = "app";
          program = "${self.packages.${system}.default}/bin/libnix";
        };
      });

      devShells = forAllSystems (
        system:
        let
          pkgs = nixpkgs.legacyPackages.${system};
        in
        {
          default = pkgs.mkShell {
            packages = [
              (pkgs.python3.withPackages (
                ps: with ps; [
                  copier
                        requests
                  tree-sitter
                  tree-sitter-grammars.tree-sitter-nix
                  zstandard
                  pytest
                  pytest-xdist
                ]
              ))
              pkgs.ruff
              pkgs.check-jsonschema
              pkgs.actionlint
              pkgs.shellcheck
              pkgs.git
              pkgs.nix
            ];
          };
        }
      );

      checks = forAllSystems (
        system:
        let
          pkgs = nixpkgs.legacyPackages.${system};
        in
        {
          package = self.packages.${system}.default;
          ruff = pkgs.runCommand "libnix-ruff" { nativeBuildInputs = [ pkgs.ruff ]; } ''
            cd ${./.}
            ruff check --no-cache scaffold tests benchmarks
            ruff format --check --no-cache scaffold tests benchmarks
            touch $out
          '';
        }
      );

      formatter = forAllSystems (system: nixpkgs.legacyPackages.${system}.nixfmt-rfc-style);
    };
}
