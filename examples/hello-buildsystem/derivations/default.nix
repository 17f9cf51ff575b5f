# generated from default.nix.handlebars using cargo (manual edits won't be persistent)
{ pkgs, rustc, cargo, external_crate_dependencies, project_root }:
let
  fn = rec {
    relativeFileset = root: files: pkgs.lib.fileset.unions (map (f: root + "/${f}") files);
    inject_deps = info: external_crate_dependencies.deps.${info.name} or [];
    inject_envs = info: external_crate_dependencies.envs.${info.name} or {};
    import_bash_function_helpers = "";
    rustc_arguments = crates: builtins.concatStringsSep " " (map (crate:
      if builtins.pathExists "${crate}/rustc-arguments"
      then builtins.readFile "${crate}/rustc-arguments"
      else "") crates);
  };
  deps = { };
  callPackage' = path: args: import path ({ inherit fn pkgs rustc cargo deps project_root; } // args);
in rec {
  itoa-1_0_15-lib-22f518c238ea562e = import ./itoa-1.0.15-lib-22f518c238ea562e.nix { inherit fn pkgs rustc cargo deps; };
  hello-0_1_0-bin-5125b47c16687d8b = callPackage' ./hello-0.1.0-bin-5125b47c16687d8b.nix { inherit itoa-1_0_15-lib-22f518c238ea562e; };
}
