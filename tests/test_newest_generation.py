"""The newest generation of cargo (libnix)'s generator, as the stand-in writes it from upstream's source
(tests/fake_cargo_libnix.py, FAKE_CARGO_MODE=newest: the commit of each construct is named there), in
both its forms: in the tree (target/release/nix, after a build: the managed-directory marker and the gc
roots of the build run beside it; root crates `builtins.filterSource … /abs/workspace`) and
`write-nix-buildsystem --out-dir D --url U --hash H` (root crates a flat `pkgs.fetchurl` of U,
Cargo.dependencies.nix copied in). libnix releases each from a tag; nix checks the result: the root
crates' src is the pinned tarball, every consumer form evaluates with IFD disabled, the toy build
compiles the `--url/--hash` form's root crate with the real rustc."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from helpers import NIX_ENV, REPO, host_rustc, libnix, need_shared, nix_eval, store, tagged_hello

from scaffold.hashing.nixhash import Sha256

FAKE = str(REPO / "tests" / "fake_cargo_libnix.py")
NEWEST = {"FAKE_CARGO_MODE": "newest", "CARGO_BACKEND": "nix"}


def generate(repo: Path, *args: str, gc: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **NEWEST, **({"FAKE_CARGO_GC": "1"} if gc else {})}
    return subprocess.run([sys.executable, FAKE, "build", "--release", "write-nix-buildsystem", *args],
                          cwd=repo, env=env, capture_output=True, text=True)  # fmt: skip


def flat(path: Path) -> str:
    return Sha256(hashlib.sha256(path.read_bytes()).digest()).nix32


def asset_names(repo: Path) -> list[str]:
    with tarfile.open(repo / "libnix-0.1.0+v0.1.0.tar.bz2") as tar:
        return tar.getnames()


def evaluates(export: Path, shim: Path) -> dict[str, object]:
    proc = libnix("check", str(export), "--eval", "--nixpkgs", f"{shim}/nixpkgs-shim", "--json")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    return json.loads(proc.stdout)


def root_src(export: Path, shim: Path) -> str:
    expr = (f"let c = import {export}/cargo_build_caller.nix {{ pkgs = import {shim}/nixpkgs-shim {{ }}; }};"
            ' in "${c.hello-0_1_0-bin-a6a06cbe35800f65.src}"')  # fmt: skip
    proc = nix_eval(expr)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_in_tree_form_after_a_build_run(make_repo, tmp_path: Path, shim) -> None:
    repo, tarball = tagged_hello(make_repo, tmp_path)
    nix_dir = repo / "target" / "release" / "nix"
    assert generate(repo, gc=True).returncode == 0
    assert (nix_dir / ".cargo-libnix-managed").exists() and (nix_dir / "gc" / "result").is_symlink()
    assert "/tmp" in (nix_dir / "derivations" / "hello-0.1.0-bin-a6a06cbe35800f65.nix").read_text()
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--from", "target/release/nix",
                  "--url", f"file://{tarball}")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # the generator's leftovers are neither refused nor shipped
    names = asset_names(repo)
    assert not any(".cargo-libnix-managed" in n or "/gc" in n for n in names), names
    export = repo / "libnix-0.1.0+v0.1.0"
    assert not (export / "gc").exists() and not (export / ".cargo-libnix-managed").exists()
    caller = (export / "cargo_build_caller.nix").read_text()
    assert "../../../." not in caller and "../../../Cargo.dependencies.nix" not in caller
    deps = (export / "derivations" / "deps" / "itoa-1.0.14-f807d60e93b08a94.nix").read_text()
    assert 'name = "crate-itoa-1.0.14.tar.gz";' in deps and "static.crates.io/crates/itoa/" in deps
    store(tarball)
    doc = evaluates(export, shim)
    assert doc["ok"] and all(e["error"] is None for e in doc["evaluated"])
    src = Path(root_src(export, shim))  # filterSource of the checkout became the tag's tarball
    assert (src / "src" / "main.rs").read_text() == (
        REPO / "examples" / "hello" / "src" / "main.rs"
    ).read_text()

    # a second generation into the same directory keeps gc/ and the marker; an unmanaged one is refused
    assert generate(repo, gc=True).returncode == 0 and (nix_dir / "gc").is_dir()
    other = repo / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("mine\n")
    refused = generate(repo, "--out-dir", str(other), "--url", "file:///x", "--hash", "0" * 52)
    assert refused.returncode == 101 and "not managed by cargo-libnix" in refused.stdout
    assert (other / "notes.txt").read_text() == "mine\n"


def test_the_write_nix_buildsystem_form_re_pinned_and_a_wrong_flat_hash_named(
    make_repo, tmp_path: Path, shim
) -> None:
    repo, tarball = tagged_hello(make_repo, tmp_path)
    (repo / "Cargo.dependencies.nix").write_text("{ pkgs }: { deps = { }; envs = { }; }\n")
    url = f"file://{tarball}"
    out = tmp_path / "libnix-0.1.0+v0.1.0-upstream"
    # upstream's README: the flat hash of the tarball file, nix-prefetch-url without --unpack
    prefetched = subprocess.run(["nix-prefetch-url", url], capture_output=True, text=True, env=NIX_ENV,
                                check=True).stdout.strip()  # fmt: skip
    assert prefetched == flat(tarball)
    assert generate(repo, "--out-dir", str(out), "--url", url, "--hash", prefetched).returncode == 0
    assert (out / "Cargo.dependencies.nix").exists()  # write-nix-buildsystem copies the project's
    crate = (out / "derivations" / "hello-0.1.0-bin-a6a06cbe35800f65.nix").read_text()
    assert f'src = pkgs.fetchurl {{\n        url = "{url}";' in crate and 'unpackPhase = "";' in crate

    # a flat hash of another file: named, with the right one, and nothing written
    wrong = tmp_path / "wrong"
    assert generate(repo, "--out-dir", str(wrong), "--url", url, "--hash", "1" * 52).returncode == 0
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--from", str(wrong), "--url", url)
    assert proc.returncode == 1
    unpacked = store(tarball)
    assert (
        f"has the flat hash sha256:{'1' * 52}, but the tarball file's is sha256:{prefetched} "
        f"(libnix pins its unpacked tree: sha256:{unpacked})"
    ) in proc.stderr.strip().splitlines()[-1], proc.stderr
    assert not (repo / "libnix-0.1.0+v0.1.0").exists()

    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--from", str(out), "--url", url)
    assert proc.returncode == 0, proc.stderr
    export = repo / "libnix-0.1.0+v0.1.0"
    crate = (export / "derivations" / "hello-0.1.0-bin-a6a06cbe35800f65.nix").read_text()
    assert "pkgs.fetchurl" not in crate and "builtins.fetchTarball" in crate
    assert (export / "Cargo.dependencies.nix").read_text() == "{ pkgs }: { deps = { }; envs = { }; }\n"
    store(tarball)
    assert evaluates(export, shim)["ok"]
    assert (Path(root_src(export, shim)) / "Cargo.toml").is_file()  # the unpacked tree, not the file


def test_from_the_export_directory_itself_is_one_line(make_repo, tmp_path: Path) -> None:
    repo, tarball = tagged_hello(make_repo, tmp_path)
    export = repo / "libnix-0.1.0+v0.1.0"
    assert (
        generate(
            repo, "--out-dir", str(export), "--url", f"file://{tarball}", "--hash", flat(tarball)
        ).returncode
        == 0
    )
    before = sorted(p.relative_to(export).as_posix() for p in export.rglob("*"))
    proc = libnix(
        "release", "-C", str(repo), "--tag", "v0.1.0", "--from", str(export), "--url", f"file://{tarball}"
    )
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "is the directory the export is written to" in proc.stderr and "--force" not in proc.stderr
    assert sorted(p.relative_to(export).as_posix() for p in export.rglob("*")) == before


@pytest.fixture
def toy_nixpkgs(tmp_path: Path, shim: Path) -> Path:
    import shutil

    need_shared("nix-eval")
    dest = tmp_path / "toy-nixpkgs"
    shutil.copytree(REPO / "tests" / "toy_build", dest)
    shutil.copytree(shim / "nixpkgs-shim" / "lib", dest / "lib")
    return dest


def test_the_url_hash_forms_root_crate_builds_with_a_real_rustc(
    make_repo, tmp_path: Path, toy_nixpkgs
) -> None:
    host_rustc()
    repo, tarball = tagged_hello(make_repo, tmp_path)
    url = f"file://{tarball}"
    out = tmp_path / "upstream-export"
    assert generate(repo, "--out-dir", str(out), "--url", url, "--hash", flat(tarball)).returncode == 0
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--from", str(out), "--url", url)
    assert proc.returncode == 0, proc.stderr
    store(tarball)
    env = {"NIX_CONFIG": NIX_ENV["NIX_CONFIG"] + "max-jobs = 1\n"}
    proc = libnix("check", str(repo / "libnix-0.1.0+v0.1.0"), "--build", "--nixpkgs", str(toy_nixpkgs),
                  "--fenix", str(toy_nixpkgs / "fenix"), "--json", env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    (built,) = json.loads(proc.stdout)["built"]
    ran = subprocess.run([f"{built['out']}/bin/hello"], capture_output=True, text=True, check=True)
    assert ran.stdout == "hello from a pinned nix build, with 2 crates\n"
