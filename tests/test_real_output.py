"""`libnix release` on REAL cargo (libnix) output (../shared/fixtures/cargo-libnix-full, 427 files that
cargo (libnix) generated for its own tree), laid out in a test repository as cargo lays it out
(target/release/nix), and proven by nix: the tag's tarball is put in the store, and nix evaluates the
`src` of every root crate through the export's own cargo_build_caller.nix against the real nixpkgs lib
and the real fenix (../shared/nix-eval), with import-from-derivation disabled."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import NIX_ENV, REPO, commit_all, forge_tarball, git, libnix, need_shared, store

from scaffold import buildsystem, ifd, nixsyntax
from scaffold.nixhash import parse_sha256

FULL = ("fixtures", "cargo-libnix-full")
NO_IFD = ("--option", "allow-import-from-derivation", "false")


def listed_files_of(crate: Path) -> list[str]:
    """The files `fn.relativeFileset project_root [ … ]` names (a regex: the test's own eyes), as paths
    of the tree (`src/../x` is `x`)."""
    blocks = re.findall(r"fn\.relativeFileset project_root \[(.*?)\];", crate.read_text(), re.S)
    return [re.sub(r"/src/\.\./", "/", f) for b in blocks for f in re.findall(r'"([^"]+)"', b)]


def listed_files(root: Path) -> set[str]:
    """Every file the build system's filesets name."""
    return {rel for f in root.rglob("*.nix") for rel in listed_files_of(f)}


@pytest.fixture(scope="module")
def cargo_repo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """cargo's tree as the build system names it, tagged, with the real output in target/release/nix."""
    fixture = need_shared(*FULL)
    base = tmp_path_factory.mktemp("real")
    repo = base / "cargo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "https://github.com/nixcloud/cargo.git")
    (repo / "Cargo.toml").write_text('[package]\nname = "cargo"\nversion = "0.88.0"\nedition = "2021"\n')
    (repo / ".gitignore").write_text("/target\n")
    for rel in listed_files(fixture):
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"// {rel}\n")
    commit_all(repo, "cargo 0.88.0")
    git(repo, "tag", "-a", "v0.88.0", "-m", "Release")
    nix = repo / "target" / "release" / "nix"
    shutil.copytree(fixture, nix)
    (nix / "README.md").unlink()
    subprocess.run(["chmod", "-R", "u+w", str(nix)], check=True)
    tarball = forge_tarball(repo, "v0.88.0", base / "cargo-v0.88.0.tar.gz", prefix="cargo-v0.88.0/")
    proc = libnix("release", "-C", str(repo), "--tag", "v0.88.0", "--from", "target/release/nix",
                  "--url", f"file://{tarball}", "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return {"repo": repo, "tarball": tarball, "export": repo / "libnix-0.88.0+v0.88.0", "base": base}


def offline_copy(export: Path, shim: Path, dest: Path) -> Path:
    """The export with only its nixpkgs import swapped for the shim (as ../shared/nix-eval's README says)."""
    shutil.copytree(export, dest)
    caller = dest / "cargo_build_caller.nix"
    text, n = re.subn(
        r'pkgs = import \(nixpkgsSrc \+ "/pkgs/top-level/default\.nix"\) \{'
        r"\s*localSystem = \{ inherit system; \};\s*\};",
        f"pkgs = import {shim}/nixpkgs-shim/pkgs.nix {{ lib = import {shim}/nixpkgs-shim/lib; "
        "system = builtins.currentSystem; };",
        caller.read_text(),
    )  # fmt: skip
    assert n == 1
    caller.write_text(
        text.replace("fenix = import fenixSrc {};", "fenix = import fenixSrc { inherit pkgs; };")
    )
    return caller


def nix_eval(expr: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["nix-instantiate", "--eval", "--read-write-mode", "--strict", "--json", *NO_IFD, "--expr", expr],
        capture_output=True, text=True, env=NIX_ENV,
    )  # fmt: skip


def test_release_of_the_full_fixture_passes_check(cargo_repo) -> None:
    export = cargo_repo["export"]
    doc = json.loads((cargo_repo["repo"] / "libnix-0.88.0+v0.88.0.release.json").read_text())
    # the root crates: the top level of default.nix's `self` (not deps, not target), binaries first
    assert doc["attributes"][0] == "cargo-0_88_0-bin-b4cc6eeacb818d24"
    assert len(doc["attributes"]) == 11 and not any("deps" in a or a == "target" for a in doc["attributes"])
    assert doc["entry"] == "derivations/default.nix"
    check = libnix("check", str(export), "--tarball", str(cargo_repo["tarball"]), "--json", "--strict")
    assert check.returncode == 0, check.stdout
    result = json.loads(check.stdout)
    assert result["ok"] and result["pins"][0]["verified"] is True and result["parsed"] == "ok"
    # upstream's eval-time reads of build-script output moved to build time: no IFD left
    assert result["ifd"] == [] and doc["ifd"] == [] and doc["notes"] == []
    helpers = (export / "derivations" / "default.nix").read_text()
    assert "builtins.readFile" not in helpers and helpers.count('"${crate}/nix/rustc-') == 2
    # the notices name the export's own files now; the crates.io URL of `home` was never a path
    runs = list(export.glob("derivations/**/*-script_build_run-*.nix"))
    assert len(runs) == 34
    for run in runs:
        text = run.read_text()
        rel = run.relative_to(export).as_posix()
        assert "/tmp/blah" not in text and text.count(f"in file: '{rel}':") == 2
    assert "crates/home/0.5.11/download" in next(export.glob("derivations/deps/home-*.nix")).read_text()
    # nothing but the pins changed: project_root, fenix, the notices
    fixture = need_shared(*FULL)
    changed = [
        p.relative_to(export).as_posix()
        for p in export.rglob("*.nix")
        if p.read_bytes() != (fixture / p.relative_to(export)).read_bytes()
    ]
    runs_rel = [r.relative_to(export).as_posix() for r in runs]
    assert sorted(changed) == sorted(["cargo_build_caller.nix", "derivations/default.nix", *runs_rel])


def test_nix_evaluates_every_root_crate_src_without_ifd(cargo_repo, shim, tmp_path: Path) -> None:
    store(cargo_repo["tarball"])  # what builtins.fetchTarball of the tag resolves to, offline
    caller = offline_copy(cargo_repo["export"], shim, tmp_path / "export")
    attrs = json.loads((cargo_repo["repo"] / "libnix.json").read_text())["attributes"]
    proc = nix_eval(
        f"let c = import {caller} {{ }}; in builtins.listToAttrs "
        f'(map (n: {{ name = n; value = "${{c.${{n}}.src}}"; }})'
        f" (builtins.fromJSON ''{json.dumps(attrs)}''))"
    )
    assert proc.returncode == 0, proc.stderr
    sources = json.loads(proc.stdout)
    assert sorted(sources) == sorted(attrs)
    for attr, path in sources.items():
        crate = next(cargo_repo["export"].glob(f"derivations/*{attr.rsplit('-', 1)[1]}.nix"))
        for rel in listed_files_of(crate):
            assert (Path(path) / rel).exists(), (attr, rel)


def test_nix_instantiates_every_crate_without_ifd(cargo_repo, shim, tmp_path: Path) -> None:
    """Every derivation of the export (root crates and all crates.io dependencies, whose rustc commands
    take build-script arguments) instantiates with IFD disabled: nothing is built during evaluation."""
    store(cargo_repo["tarball"])
    caller = offline_copy(cargo_repo["export"], shim, tmp_path / "export")
    proc = nix_eval(
        f"let c = import {caller} {{ }}; drvs = s: builtins.filter (v: v ? drvPath) (builtins.attrValues s);"
        " in map (d: d.drvPath) (drvs c ++ drvs c.deps)"
    )
    assert proc.returncode == 0, proc.stderr
    paths = json.loads(proc.stdout)
    crates = list(cargo_repo["export"].rglob("derivations/**/*-*.nix"))
    assert len(paths) == len(set(paths)) == len(crates) + 1  # and target.nix's create-symlinks
    # and with --keep-ifd the same evaluation needs IFD, as cargo (libnix) wrote it
    repo = shutil.copytree(cargo_repo["repo"], tmp_path / "repo", symlinks=True)
    kept = tmp_path / "kept-export"
    url = f"file://{cargo_repo['tarball']}"
    proc = libnix("release", "-C", str(repo), "--tag", "v0.88.0", "--from", "target/release/nix",
                  "--url", url, "--keep-ifd", "--out-dir", str(kept))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "IFD (evaluation reads a build output): derivations/default.nix:" in proc.stderr
    strict = libnix("check", str(kept), "--strict")
    assert strict.returncode == 1 and "IFD" in strict.stdout + strict.stderr
    caller = offline_copy(kept, shim, tmp_path / "kept")
    proc = nix_eval(f"(import {caller} {{ }}).cargo-0_88_0-bin-b4cc6eeacb818d24.drvPath")
    assert proc.returncode != 0 and "allow-import-from-derivation" in proc.stderr


def test_consumer_snippets_evaluate_without_ifd(cargo_repo, shim, tmp_path: Path) -> None:
    """The snippets of the release notes, as a consumer pastes them, with the asset at a file:// URL.
    The export's caller imports nixpkgs from the network: the asset here is the export with only that
    import swapped for the shim (offline_copy), repacked, and the snippets point at it and its hash."""
    store(cargo_repo["tarball"])
    offline = offline_copy(cargo_repo["export"], shim, tmp_path / "pack" / "libnix-0.88.0+v0.88.0").parent
    asset = tmp_path / "libnix-0.88.0+v0.88.0.tar.gz"
    subprocess.run(["tar", "czf", str(asset), "-C", str(offline.parent), offline.name], check=True)
    nix32 = _unpacked_hash(asset)
    to_sri = ["nix", "--extra-experimental-features", "nix-command", "hash", "to-sri", "--type", "sha256"]
    sri = subprocess.run([*to_sri, nix32], capture_output=True, text=True, check=True).stdout.strip()
    md = (cargo_repo["repo"] / "libnix-0.88.0+v0.88.0.snippets.md").read_text()
    plain, flake = re.findall(r"```nix\n(.*?)```", md, re.S)
    url = "https://github.com/nixcloud/cargo/releases/download/v0.88.0/libnix-0.88.0%2Bv0.88.0.tar.bz2"
    assert plain.count(f'url = "{url}";') == flake.count(f'url = "{url}";') == 1  # the forge's asset URL
    plain = re.sub(r'sha256 = "[^"]+"', f'sha256 = "sha256:{nix32}"', plain.replace(url, f"file://{asset}"))
    out = nix_eval(f"({plain}).drvPath")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout).endswith("-cargo-0_88_0-bin-b4cc6eeacb818d24.drv")

    consumer = tmp_path / "consumer"
    consumer.mkdir()
    flake = re.sub(r'narHash = "[^"]+"', f'narHash = "{sri}"', flake.replace(url, f"file://{asset}"))
    (consumer / "flake.nix").write_text(flake)
    # --impure only for the shim's absolute path (a real caller fetches nixpkgs with a hash, pure)
    proc = subprocess.run(
        ["nix", "--extra-experimental-features", "nix-command flakes", "eval", "--raw", *NO_IFD, "--impure",
         "--no-write-lock-file", f"path:{consumer}#packages.x86_64-linux.default.drvPath"],
        capture_output=True, text=True, env=NIX_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.endswith("-cargo-0_88_0-bin-b4cc6eeacb818d24.drv")


def _unpacked_hash(tarball: Path) -> str:
    proc = subprocess.run(["nix-prefetch-url", "--unpack", f"file://{tarball}"], capture_output=True,
                          text=True, env=NIX_ENV, check=True)  # fmt: skip
    return proc.stdout.strip()


def test_the_generated_flake_builds_the_crates_of_the_full_fixture(cargo_repo, shim) -> None:
    """`libnix init`'s flake reads libnix.json: its packages are the export's root crates."""
    repo = cargo_repo["repo"]
    release = {"cargo_libnix_url": f"file://{repo / 'libnix-0.88.0+v0.88.0.tar.bz2'}"}
    doc = json.loads((repo / "libnix.json").read_text())
    release["cargo_libnix_sha256"] = doc["asset_sha256"].removeprefix("sha256:")
    release["cargo_libnix_attr"] = doc["attributes"][0]
    data = [f"--data={k}={v}" for k, v in release.items()]
    proc = libnix("init", str(repo), "--defaults", *data)
    assert proc.returncode == 0, proc.stderr
    flags = subprocess.run(["bash", str(need_shared("nix-eval", "setup.sh")), str(shim)], capture_output=True,
                           text=True, check=True).stdout.split()  # fmt: skip
    out = subprocess.run(
        ["nix", "--extra-experimental-features", "nix-command flakes", "eval", "--json", *flags,
         "--no-write-lock-file", *NO_IFD, f"path:{repo}#packages.x86_64-linux",
         "--apply", "p: builtins.mapAttrs (n: v: v.name) p"],
        capture_output=True, text=True, env=NIX_ENV,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    packages = json.loads(out.stdout)
    for attr in doc["attributes"]:
        assert packages[attr] == attr
    assert packages["default"] == "cargo-0_88_0-bin-b4cc6eeacb818d24"


def test_old_generation_evaluates_through_its_caller(make_repo, shim, tmp_path: Path) -> None:
    """The generation before derivations/ (default.nix beside the caller, filterSource of the workspace,
    build_parser through callPackage of a fetchFromGitHub), made by the stand-in in that format."""
    repo = make_repo("old")
    shutil.copytree(REPO / "examples" / "hello", repo, dirs_exist_ok=True)
    git(repo, "remote", "add", "origin", "https://github.com/acme/hello.git")
    commit_all(repo)
    git(repo, "tag", "v0.1.0")
    tarball = forge_tarball(repo, "v0.1.0", tmp_path / "hello.tar.gz", prefix="hello-v0.1.0/")
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--url", f"file://{tarball}",
                  "--cargo", str(REPO / "tests" / "fake_cargo_libnix.py"),
                  env={"FAKE_CARGO_MODE": "old"})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    store(tarball)
    export = repo / "libnix-0.1.0+v0.1.0"
    caller = offline_copy(export, shim, tmp_path / "export")
    attr = json.loads((repo / "libnix.json").read_text())["attributes"][0]
    out = nix_eval(f'let c = import {caller} {{ }}; in builtins.readFile "${{c.{attr}.src}}/src/main.rs"')
    assert out.returncode == 0, out.stderr
    assert "fn main" in json.loads(out.stdout)
    check = libnix("check", str(export), "--tarball", str(tarball), "--json")
    assert check.returncode == 0, check.stdout


# -- the syntax-tree rules, on small inputs ----------------------------------------------------------

CALLER = """{ }:
let
  pkgs = import ./pkgs.nix;
  plain = pkgs.fetchFromGitHub { owner = "o"; repo = "plain"; rev = "r1"; sha256 = "sha256-AAAA"; };
  viaLet = pkgs.fetchFromGitHub { owner = "o"; repo = "lib"; rev = "r2"; sha256 = "sha256-BBBB"; };
  tool = pkgs.callPackage viaLet {};
  inline = import (pkgs.fetchFromGitHub { owner = "o"; repo = "in"; rev = "r3"; hash = "sha256-CCC"; }) {};
  git = import (pkgs.fetchgit { url = "https://example.org/x.git"; rev = "r4"; sha256 = "sha256-DDDD"; });
  built = pkgs.runCommand "x" {} "echo {} > $out";
  fromBuilt = import built;
  readsOut = map (crate: builtins.readFile "${crate}/nix/args") [ ];
  ok = import (builtins.fetchTarball { url = "https://example.org/a.tar.gz"; sha256 = "sha256-EEEE"; });
  url = "https://crates.io/api/v1/crates/home/0.5.11/download";
in
  import ./derivations/default.nix { inherit pkgs; src = plain; }
"""


def test_ifd_found_through_lets_and_rewritten_only_where_exact(tmp_path: Path) -> None:
    root = tmp_path / "bs"
    (root / "derivations").mkdir(parents=True)
    (root / "cargo_build_caller.nix").write_text(CALLER)
    (root / "derivations" / "default.nix").write_text("{ pkgs, src }: { }\n")
    (root / "pkgs.nix").write_text("{ }\n")
    before = {f"{s.sink_name}:{s.producer}" for s in ifd.find(nixsyntax.parse("c", CALLER.encode()))}
    assert before == {
        "callPackage:fetchFromGitHub", "import:fetchFromGitHub", "import:fetchgit", "import:runCommand",
        "readFile:crate",
    }  # fmt: skip
    pin = buildsystem.Pin("https://example.org/t.tar.gz", parse_sha256("1" * 52))
    report = buildsystem.rewrite(root, buildsystem.Origin(root, (tmp_path / "none",)), pin)
    assert not report.errors, report.errors
    text = (root / "cargo_build_caller.nix").read_text()
    # the plain src is built at build time: no IFD, untouched
    assert 'plain = pkgs.fetchFromGitHub { owner = "o"; repo = "plain";' in text
    assert 'url = "https://github.com/o/lib/archive/r2.tar.gz";' in text
    assert 'url = "https://github.com/o/in/archive/r3.tar.gz";' in text
    assert "pkgs.fetchgit" in text  # no builtins twin with the same hash: reported instead
    verified = buildsystem.verify(root, None, parse=False)
    found = sorted(str(f) for f in verified.ifd)
    assert found == [
        "cargo_build_caller.nix:14: import of the output of fetchgit during evaluation",
        "cargo_build_caller.nix:16: import of a derivation's output (runCommand) during evaluation",
        "cargo_build_caller.nix:17: readFile of a derivation's output (crate) during evaluation",
    ]
    assert not verified.errors  # the `home` in a crates.io URL is not a path
