"""REAL crates from the registry, built by nix as a consumer's build fetches them from a release.

examples/hello depends on the real anyhow 1.0.96 (with a build script) and itoa 1.0.14 (its Cargo.lock).
`.ci/setup` runs `cargo fetch` for it, the only network the tests use: the registry's `.crate` files land
in cargo's cache. Here each is added to the nix store under the name the released export gives it
(`nix-store --add-fixed sha256 crate-N-V.tar.gz`): what nixpkgs' fetchurl would have downloaded from
static.crates.io. nix then builds the released export from the pinned tag tarball, with
import-from-derivation disabled and the host's real rustc (Debian's rustc-web), against the toy package
set of tests/toy_build laid out with REAL crates: its fetchurl is a fixed-output derivation that refuses
to download, so a name or a hash other than the registry's would fail the build (shown below).
Both referees build it: Debian bookworm's nix 2.8 with the host's rustc 1.96, and trixie's nix 2.26
(tests/nix226) with trixie's rustc 1.85, inside its root.
cargo (libnix) itself is the stand-in (tests/fake_cargo_libnix.py), writing the crates' sources as
upstream's generator does: crates.io's API URL, the lock's checksum; the release moves them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from helpers import (
    HELLO,
    NIX_ENV,
    Referee,
    fixed_path,
    host_rustc,
    libnix,
    registry_file,
    store,
    tagged_hello,
)
from test_real_build import FAKE, TOY


def lock_crates() -> list[tuple[str, str, str]]:
    """(name, version, sha256) of every registry package examples/hello's Cargo.lock names."""
    lock = tomllib.loads((HELLO / "Cargo.lock").read_text())
    return [(p["name"], p["version"], p["checksum"]) for p in lock["package"] if "checksum" in p]


def add_to_store(tmp_path: Path, name: str, version: str, digest: str, referee: Referee) -> str:
    """The registry's bytes in the store as the release names them; nix's own path for that name and
    hash must be where they land."""
    named = tmp_path / "crates" / f"crate-{name}-{version}.tar.gz"
    named.parent.mkdir(exist_ok=True)
    shutil.copyfile(registry_file(name, version), named)
    added = referee.run("nix-store", "--add-fixed", "sha256", str(named), check=True).stdout.strip()
    assert added == fixed_path(digest, named.name, referee), (
        f"the registry's {name}-{version}.crate is not the Cargo.lock's checksum"
    )
    return added


@pytest.fixture
def real_crates_nixpkgs(tmp_path: Path, referee: Referee, referee_shim: Path) -> Path:
    """tests/toy_build laid out as a nixpkgs whose fetchurl takes REAL crates from the store only."""
    if referee.bin is None:
        host_rustc()  # inside nix 2.26's root, trixie's rustc (.ci/setup installs it there)
    dest = tmp_path / "real-crates-nixpkgs"
    shutil.copytree(TOY, dest)
    shutil.copytree(referee_shim / "nixpkgs-shim" / "lib", dest / "lib")
    (dest / "real-crates").write_text("fetchurl: fixed-output, the registry's crates in the store\n")
    return dest


def release_hello(make_repo, tmp_path: Path, referee: Referee) -> Path:
    repo, tarball = tagged_hello(make_repo, tmp_path)
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--url", f"file://{tarball}",
                  "--cargo", FAKE)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "crates   4 sources moved to static.crates.io" in proc.stdout  # itoa; anyhow, its build + run
    store(tarball, referee)  # what the export's builtins.fetchTarball of the tag resolves to, offline
    return repo / "libnix-0.1.0+v0.1.0"


def build(export: Path, nixpkgs: Path, referee: Referee) -> subprocess.CompletedProcess[str]:
    # /tmp/out is a fixed path of cargo (libnix)'s build phases, shared when the sandbox is off
    env = {"NIX_CONFIG": NIX_ENV["NIX_CONFIG"] + "max-jobs = 1\n", **referee.env}
    return libnix("check", str(export), "--build", "--nixpkgs", str(nixpkgs), "--fenix",
                  str(nixpkgs / "fenix"), "--json", env=env)  # fmt: skip


def test_a_release_builds_from_the_registrys_real_crates(
    make_repo, tmp_path, referee, real_crates_nixpkgs
) -> None:
    added = [add_to_store(tmp_path, n, v, digest, referee) for n, v, digest in lock_crates()]
    export = release_hello(make_repo, tmp_path, referee)
    proc = build(export, real_crates_nixpkgs, referee)
    assert proc.returncode == 0, f"{referee}: " + proc.stdout[-3000:] + proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    assert doc["nix"].startswith(f"nix (Nix) {referee.version}.")
    (built,) = doc["built"]
    ran = referee.execute(f"{built['out']}/bin/hello")
    assert ran.stdout == "hello from a pinned nix build, with 2 crates\n"  # itoa formatted the 2
    # the real anyhow's build script ran, asked the real rustc its version and printed its cfgs for it
    drv = referee.run("nix-store", "--query", "--deriver", built["out"], check=True).stdout.strip()
    inputs = referee.run("nix-store", "--query", "--requisites", drv, check=True).stdout.split()
    run = next(p for p in inputs if p.endswith("-anyhow-1_0_96-script_build_run-f080edeb228c5f3e.drv"))
    out = referee.run("nix-store", "--query", "--outputs", run, check=True).stdout.strip()
    arguments = " ".join(p.read_text() for p in referee.path(out).rglob("rustc-arguments"))
    assert "--cfg 'std_backtrace'" in arguments and "anyhow_nightly_testing" in arguments
    # the crates nix used are the .crate files added above: the fetches' outputs are those store paths
    fetches = [p for p in inputs if p.endswith(".tar.gz.drv") and "-crate-" in p]
    used = referee.run("nix-store", "--query", "--outputs", *fetches, check=True).stdout.split()
    assert sorted(used) == sorted(added)


@pytest.mark.parametrize("change", ["name", "hash"])
def test_a_crate_under_another_name_or_hash_is_not_found_and_not_downloaded(
    make_repo, tmp_path, referee, real_crates_nixpkgs, change
) -> None:
    for name, version, digest in lock_crates():
        add_to_store(tmp_path, name, version, digest, referee)
    export = release_hello(make_repo, tmp_path, referee)
    itoa = next((export / "derivations" / "deps").glob("itoa-*.nix"))
    text = itoa.read_text()
    if change == "name":  # no name (upstream's older generations): nix names it after the URL's tail
        changed = text.replace('name = "crate-itoa-1.0.14.tar.gz";', "")
    else:
        changed = text.replace("d75a2a4b1b190afb6f5425f10f6a8f959d2ea0b9c2b1d79553551850539e4674", "0" * 64)
    assert changed != text
    itoa.write_text(changed)
    proc = build(export, real_crates_nixpkgs, referee)
    assert proc.returncode == 1, f"{referee}: {proc.stdout[-2000:]}"
    (built,) = json.loads(proc.stdout)["built"]
    fetch = "itoa-1.0.14.crate" if change == "name" else "crate-itoa-1.0.14.tar.gz"
    assert f"-{fetch}.drv' failed" in built["error"], f"{referee}: {built['error']}"
    assert built["error"].endswith(
        f"toy fetchurl: not in the store as {fetch}, and nothing is downloaded here: "
        "https://static.crates.io/crates/itoa/itoa-1.0.14.crate"
    ), f"{referee}: {built['error']}"
