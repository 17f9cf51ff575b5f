# A STAND-IN for fenix, which cannot be fetched on this machine: channels with withComponents,
# rust-analyzer, targets, fromManifest and combine, each yielding a real (never built) derivation that
# records what was asked. tests/test_flake_toolchains.py evaluates the same flakes with the real fenix.
{
  inputs.nixpkgs.url = "path:../nixpkgs";
  outputs =
    { self, nixpkgs }:
    let
      # the real fenix's packages: its flake's eachSystem
      systems = [ "aarch64-darwin" "aarch64-linux" "i686-linux" "x86_64-darwin" "x86_64-linux" ];
      forSystem = system:
        let
          drv = name: derivation {
            inherit name system;
            builder = "/bin/sh";
            args = [ "-c" "echo ${name} > $out" ];
          };
          channel = name: {
            withComponents = components: drv "rust-${name}-${builtins.concatStringsSep "-" components}";
            rust-std = drv "rust-std-${name}";
            rust-analyzer = drv "rust-analyzer-${name}";
            rustc = drv "rustc-${name}";
            cargo = drv "cargo-${name}";
          };
          manifest = { channel, sha256 }:
            assert builtins.stringLength sha256 > 0;
            channel;
        in
        {
          stable = channel "stable";
          beta = channel "beta";
          latest = channel "nightly";
          toolchainOf = args: channel (manifest args);
          fromManifest = m: channel "manifest-${m.date}";
          targets = builtins.listToAttrs (map (t: {
            name = t;
            value = {
              stable = channel "stable-${t}";
              beta = channel "beta-${t}";
              latest = channel "nightly-${t}";
              toolchainOf = args: channel "${manifest args}-${t}";
            };
          }) [ "x86_64-unknown-linux-gnu" "x86_64-unknown-linux-musl" "aarch64-unknown-linux-gnu" "wasm32-unknown-unknown" "aarch64-apple-darwin" ]);
          combine = parts: drv "rust-combined-${toString (builtins.length parts)}";
          rust-analyzer = drv "rust-analyzer";
        };
    in
    {
      packages = nixpkgs.lib.genAttrs systems forSystem;
    };
}
