#!/usr/bin/env python3
"""A STAND-IN for cargo (libnix), which cannot be built on this machine.

It answers only `cargo build --release write-nix-buildsystem --out-dir D [--url U --hash H]` and writes
files in the exact format of the real output kept in ../shared/fixtures/cargo-libnix (the header
comments, `cargo_build_caller.nix`, one `derivations/<crate>-<version>-bin-<hash>.nix` per root crate
taking `project_root` and building `src` with `pkgs.lib.fileset.toSource`, a crates.io dependency, and a
`derivations/default.nix` whose helpers read build-script outputs with `builtins.readFile` /
`builtins.pathExists` during evaluation). Everything else about libnix is real.

FAKE_CARGO_MODE picks how it behaves, to test libnix against each thing the real one may do:
  local    (default) `project_root = <relative path to the project>;`, as today's cargo (libnix)
  pinned   `project_root = builtins.fetchTarball { url = U; sha256 = H; };` from --url/--hash
  badpin   like pinned, with a wrong hash
  old      root crates use `src = builtins.filterSource (…) /absolute/checkout[/member];`
  leak     like local, plus a /home/… path baked into a build phase
  fail     prints a few lines and exits 101
  nothing  exits 0 and writes nothing
  sleep    writes half the files, then sleeps (for Ctrl-C tests); FAKE_CARGO_PIDFILE gets its pid
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
import tomllib
from pathlib import Path


def crate_hash(name: str, version: str) -> str:
    return hashlib.sha256(f"{name}-{version}".encode()).hexdigest()[:16]


def attr_name(name: str, version: str, kind: str) -> str:
    return f"{name}-{version.replace('.', '_')}-{kind}-{crate_hash(name, version)}"


def caller(project_root_expr: str) -> str:
    return f"""# generated from cargo_build_caller.nix.handlebars using cargo (manual edits won't be persistent)
{{ system ? builtins.currentSystem }}:
let
  project_root = {project_root_expr};

  nixpkgsSrc = builtins.fetchTarball {{
    url = "https://github.com/NixOS/nixpkgs/archive/25.11.tar.gz";
    sha256 = "sha256:1zn1lsafn62sz6azx6j735fh4vwwghj8cc9x91g5sx2nrg23ap9k";
  }};
  pkgs = import (nixpkgsSrc + "/pkgs/top-level/default.nix") {{
    localSystem = {{ inherit system; }};
  }};

  fenixSrc = pkgs.fetchFromGitHub {{
    owner = "nix-community";
    repo = "fenix";
    rev = "6ed03ef4c8ec36d193c18e06b9ecddde78fb7e42";
    sha256 = "sha256-tl/0cnsqB/Yt7DbaGMel2RLa7QG5elA8lkaOXli6VdY=";
  }};
  fenix = import fenixSrc {{}};
  toolchain = fenix.stable.toolchain;

  external_crate_dependencies =
    (if builtins.pathExists ./Cargo.dependencies.nix
    then builtins.trace "Using Cargo.dependencies.nix"
         import ./Cargo.dependencies.nix {{ inherit pkgs; }}
    else builtins.trace "No Cargo.dependencies.nix found"
         {{ deps = {{}}; envs = {{}}; }});

  cargoPackages = import ./derivations/default.nix {{
    inherit pkgs external_crate_dependencies project_root;
    rustc = toolchain;
    cargo = toolchain;
  }};
in
  cargoPackages"""


def root_crate(name: str, version: str, member: str, dep: str, src_expr: str | None, leak: bool) -> str:
    attr = attr_name(name, version, "bin")
    prefix = f"{member}/" if member else ""
    src = (
        src_expr
        or f"""pkgs.lib.fileset.toSource rec {{
      root = project_root;
      fileset = fn.relativeFileset project_root [
        "{prefix}src/main.rs"
        "{prefix}Cargo.toml"
      ];
    }}"""
    )
    extra = '\n      export CACHE_DIR="/home/alice/.cache/cargo-libnix"' if leak else ""
    return f"""# generated from rustc-call.nix.handlebars using cargo (manual edits won't be persistent)
{{ fn, pkgs, rustc, cargo, deps, project_root, {dep} }}: with deps;
  pkgs.stdenv.mkDerivation rec {{
    name = "{attr}";
    meta.cargo_crate_info = {{
      name = "{name}";
      version = "{version}";
      crate_hash = "{crate_hash(name, version)}";
      type = "(bin)";
    }};
    buildInputs = [] ++ fn.inject_deps meta.cargo_crate_info;
    env = fn.inject_envs meta.cargo_crate_info;

    passthru.rust_crate_libraries = [{dep}];
    passthru.rust_crate_parent = [];
    passthru.rust_script_build_run = [];
    phases = "unpackPhase buildPhase installPhase";

    src = {src};

    unpackPhase = "";

    RUSTC = "${{rustc}}/bin/rustc";
    CARGO_CRATE_NAME = "{name}";
    CARGO_MANIFEST_DIR = "./{prefix}";
    CARGO_PKG_VERSION = "{version}";

    buildPhase = ''
      ${{fn.import_bash_function_helpers}}
      export CARGO_MANIFEST_DIR=$(realpath $PWD/$CARGO_MANIFEST_DIR){extra}
      mkdir -p $out/nix
      mkdir -p /tmp/out
      ${{RUSTC}} \\
              --crate-name {name.replace("-", "_")} \\
              --edition=2021 {prefix}src/main.rs \\
              --crate-type bin \\
              -C extra-filename=-{crate_hash(name, version)} \\
              --out-dir /tmp/out \\
              --extern itoa=${{{dep}}}/libitoa-{crate_hash("itoa", "1.0.15")}.rlib
      mkdir -p $out/
      cp -r /tmp/out/* $out
    '';
    installPhase = ''
      mkdir $out/bin
      ln -s $out/{name}-{crate_hash(name, version)} $out/bin/{name}
    '';
}}
"""


def dependency(dep: str) -> str:
    return f"""# generated from rustc-call.nix.handlebars using cargo (manual edits won't be persistent)
{{ fn, pkgs, rustc, cargo, deps }}: with deps;
  pkgs.stdenv.mkDerivation rec {{
    name = "{dep}";
    meta.cargo_crate_info = {{
      name = "itoa";
      version = "1.0.15";
      crate_hash = "{crate_hash("itoa", "1.0.15")}";
      type = "(lib)";
    }};
    src = pkgs.fetchurl {{
      url = "https://static.crates.io/crates/itoa/itoa-1.0.15.crate";
      sha256 = "4a5f13b858c8d314ee3e8f639011f7ccefe71f97f96e50151fb991f267928e2c";
    }};
    buildPhase = ''
      mkdir -p /tmp/out
      ${{rustc}}/bin/rustc --crate-name itoa src/lib.rs --crate-type lib --out-dir /tmp/out
      cp -r /tmp/out/* $out
    '';
}}
"""


def default_nix(attrs: list[str], dep: str) -> str:
    calls = "\n".join(f"  {a} = callPackage' ./{a_file(a)} {{ inherit {dep}; }};" for a in attrs)
    return f"""# generated from default.nix.handlebars using cargo (manual edits won't be persistent)
{{ pkgs, rustc, cargo, external_crate_dependencies, project_root }}:
let
  fn = rec {{
    relativeFileset = root: files: pkgs.lib.fileset.unions (map (f: root + "/${{f}}") files);
    inject_deps = info: external_crate_dependencies.deps.${{info.name}} or [];
    inject_envs = info: external_crate_dependencies.envs.${{info.name}} or {{}};
    import_bash_function_helpers = "";
    rustc_arguments = crates: builtins.concatStringsSep " " (map (crate:
      if builtins.pathExists "${{crate}}/rustc-arguments"
      then builtins.readFile "${{crate}}/rustc-arguments"
      else "") crates);
  }};
  deps = {{ }};
  callPackage' = path: args: import path ({{ inherit fn pkgs rustc cargo deps project_root; }} // args);
in rec {{
  {dep} = import ./{a_file(dep)} {{ inherit fn pkgs rustc cargo deps; }};
{calls}
}}
"""


def a_file(attr: str) -> str:
    # the real files are named <name>-<version with dots>-<kind>-<hash>.nix
    name, rest = attr.split("-", 1)
    version, kind, h = rest.rsplit("-", 2)
    return f"{name}-{version.replace('_', '.')}-{kind}-{h}.nix"


def main(argv: list[str]) -> int:
    if argv[:3] != ["build", "--release", "write-nix-buildsystem"]:
        print(f"error: no such command: `{' '.join(argv[:3])}` (this is the cargo (libnix) stand-in)")
        return 101
    opts: dict[str, str] = {}
    it = iter(argv[3:])
    for key in it:
        opts[key] = next(it)
    mode = os.environ.get("FAKE_CARGO_MODE", "local")
    if os.environ.get("CARGO_BACKEND") != "nix":
        print("error: CARGO_BACKEND=nix is not set")
        return 101
    if mode == "fail":
        print("   Compiling hello v0.1.0")
        print("error[E0425]: cannot find value `x` in this scope")
        print('error: could not compile `hello` (bin "hello") due to 1 previous error')
        return 101
    print("   Generating nix build system")
    if mode == "nothing":
        return 0
    project = Path.cwd()
    out = Path(opts["--out-dir"]).resolve()
    manifest = tomllib.loads((project / "Cargo.toml").read_text())
    members: list[tuple[str, str, str]] = []
    if "package" in manifest:
        members.append((manifest["package"]["name"], manifest["package"]["version"], ""))
    for member in (manifest.get("workspace") or {}).get("members", []):
        sub = tomllib.loads((project / member / "Cargo.toml").read_text())["package"]
        version = sub["version"]
        if isinstance(version, dict):
            version = manifest["workspace"]["package"]["version"]
        members.append((sub["name"], version, member))

    (out / "derivations").mkdir(parents=True, exist_ok=True)
    rel = os.path.relpath(project, out)
    root_expr = {
        "pinned": f'builtins.fetchTarball {{ url = "{opts.get("--url")}"; sha256 = "{opts.get("--hash")}"; }}',
        "badpin": f'builtins.fetchTarball {{ url = "{opts.get("--url")}"; sha256 = "sha256:{"1" * 52}"; }}',
    }.get(mode, rel if rel.startswith(".") else f"./{rel}")
    if root_expr == "./.":
        root_expr = "./."
    elif not root_expr.startswith("builtins") and not root_expr.endswith("/."):
        root_expr += "/."
    (out / "cargo_build_caller.nix").write_text(caller(root_expr))
    if mode == "sleep":
        pidfile = os.environ.get("FAKE_CARGO_PIDFILE")
        if pidfile:
            Path(pidfile).write_text(str(os.getpid()))
        sys.stdout.flush()
        time.sleep(60)
    dep = attr_name("itoa", "1.0.15", "lib")
    (out / "derivations" / a_file(dep)).write_text(dependency(dep))
    attrs = []
    for name, version, member in members:
        attr = attr_name(name, version, "bin")
        attrs.append(attr)
        src = None
        if mode == "old":
            checkout = project / member if member else project
            src = f'builtins.filterSource (path: type: baseNameOf path != "target") {checkout}'
        text = root_crate(name, version, member, dep, src, leak=mode == "leak")
        (out / "derivations" / a_file(attr)).write_text(text)
    (out / "derivations" / "default.nix").write_text(default_nix(attrs, dep))
    print(f"   Wrote {len(attrs) + 2} files to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
