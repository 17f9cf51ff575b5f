"""Cargo.dependencies.nix filled in from Cargo.lock (scaffold/project/native_deps.toml), on excerpts of
real lock files (tests/native_locks: nushell, typst, cargo-leptos, sniffnet, starship, verbatim packages)
and small ones; init and update keep the user's entries; the file evaluates against the nixpkgs shim of
../shared/nix-eval, so a misspelt attribute fails."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import NIX_ENV, REPO, commit_all, libnix

from scaffold.project import native_deps

LOCKS = REPO / "tests" / "native_locks"


def lock(*packages: tuple[str, list[str]]) -> str:
    out = "version = 4\n"
    for name, deps in packages:
        listed = "".join(f' "{d}",\n' for d in deps)
        out += f'\n[[package]]\nname = "{name}"\nversion = "1.0.0"\ndependencies = [\n{listed}]\n'
    return out


def needs_of(tmp_path: Path, text: str) -> dict[str, native_deps.Need]:
    (tmp_path / "Cargo.lock").write_text(text)
    return native_deps.plan(native_deps.locked_packages(tmp_path))


@pytest.mark.parametrize(
    ("project", "expected"),
    [
        # what cargo (libnix)'s README ("Success stories") says each needs
        ("nushell", {"openssl-sys": {"pkg-config", "openssl"}}),
        ("typst", {"openssl-sys": {"pkg-config", "openssl"}}),
        ("cargo-leptos", {"openssl-sys": {"pkg-config", "openssl", "perl"}}),
        ("starship", {"libz-ng-sys": {"cmake"}}),
        ("sniffnet", {"alsa-sys": {"pkg-config", "alsa-lib"}, "pcap": {"libpcap"}}),
    ],
)
def test_real_lock_files_get_what_upstream_names(
    project: str, expected: dict[str, set[str]], tmp_path
) -> None:
    shutil.copy(LOCKS / f"{project}.lock", tmp_path / "Cargo.lock")
    needs = native_deps.plan(native_deps.locked_packages(tmp_path))
    for crate, deps in expected.items():
        assert deps <= set(needs[crate].deps), (crate, needs[crate].deps)
        assert all("[" in why for why in needs[crate].why)  # each reason names its source


def test_plain_and_vendored_builds_and_unknown_crates(tmp_path: Path) -> None:
    plain = needs_of(tmp_path, lock(("openssl-sys", ["cc", "libc", "pkg-config"]), ("left-pad", ["cc"])))
    assert plain["openssl-sys"].deps == ["pkg-config", "openssl"] and "left-pad" not in plain
    vendored = needs_of(tmp_path, lock(("openssl-sys", ["cc", "openssl-src"]), ("openssl-src", ["cc"])))
    assert vendored["openssl-sys"].deps == ["pkg-config", "openssl", "perl"]
    assert any("vendored" in why for why in vendored["openssl-sys"].why)  # what was assumed, said
    sqlite = needs_of(tmp_path, lock(("libsqlite3-sys", ["cc", "pkg-config", "vcpkg"])))
    assert sqlite["libsqlite3-sys"].deps == ["pkg-config", "sqlite"]
    tools = needs_of(
        tmp_path, lock(("my-proto", ["prost-build"]), ("zng", ["cmake"]), ("libz-ng-sys", ["cmake"]))
    )
    assert tools["my-proto"].envs == {"PROTOC": "${protobuf}/bin/protoc"} and tools["zng"].deps == ["cmake"]
    assert tools["libz-ng-sys"].deps == ["cmake"]  # the crate's rule and the tool's, once
    assert needs_of(tmp_path, lock(("serde", []))) == {}


def init(root: Path, *args: str):
    return libnix("init", str(root), "--defaults", "--offline", *args)


def test_init_and_update_keep_the_users_entries(make_repo) -> None:
    repo = make_repo("app")
    shutil.copytree(REPO / "examples" / "hello", repo, dirs_exist_ok=True)
    (repo / "Cargo.lock").write_text(lock(("openssl-sys", ["pkg-config"]), ("hello", ["openssl-sys"])))
    proc = init(repo)
    assert proc.returncode == 0, proc.stderr
    assert "openssl-sys: pkg-config, openssl" in proc.stdout
    deps = repo / "Cargo.dependencies.nix"
    assert '"openssl-sys" = [ pkg-config openssl ];' in deps.read_text()
    commit_all(repo, "init")
    # the user's own entries, in `mine`
    deps.write_text(
        deps.read_text().replace(
            '# "openssl-sys" = [ pkg-config openssl ];',
            '"openssl-sys" = [ openssl_3 ];\n      "hello" = [ jq ];',
        )
    )
    commit_all(repo, "mine")
    (repo / "Cargo.lock").write_text(lock(("openssl-sys", ["pkg-config"]), ("alsa-sys", ["pkg-config"])))
    commit_all(repo, "alsa")
    proc = libnix("update", str(repo))
    assert proc.returncode == 0, proc.stderr
    text = deps.read_text()
    assert '"alsa-sys" = [ pkg-config alsa-lib ];' in text  # refreshed from the new lock
    assert '"openssl-sys" = [ openssl_3 ];' in text and '"hello" = [ jq ];' in text  # kept
    assert "alsa-sys: pkg-config, alsa-lib" in proc.stdout


def test_a_file_of_the_users_own_is_left_alone(make_repo) -> None:
    repo = make_repo("own")
    shutil.copytree(REPO / "examples" / "hello", repo, dirs_exist_ok=True)
    (repo / "Cargo.lock").write_text(lock(("alsa-sys", [])))
    own = "{ pkgs }: { deps = { }; envs = { }; }\n"
    (repo / "Cargo.dependencies.nix").write_text(own)
    proc = init(repo)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "Cargo.dependencies.nix").read_text() == own
    assert "alsa-sys: pkg-config, alsa-lib" in proc.stderr and "your own" in proc.stderr


def test_every_attribute_the_table_names_exists_in_nixpkgs(tmp_path: Path, shim: Path) -> None:
    """A lock with every crate and every tool of the table: the generated file evaluates against the
    shim's package set (nixpkgs' names). The shim lacks llvmPackages.libclang's `lib` output, which
    nixpkgs has: this test's copy of the shim adds it."""
    table = native_deps.table()
    packages = [(name, []) for name in table["crate"]] + [(f"uses-{t}", [t]) for t in table["tool"]]
    (tmp_path / "Cargo.lock").write_text(lock(*packages))
    shutil.copy(
        REPO / "copier-template" / "Cargo.dependencies.nix.jinja", tmp_path / "Cargo.dependencies.nix"
    )
    needs, owned = native_deps.refresh(tmp_path)
    assert owned and len(needs) == len(packages)
    pkgs = tmp_path / "pkgs.nix"
    text = (shim / "nixpkgs-shim" / "pkgs.nix").read_text()
    patched = text.replace(
        'llvmPackages = { libclang = leaf "clang-20.1.8-lib";',
        'llvmPackages = { libclang = leaf "clang-20.1.8-lib" // { lib = leaf "clang-20.1.8-lib"; };',
    )
    assert patched != text
    pkgs.write_text(patched)
    expr = (
        f'let pkgs = import {pkgs} {{ lib = import {shim}/nixpkgs-shim/lib; system = "x86_64-linux"; }};'
        f" d = import {tmp_path}/Cargo.dependencies.nix {{ inherit pkgs; }}; in"
        " { deps = builtins.mapAttrs (n: l: map (p: p.name) l) d.deps; envs = d.envs; }"
    )
    proc = subprocess.run(["nix-instantiate", "--eval", "--strict", "--json", "--expr", expr],
                          capture_output=True, text=True, env=NIX_ENV)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    evaluated = json.loads(proc.stdout)
    assert evaluated["deps"]["alsa-sys"] == ["pkg-config-wrapper-0.29.2", "alsa-lib-1.2.14"]
    assert evaluated["envs"]["uses-prost-build"]["PROTOC"].endswith("-protobuf-32.1/bin/protoc")


def test_git_sourced_crates_get_their_native_inputs(tmp_path: Path) -> None:
    """codex patches crates to git branches ([patch.crates-io]): Cargo.lock then names them with a
    `source = "git+…"`, and they need what the registry's release of the same crate needs."""
    text = """version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["openssl-sys"]

[[package]]
name = "openssl-sys"
version = "0.9.109"
source = "git+https://github.com/sfackler/rust-openssl?branch=master#5b8e4b0a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f"
dependencies = ["cc", "libc", "pkg-config"]
"""
    needs = needs_of(tmp_path, text)
    assert {"pkg-config", "openssl"} <= set(needs["openssl-sys"].deps)


def test_pretend_says_what_the_lock_needs_and_writes_nothing(make_repo) -> None:
    repo = make_repo("pretend")
    shutil.copytree(REPO / "examples" / "hello", repo, dirs_exist_ok=True)
    (repo / "Cargo.lock").write_text(lock(("openssl-sys", ["pkg-config"]), ("hello", ["openssl-sys"])))
    before = sorted(p.name for p in repo.iterdir())
    proc = init(repo, "--pretend")
    assert proc.returncode == 0, proc.stderr
    assert "native inputs from Cargo.lock (would go in Cargo.dependencies.nix):" in proc.stdout
    assert "openssl-sys: pkg-config, openssl" in proc.stdout
    assert sorted(p.name for p in repo.iterdir()) == before
