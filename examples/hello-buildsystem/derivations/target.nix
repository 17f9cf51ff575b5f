# generated from target.nix.handlebars using cargo (manual edits won't be persistent)
{ pkgs, hello-0_1_0-bin-a6a06cbe35800f65 }:

pkgs.writeShellScriptBin "create-symlinks" ''
  rm -f target/release/hello
  ln -s ${hello-0_1_0-bin-a6a06cbe35800f65}/bin/hello target/release/
''