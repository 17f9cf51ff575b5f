# generated from rustc-call.nix.handlebars using cargo (manual edits won't be persistent)
{ fn, pkgs, rustc, cargo, deps }: with deps;
  pkgs.stdenv.mkDerivation rec {
    name = "itoa-1_0_15-lib-22f518c238ea562e";
    meta.cargo_crate_info = {
      name = "itoa";
      version = "1.0.15";
      crate_hash = "22f518c238ea562e";
      type = "(lib)";
    };
    src = pkgs.fetchurl {
      url = "https://static.crates.io/crates/itoa/itoa-1.0.15.crate";
      sha256 = "4a5f13b858c8d314ee3e8f639011f7ccefe71f97f96e50151fb991f267928e2c";
    };
    buildPhase = ''
      mkdir -p /tmp/out
      ${rustc}/bin/rustc --crate-name itoa src/lib.rs --crate-type lib --out-dir /tmp/out
      cp -r /tmp/out/* $out
    '';
}
