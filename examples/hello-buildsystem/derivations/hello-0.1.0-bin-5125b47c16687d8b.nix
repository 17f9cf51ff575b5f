# generated from rustc-call.nix.handlebars using cargo (manual edits won't be persistent)
{ fn, pkgs, rustc, cargo, deps, project_root, itoa-1_0_15-lib-22f518c238ea562e }: with deps;
  pkgs.stdenv.mkDerivation rec {
    name = "hello-0_1_0-bin-5125b47c16687d8b";
    meta.cargo_crate_info = {
      name = "hello";
      version = "0.1.0";
      crate_hash = "5125b47c16687d8b";
      type = "(bin)";
    };
    buildInputs = [] ++ fn.inject_deps meta.cargo_crate_info;
    env = fn.inject_envs meta.cargo_crate_info;

    passthru.rust_crate_libraries = [itoa-1_0_15-lib-22f518c238ea562e];
    passthru.rust_crate_parent = [];
    passthru.rust_script_build_run = [];
    phases = "unpackPhase buildPhase installPhase";

    src = pkgs.lib.fileset.toSource rec {
      root = project_root;
      fileset = fn.relativeFileset project_root [
        "src/main.rs"
        "Cargo.toml"
      ];
    };

    unpackPhase = "";

    RUSTC = "${rustc}/bin/rustc";
    CARGO_CRATE_NAME = "hello";
    CARGO_MANIFEST_DIR = "./";
    CARGO_PKG_VERSION = "0.1.0";

    buildPhase = ''
      ${fn.import_bash_function_helpers}
      export CARGO_MANIFEST_DIR=$(realpath $PWD/$CARGO_MANIFEST_DIR)
      mkdir -p $out/nix
      mkdir -p /tmp/out
      ${RUSTC} \
              --crate-name hello \
              --edition=2021 src/main.rs \
              --crate-type bin \
              -C extra-filename=-5125b47c16687d8b \
              --out-dir /tmp/out \
              --extern itoa=${itoa-1_0_15-lib-22f518c238ea562e}/libitoa-22f518c238ea562e.rlib
      mkdir -p $out/
      cp -r /tmp/out/* $out
    '';
    installPhase = ''
      mkdir $out/bin
      ln -s $out/hello-5125b47c16687d8b $out/bin/hello
    '';
}
