#!/usr/bin/env python3
"""A STAND-IN for cargo (libnix), which cannot be built on this machine.

It answers only `cargo build --release [-p PACKAGE] write-nix-buildsystem --out-dir D [--url U --hash H]`
(with `-p`, the root crates of that package only) and writes
what the real tool writes (compare ../shared/fixtures/cargo-libnix-full, and tests/test_fake_format.py,
which keeps the two from drifting apart):

- `cargo_build_caller.nix` as upstream's template renders it (no final newline), `project_root = ../.;`;
- `derivations/default.nix`: upstream's header and `fn` helpers byte for byte (tests/cargo_libnix_format/
  default.nix.head, taken from the real output), then `self = { target = …; <root crates>; deps = { … }; }`;
- `derivations/build_rs_libnix.nix` and `target.nix`;
- one `derivations/<name>-<version>-bin-<hash>.nix` per root package, taking `project_root` and building
  `src` with `pkgs.lib.fileset.toSource` over every file rustc reads, or, with `--url U --hash H`,
  `src = pkgs.fetchurl { url = U; sha256 = H; };` (upstream's nix_code.rs `generate_src`);
- crates.io dependencies, real files (itoa; anyhow with its build script and the script_build_run whose
  error notices name the generating machine's path of that file), fetched as upstream's nix_code.rs
  `generate_src` writes them: `pkgs.fetchurl` of crates.io's API download URL with the sha256 of the
  project's Cargo.lock (examples/hello has one: the real anyhow 1.0.96 and itoa 1.0.14).

FAKE_CARGO_GIT=1 makes itoa a git dependency (as `[patch.crates-io] itoa = { git = … }` does): its `src` is
then what upstream's nix_code.rs (`generate_src`, `generate_unpack_phase`) writes for a git source,
`pkgs.fetchgit { url; rev; sha256; }` and `unpackPhase = "cd $src/$CARGO_MANIFEST_DIR"`; FAKE_CARGO_GIT_REV
sets its rev (default a full commit id).

FAKE_CARGO_ROOT_FORM picks the project_root form: `../.` (default, as the real caller), `./.`,
`../../../.`, `abs` (the checkout's absolute path). FAKE_CARGO_MODE picks other behaviour:
  local    (default) as above
  tarball  with --url/--hash: `project_root = builtins.fetchTarball { url = U; sha256 = H; };`
  old      the generation before derivations/: default.nix, caller and root crates in one folder, deps
           in deps/, `src = builtins.filterSource (…) /abs/workspace;`, build_parser through
           `pkgs.callPackage (pkgs.fetchFromGitHub …) {}`, the project's `../../../Cargo.dependencies.nix`
           read under its own `builtins.pathExists` guard
  leak     like local, plus a /home/… path baked into a build phase
  fail     prints a few lines and exits 101
  nothing  exits 0 and writes nothing
  sleep    writes half the files, then sleeps (for Ctrl-C tests); FAKE_CARGO_PIDFILE gets its pid
  newest   the newest generation of upstream's generator (nixcloud/cargo master-libnix; the commit of each
           construct is named where it is written below): the output directory is managed
           (nix_files.rs `ensure_garbage_collected_directory`, commit 34640778: a `.cargo-libnix-managed`
           marker, a non-empty directory without it refused, all but the marker and `gc/` wiped); crates
           named `crate-N-V.tar.gz` (nix_code.rs `generate_src`, commit 2595daa0); the caller's
           project_root rendered "." for `write-nix-buildsystem --out-dir` and "../../.." under
           target/release/nix, Cargo.dependencies.nix read from there (cargo_build_caller.nix.handlebars,
           commit 70c93d68), and copied into an --out-dir export; root crates `src = pkgs.fetchurl { url;
           sha256; }` with `unpackPhase = "";` when --url/--hash are given (both required), else
           `builtins.filterSource (…) /abs/workspace` (nix_code.rs `generate_src`, commit 2595daa0).
           FAKE_CARGO_GC=1 leaves what a build run leaves: gc/result and gc/target.drv, symlinks into
           /nix/store
FAKE_CARGO_ENV_LOG=FILE appends the environment it was given to FILE (a test of what libnix passes on).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
import tomllib
from pathlib import Path

FORMAT = Path(__file__).resolve().parent / "cargo_libnix_format"
HEADER = "# generated from {} using cargo (manual edits won't be persistent)\n"
DEPS = {  # attribute -> file, as the real default.nix lists them
    "anyhow-1_0_96-61bbc4e08b05614c": "anyhow-1.0.96-61bbc4e08b05614c.nix",
    "anyhow-1_0_96-script_build-22dc23ffd8131166": "anyhow-1.0.96-script_build-22dc23ffd8131166.nix",
    "anyhow-1_0_96-script_build_run-f080edeb228c5f3e": "anyhow-1.0.96-script_build_run-f080edeb228c5f3e.nix",
    "itoa-1_0_14-f807d60e93b08a94": "itoa-1.0.14-f807d60e93b08a94.nix",
}
LIBRARIES = "anyhow-1_0_96-61bbc4e08b05614c itoa-1_0_14-f807d60e93b08a94"
PARSER = """  build_parser_sources = pkgs.fetchFromGitHub {
    owner = "nixcloud";
    repo = "cargo-build_script_build-parser";
    rev = "e2716ac2de7acbbd9079f641cf78b494041af41b";
    sha256 = "sha256-AuQcr9moMM2d5LCbkQzn/1XQOmZbC2VMOLrR2tgCPAo=";
  };
  build_parser = pkgs.callPackage build_parser_sources {};
"""


def crate_hash(*parts: str) -> str:
    return hashlib.sha256("-".join(parts).encode()).hexdigest()[:16]


def caller(project_root: str | None, entry: str, extra: str, deps: str = "./Cargo.dependencies.nix") -> str:
    root = f"  project_root = {project_root};\n\n" if project_root is not None else ""
    inherit = (
        "inherit pkgs external_crate_dependencies project_root;"
        if project_root is not None
        else ("inherit pkgs external_crate_dependencies build_parser;")
    )
    return (
        HEADER.format("cargo_build_caller.nix.handlebars")
        + f"""{{ system ? builtins.currentSystem }}:
let
{root}  nixpkgsSrc = builtins.fetchTarball {{
    url = "https://github.com/NixOS/nixpkgs/archive/25.11.tar.gz";
    sha256 = "sha256:1zn1lsafn62sz6azx6j735fh4vwwghj8cc9x91g5sx2nrg23ap9k";
  }};
  pkgs = import (nixpkgsSrc + "/pkgs/top-level/default.nix") {{
    localSystem = {{ inherit system; }};
  }};
{extra}
  fenixSrc = pkgs.fetchFromGitHub {{
    owner = "nix-community";
    repo = "fenix";
    rev = "6ed03ef4c8ec36d193c18e06b9ecddde78fb7e42";
    sha256 = "sha256-tl/0cnsqB/Yt7DbaGMel2RLa7QG5elA8lkaOXli6VdY=";
  }};
  fenix = import fenixSrc {{}};
  toolchain = fenix.stable.toolchain;

  external_crate_dependencies =
    (if builtins.pathExists {deps}
    then builtins.trace "Using Cargo.dependencies.nix"
         import {deps} {{ inherit pkgs; }}
    else builtins.trace "No Cargo.dependencies.nix found"
         {{ deps = {{}}; envs = {{}}; }});

  cargoPackages = import {entry} {{
    {inherit}
    rustc = toolchain;
    cargo = toolchain;
  }};
in
  cargoPackages"""
    )


def fileset_src(files: list[str]) -> str:
    listed = "".join(f'        "{f}"\n' for f in files)
    return f"""    src = pkgs.lib.fileset.toSource rec {{
      root = project_root;
      fileset = fn.relativeFileset project_root [
{listed}      ];
    }};
"""


def fetchurl_src(url: str, digest: str) -> str:
    return f'    src = pkgs.fetchurl {{\n        url = "{url}";\n        sha256 = "{digest}";\n    }};\n'


def filter_source_src(checkout: Path) -> str:
    return f"""    src = builtins.filterSource
    (path: type:
        let base = baseNameOf path;
        in !(base == "target" || base == "result" || builtins.match "result-*" base != null)
    ) {checkout};
"""


def root_crate(name: str, version: str, member: str, src: str, formals: str, leak: bool) -> tuple[str, str]:
    h = crate_hash(name, version, "bin")
    attr = f"{name}-{version.replace('.', '_')}-bin-{h}"
    prefix = f"{member}/" if member else ""
    crate = name.replace("-", "_")
    major, minor, patch = [*version.split("."), "0", "0"][:3]
    extra = '\n      export CACHE_DIR="/home/alice/.cache/cargo-libnix"' if leak else ""
    text = (
        HEADER.format("rustc-call.nix.handlebars")
        + f"""{{ {formals} }}: with deps;
  pkgs.stdenv.mkDerivation rec {{
    name = "{attr}";
    meta.cargo_crate_info = {{
      name = "{name}";
      version = "{version}";
      crate_hash = "{h}";
      type = "(bin)";
    }};
    buildInputs = [] ++ fn.inject_deps meta.cargo_crate_info;
    env = fn.inject_envs meta.cargo_crate_info;

    passthru.rust_crate_libraries = [{LIBRARIES}];
    passthru.rust_crate_parent = [];
    passthru.rust_script_build_run = [];
    phases = "unpackPhase buildPhase installPhase";

{src}
    unpackPhase = "";

    RUSTC = "${{rustc}}/bin/rustc";
    CARGO_BIN_NAME = "{name}";
    CARGO_CRATE_NAME = "{crate}";
    CARGO_MANIFEST_DIR = "./{prefix}";
    CARGO_MANIFEST_PATH = "./{prefix}Cargo.toml";
    CARGO_PKG_AUTHORS = "";
    CARGO_PKG_NAME = "{name}";
    CARGO_PKG_VERSION = "{version}";
    CARGO_PKG_VERSION_MAJOR = "{major}";
    CARGO_PKG_VERSION_MINOR = "{minor}";
    CARGO_PKG_VERSION_PATCH = "{patch}";
    CARGO_PKG_VERSION_PRE = "";
    CARGO_PRIMARY_PACKAGE = "1";

    buildPhase = ''
      ${{fn.import_bash_function_helpers}}
      export CARGO_MANIFEST_DIR=$(realpath $PWD/$CARGO_MANIFEST_DIR)
      export CARGO_MANIFEST_PATH=$(realpath $PWD/$CARGO_MANIFEST_PATH){extra}
      
      mkdir -p $out/nix
      export OUT_DIR=$out

      print_compiling_message "${{name}}"
      print_cargo_message_type_0 "${{name}}" "${{meta.cargo_crate_info.name}}" "${{meta.cargo_crate_info.type}}"
      load_environment_variables_from_files "${{fn.environment_variables passthru.rust_script_build_run}}"
      rustc_json_output_lines=$(${{pkgs.mktemp}}/bin/mktemp)

      mkdir -p /tmp/out
      set -x +e
      ${{RUSTC}} \\
              --crate-name {crate} \\
              --edition=2021 {prefix}src/main.rs \\
              --error-format=json \\
              --json=diagnostic-rendered-ansi,artifacts,future-incompat \\
              --crate-type bin \\
              --emit=link \\
              -C opt-level=3 \\
              -C embed-bitcode=no \\
              ${{fn.rustc_arguments passthru.rust_crate_parent}} \\
              --check-cfg 'cfg(docsrs,test)' \\
              --check-cfg 'cfg(feature, values())' \\
              -C metadata={crate_hash(attr)} \\
              -C extra-filename=-{h} \\
              --out-dir /tmp/out \\
              $(if [ -d /incremental-target ]; then echo "-C incremental=/incremental-target"; fi) \\
              -C strip=debuginfo \\
              -L dependency=${{fn.rustc_linker_arguments_dir passthru.rust_crate_libraries}}/deps \\
              ${{fn.rustc_propagated_arguments passthru.rust_script_build_run}} \\
              ${{fn.rustc_propagated_arguments passthru.rust_crate_libraries}} \\
              --extern anyhow=${{anyhow-1_0_96-61bbc4e08b05614c}}/libanyhow-61bbc4e08b05614c.rlib \\
              --extern itoa=${{itoa-1_0_14-f807d60e93b08a94}}/libitoa-f807d60e93b08a94.rlib 2> $rustc_json_output_lines
      rustc_exit_value=$?
      set +x -e

      print_rustc_rendered_messages $rustc_json_output_lines
      
      print_cargo_message_type_2 "${{name}}" "${{meta.cargo_crate_info.name}}" "${{meta.cargo_crate_info.type}}" $rustc_exit_value $rustc_json_output_lines
      
      if [ "$rustc_exit_value" -ne 0 ]; then
          exit $rustc_exit_value
      fi

      mkdir -p $out/
      cp -r /tmp/out/* $out
    '';
    installPhase = ''
      mkdir $out/bin
      ln -s $out/{name}-{h} $out/bin/{name}
    '';
}}
"""
    )
    return attr, text


def default_nix(roots: dict[str, str], deps_dir: str, old: bool) -> str:
    head = (FORMAT / "default.nix.head").read_text()
    if old:  # before build-rs-libnix: the build_parser the caller builds, no project_root
        head = (
            head.replace(", project_root }:", ", build_parser }:")
            .replace(
                "  build_rs_libnix' = pkgs.callPackage ./build_rs_libnix.nix {\n    inherit pkgs;\n  };\n", ""
            )
            .replace("inherit fn rustc cargo project_root;", "inherit fn rustc cargo;")
            .replace(
                'build_rs_libnix = "${build_rs_libnix\'}/bin/build-rs-libnix";',
                'build_rs_libnix = "${build_parser}/bin/cargo-build_script_build-parser";',
            )
        )
    target = "" if old else "    target = callPackage' ./target.nix {};\n"
    crates = "".join(f"    {a} = callPackage' ./{f} {{ }};\n" for a, f in roots.items())
    deps = "".join(f"      {a} = callPackage' ./{deps_dir}{f} {{ }};\n" for a, f in sorted(DEPS.items()))
    return head + f"  self = {{\n{target}{crates}    deps = {{\n{deps}    }};\n  }};\nin\nself\n"


def target_nix(roots: dict[str, str]) -> str:
    args = ", ".join(roots)
    links = "".join(
        f"  rm -f target/release/{a.split('-bin-')[0].rsplit('-', 1)[0]}\n"
        f"  ln -s ${{{a}}}/bin/{a.split('-bin-')[0].rsplit('-', 1)[0]} target/release/\n"
        for a in roots
    )
    return HEADER.format("target.nix.handlebars") + (
        f"{{ pkgs, {args} }}:\n\npkgs.writeShellScriptBin \"create-symlinks\" ''\n{links}''"
    )


def rust_files(project: Path, member: str) -> list[str]:
    base = project / member if member else project
    prefix = f"{member}/" if member else ""
    found = [f"{prefix}{p.relative_to(base).as_posix()}" for p in sorted(base.glob("src/**/*.rs"))]
    main = f"{prefix}src/main.rs"
    return [main] + [f for f in found if f != main]


GIT_SRC = """    src = pkgs.fetchgit {
      url = "https://github.com/dtolnay/itoa";
      rev = "@REV@";
      sha256 = "0ql5dxy1pbk9q0hfm6yc4rk7dmldnh0hx0pnbv2bhkqwb6mzrj8x";
    };

    unpackPhase = ''
      cd $src/$CARGO_MANIFEST_DIR
    '';
"""


def git_dependency(text: str) -> str:
    """A registry crate's file as cargo (libnix) writes it when the crate comes from git instead."""
    start = text.index("    src = pkgs.fetchurl {")
    end = text.index("    '';\n", text.index("    unpackPhase = ''")) + len("    '';\n")
    rev = os.environ.get("FAKE_CARGO_GIT_REV", "7f4c4d4c1a8b9c5e3e2f0a6b4d3c2b1a09876543")
    return text[:start] + GIT_SRC.replace("@REV@", rev) + text[end:]


REGISTRY_SRC = re.compile(
    r'(url = "https://crates\.io/api/v1/crates/([^/"]+)/([^/"]+)/download";\s*sha256 = ")[0-9a-f]{64}(")'
)


def lock_checksums(project: Path) -> dict[tuple[str, str], str]:
    """The registry packages of the project's Cargo.lock: (name, version) -> its checksum."""
    lock = project / "Cargo.lock"
    if not lock.is_file():
        return {}
    packages = tomllib.loads(lock.read_text()).get("package", [])
    return {(p["name"], p["version"]): p["checksum"] for p in packages if "checksum" in p}


def with_lock_checksums(text: str, checksums: dict[tuple[str, str], str]) -> str:
    """A registry crate's sha256 is its Cargo.lock checksum (upstream's generate_src takes the package
    summary's checksum, which cargo reads from the lock); without a lock, the real output's."""

    def sub(m: re.Match[str]) -> str:
        digest = checksums.get((m.group(2), m.group(3)))
        return m.group(0) if digest is None else f"{m.group(1)}{digest}{m.group(4)}"

    return REGISTRY_SRC.sub(sub, text)


MARKER = ".cargo-libnix-managed"


def newest_preflight(out: Path, opts: dict[str, str]) -> str | None:
    """nix_files.rs (34640778) `ensure_garbage_collected_directory`, and write-nix-buildsystem's
    required --url/--hash: an error message, or None once the directory is ready to be written."""
    if "--out-dir" in opts and not ("--url" in opts and "--hash" in opts):
        return "error: write-nix-buildsystem needs both --url and --hash"
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        return f"Directory '{out}' exists but is not managed by cargo-libnix."
    out.mkdir(parents=True, exist_ok=True)
    for entry in out.iterdir():
        if entry.name in (MARKER, "gc"):
            continue
        if entry.is_dir() and not entry.is_symlink():
            import shutil

            shutil.rmtree(entry)
        else:
            entry.unlink()
    (out / MARKER).write_text("")
    return None


NAMED_CRATE = re.compile(
    r'( +src = pkgs\.fetchurl \{\n)( +)(url = "https://crates\.io/api/v1/crates/([^/"]+)/([^/"]+)/download";)'
)


def named_crate(m: re.Match[str]) -> str:
    """nix_code.rs (2595daa0) `generate_src` for a crates.io source: nixpkgs' name, with its comment."""
    indent, name, version = m.group(2), m.group(4), m.group(5)
    return (
        f"{m.group(1)}{indent}# named like nixpkgs' importCargoLock, so the store path matches (and cache.nixos.org"
        f" may have it);\n{indent}# without a name it would be `download`, after the last URL segment\n"
        f'{indent}name = "crate-{name}-{version}.tar.gz";\n{indent}{m.group(3)}'
    )


def main(argv: list[str]) -> int:
    if os.environ.get("FAKE_CARGO_ENV_LOG"):  # tests/test_environ.py: what the generator was given
        with open(os.environ["FAKE_CARGO_ENV_LOG"], "a") as log:
            log.write("== cargo (libnix)\n" + "".join(f"{k}={v}\n" for k, v in os.environ.items()))
    package = None
    if argv[2:3] == ["-p"]:
        package, argv = argv[3], argv[:2] + argv[4:]
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
    out = Path(opts.get("--out-dir", "target/release/nix")).resolve()
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
    if package is not None:
        if package not in [m[0] for m in members]:
            print(f"error: package ID specification `{package}` did not match any packages")
            return 101
        members = [m for m in members if m[0] == package]

    old = mode == "old"
    if mode == "newest":
        problem = newest_preflight(out, opts)
        if problem:
            print(problem)
            return 101
    crates_dir = out if old else out / "derivations"
    (crates_dir / "deps").mkdir(parents=True, exist_ok=True)
    url, digest = opts.get("--url"), opts.get("--hash")
    form = os.environ.get("FAKE_CARGO_ROOT_FORM", "../.")
    project_root = None if old else (f"{project}" if form == "abs" else form)
    if mode == "tarball" and url:
        project_root = f'builtins.fetchTarball {{ url = "{url}"; sha256 = "{digest}"; }}'
    exported = "--out-dir" in opts  # write-nix-buildsystem, as opposed to a build's target/release/nix
    if mode == "newest":  # cargo_build_caller.nix.handlebars (70c93d68): `{{{project_root}}}/.`
        project_root = "./." if exported else "../../../."
    entry = "./default.nix" if old else "./derivations/default.nix"
    # the build_parser generation reads the project's own Cargo.dependencies.nix, relative to where it
    # writes (from target/release/nix: ../../../Cargo.dependencies.nix)
    deps = os.path.relpath(project / "Cargo.dependencies.nix", out) if old else "./Cargo.dependencies.nix"
    if mode == "newest":  # `{{{project_root}}}/Cargo.dependencies.nix`, and write-nix-buildsystem copies it
        deps = "./Cargo.dependencies.nix" if exported else "../../../Cargo.dependencies.nix"
        if exported and (project / "Cargo.dependencies.nix").is_file():
            (out / "Cargo.dependencies.nix").write_bytes((project / "Cargo.dependencies.nix").read_bytes())
    (out / "cargo_build_caller.nix").write_text(caller(project_root, entry, PARSER if old else "", deps))
    if mode == "sleep":
        pidfile = os.environ.get("FAKE_CARGO_PIDFILE")
        if pidfile:
            Path(pidfile).write_text(str(os.getpid()))
        sys.stdout.flush()
        time.sleep(60)
    checksums = lock_checksums(project)
    for file in DEPS.values():
        text = with_lock_checksums((FORMAT / "deps" / file).read_text(), checksums)
        text = text.replace("@OUT_DIR@", str(out))
        if old:
            text = text.replace(", project_root }", " }")
        if os.environ.get("FAKE_CARGO_GIT") and file.startswith("itoa-"):
            text = git_dependency(text)
        if mode == "newest":
            text = NAMED_CRATE.sub(named_crate, text)
        (crates_dir / "deps" / file).write_text(text)
    roots: dict[str, str] = {}
    formals = "fn, pkgs, rustc, cargo, deps" + ("" if old else ", project_root")
    for name, version, member in members:
        if not (project / member / "src" / "main.rs").is_file():
            continue  # the stand-in writes binary root crates only (real output has libraries too)
        if old or (mode == "newest" and not url):
            src = filter_source_src(project)
        elif url and mode != "tarball":
            src = fetchurl_src(url, digest or "")
        else:
            src = fileset_src(rust_files(project, member))
        # like the real files: other root crates would be arguments, dependencies come `with deps;`
        attr, text = root_crate(name, version, member, src, formals, leak=mode == "leak")
        file = f"{attr.split('-bin-')[0].rsplit('-', 1)[0]}-{version}-bin-{attr.rsplit('-', 1)[1]}.nix"
        roots[attr] = file
        (crates_dir / file).write_text(text)
    (crates_dir / "default.nix").write_text(default_nix(roots, "deps/", old))
    if not old:
        (crates_dir / "build_rs_libnix.nix").write_text((FORMAT / "build_rs_libnix.nix").read_text())
        (crates_dir / "target.nix").write_text(target_nix(roots))
    if os.environ.get("FAKE_CARGO_GC"):  # what `cargo build` leaves beside the build system it built
        (out / "gc").mkdir(exist_ok=True)
        for link, target in (("result", "0c6kq1mi4ldsg0yjxjq4wfjxs2lvr7mm-hello-0_1_0-bin"),
                             ("target.drv", "a9v7ha8yq8wh8hbmn0x2yq5cj0f2rzfq-create-symlinks.drv")):  # fmt: skip
            (out / "gc" / link).unlink(missing_ok=True)
            (out / "gc" / link).symlink_to(f"/nix/store/{target}")
    print(f"   Wrote {len(roots) + len(DEPS) + 3} files to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
