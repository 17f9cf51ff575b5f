"""The flake `libnix init` writes, evaluated against the REAL fenix and the real nixpkgs lib (../shared/
nix-eval, with its thin package set) with import-from-derivation disabled, for every kind of toolchain a
project names: fenix's current stable/beta/nightly, a pinned release, a dated nightly, a
rust-toolchain.toml with components and targets (one that fenix's current data no longer has), and a
released workspace. `nix flake check --no-build` evaluates every output of every system; the dev shell
of x86_64-linux and aarch64-darwin is looked at.

Offline there is no rustup: channel manifests are fabricated by ../shared/nix-eval/mkmanifest.py
(the real shape, current stable's URLs), served on 127.0.0.1 for `libnix init` to hash, and put in the
store under the name `builtins.fetchurl` gives them, as if nix had fetched them itself."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import (
    NIX28,
    NIX_ENV,
    REPO,
    Referee,
    commit_all,
    fixed_path,
    flake,
    forge_tarball,
    git,
    libnix,
    need_shared,
)

FAKE = str(REPO / "tests" / "fake_cargo_libnix.py")
WASI = """
[pkg."rust-std".target."wasm32-wasi"]
available = true
url = "https://static.rust-lang.org/dist/2024-05-02/rust-std-1.78.0-wasm32-wasi.tar.gz"
hash = "0b4d7e4e1fd8a8d3f5bc9d8d7d4c2d6c3a1a4b0c7f6e5d4c3b2a190807060504"
"""


def manifest(shim: Path, www: Path, rel: str, version: str, date: str | None = None, extra: str = "") -> str:
    """Fabricate the manifest rustup would serve at `rel`; its date as the dated channel's. Returns its
    date."""
    path = www / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    make = need_shared("nix-eval", "mkmanifest.py")
    subprocess.run(["python3", str(make), str(shim / "fenix"), version, str(path)], check=True)
    text = path.read_text()
    if date is not None:
        text = re.sub(r'^date = ".*"$', f'date = "{date}"', text, count=1, flags=re.M)
    path.write_text(text + extra)
    # what builtins.fetchurl of its URL stores (name: the URL's last part), so that nix needs no network
    subprocess.run(["nix-store", "--add-fixed", "sha256", str(path)], check=True, capture_output=True,
                   env=NIX_ENV)  # fmt: skip
    return re.search(r'^date = "(.*)"$', text, re.M).group(1)  # type: ignore[union-attr]


def shell_of(root: Path, shim: Path, system: str) -> dict[str, object]:
    """What the dev shell holds: package names, and the parts the toolchain joins (names without hash)."""
    apply = """d: {
      drv = d.drvPath;
      packages = map (p: p.name) d.nativeBuildInputs;
      toolchain = map (p: builtins.substring 44 (-1) (builtins.unsafeDiscardStringContext p))
        (builtins.head (builtins.filter (p: p.name == "rust-mixed") d.nativeBuildInputs)).paths;
    }"""
    proc = flake(root, shim, "eval", "--json", f"path:{root}#devShells.{system}.default", "--apply", apply)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture
def project(make_repo, http_dir, shim, cargo_libnix_release):
    """A crate, `libnix init` run on it online against a local rustup mirror; returns a runner."""
    base, www = http_dir

    def run(files: dict[str, str], *data: str, workspace: bool = False) -> Path:
        repo = make_repo()
        if workspace:
            members = '["crates/app", "crates/util"]'
            (repo / "Cargo.toml").write_text(
                f'[workspace]\nmembers = {members}\nresolver = "2"\n'
                '\n[workspace.package]\nversion = "0.2.0"\n'
            )
            for name in ("app", "util"):
                (repo / "crates" / name / "src").mkdir(parents=True)
                (repo / "crates" / name / "Cargo.toml").write_text(
                    f'[package]\nname = "{name}"\nversion.workspace = true\nedition = "2021"\n'
                )
                (repo / "crates" / name / "src" / "main.rs").write_text("fn main() {}\n")
        else:
            shutil.copytree(REPO / "examples" / "hello", repo, dirs_exist_ok=True)
        for rel, text in files.items():
            (repo / rel).write_text(text)
        args = [f"--data={k}={v}" for k, v in cargo_libnix_release.items()] + [f"--data={d}" for d in data]
        proc = libnix("init", str(repo), "--defaults", *args, env={"LIBNIX_RUST_DIST": base})
        assert proc.returncode == 0, proc.stderr
        return repo

    return run, www


def check_everything(root: Path, shim: Path, referee: Referee = NIX28) -> None:
    proc = flake(root, shim, "flake", "check", "--no-build", f"path:{root}", referee=referee)
    assert proc.returncode == 0, f"{referee}: {proc.stderr[-3000:]}"
    assert "nixfmt-rfc-style is now the same" not in proc.stderr  # the formatter fits nixos-25.11


def test_current_channels(project, shim) -> None:
    run, _ = project
    for channel in ("stable", "beta", "nightly"):
        root = run({}, f"toolchain_channel={channel}")
        check_everything(root, shim)
        for system in ("x86_64-linux", "aarch64-darwin"):
            shell = shell_of(root, shim, system)
            # rust-analyzer: the toolchain's prebuilt component, not fenix's from-source build
            assert any(p.startswith("rust-analyzer-preview-") for p in shell["packages"]), shell
            assert not any("rust-analyzer-nightly" in p for p in shell["packages"])


def test_pinned_release_and_dated_nightly(project, shim) -> None:
    run, www = project
    date = manifest(shim, www, "channel-rust-1.87.0.toml", "1.87.0")
    pin = ("toolchain_channel=version", "toolchain_version=1.87.0", "targets=[wasm32-unknown-unknown]")
    root = run({}, *pin)
    text = (root / "nix" / "libnix.nix").read_text()
    assert 'url = "https://static.rust-lang.org/dist/channel-rust-1.87.0.toml";' in text
    assert "toolchainOf" not in text
    check_everything(root, shim)
    shell = shell_of(root, shim, "aarch64-darwin")
    assert f"rust-analyzer-preview-{date}" in shell["packages"]
    assert f"rust-std-{date}" in shell["toolchain"]  # the wasm32 standard library, from that manifest

    dated = manifest(shim, www, "2024-05-01/channel-rust-nightly.toml", "1.80.0", date="2024-05-01")
    root = run({"rust-toolchain": "nightly-2024-05-01\n"})
    assert "/dist/2024-05-01/channel-rust-nightly.toml" in (root / "nix" / "libnix.nix").read_text()
    check_everything(root, shim)
    shell = shell_of(root, shim, "x86_64-linux")
    assert f"rust-with-components-{dated}" in shell["toolchain"]  # that nightly, not today's
    assert f"rust-analyzer-preview-{dated}" in shell["packages"]


def test_rust_toolchain_toml_with_components_and_an_old_target(project, shim) -> None:
    """1.78.0 with wasm32-wasi, which fenix's current data no longer knows: the manifest does."""
    run, www = project
    date = manifest(shim, www, "channel-rust-1.78.0.toml", "1.78.0", extra=WASI)
    toml = (
        '[toolchain]\nchannel = "1.78.0"\ncomponents = ["rustfmt", "llvm-tools", "rust-analyzer"]\n'
        'targets = ["wasm32-wasi", "x86_64-unknown-linux-musl"]\n'
    )
    root = run({"rust-toolchain.toml": toml})
    check_everything(root, shim)
    for system in ("x86_64-linux", "aarch64-darwin"):
        shell = shell_of(root, shim, system)
        assert shell["toolchain"].count(f"rust-std-{date}") == 2
        # rust-analyzer is one of the toolchain's components here: not added a second time
        assert not any(p.startswith("rust-analyzer") for p in shell["packages"])


def test_released_workspace(project, shim, tmp_path: Path) -> None:
    run, _ = project
    root = run({}, "toolchain_channel=stable", workspace=True)
    git(root, "remote", "add", "origin", "https://github.com/acme/tool.git")
    commit_all(root)
    git(root, "tag", "v0.2.0")
    tarball = forge_tarball(root, "v0.2.0", tmp_path / "tool.tar.gz", prefix="tool-v0.2.0/")
    url = f"file://{tarball}"
    proc = libnix("release", "-C", str(root), "--tag", "v0.2.0", "--url", url, "--cargo", FAKE)
    assert proc.returncode == 0, proc.stderr
    check_everything(root, shim)
    out = flake(root, shim, "eval", "--json", f"path:{root}#packages.aarch64-darwin",
                "--apply", "p: builtins.mapAttrs (n: d: d.drvPath) p")  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    packages = json.loads(out.stdout)
    assert {"cargo-libnix", "default"} < set(packages)
    assert any(n.startswith("app-0_2_0-bin-") for n in packages)


def test_cargo_libnix_from_an_upstream_release(tmp_path: Path, make_repo, nix, shim) -> None:
    """A cargo (libnix) release as upstream makes it (write-nix-buildsystem --url/--hash: every crate's
    src pinned with fetchurl, no project_root pin, no libnix-export.json, its own Cargo.dependencies.nix),
    wired as upstream's README does: project_root ./., the release's Cargo.dependencies.nix, fenix's
    stable rustc and cargo (not this project's toolchain)."""
    cargo_src = make_repo("cargo")
    shutil.copytree(REPO / "examples" / "hello", cargo_src, dirs_exist_ok=True)
    top = tmp_path / "libnix-1.87.0+v1"
    proc = subprocess.run(
        [sys.executable, str(REPO / "tests" / "fake_cargo_libnix.py"), "build", "--release",
         "write-nix-buildsystem", "--out-dir", str(top), "--url", "https://example.org/cargo.tar.gz",
         "--hash", "1h5j1kl7q7mysa943gvd4c8ih8yxx4igqrx4akv9ixf4zf411b8l"],
        cwd=cargo_src, env={**os.environ, "CARGO_BACKEND": "nix"}, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout
    (top / "Cargo.dependencies.nix").write_text(
        '{ pkgs }: { deps = { "hello" = [ pkgs.jq ]; }; envs = { }; }\n'
    )
    asset = tmp_path / "libnix-1.87.0+v1.tar.bz2"
    subprocess.run(["tar", "cjf", str(asset), "-C", str(tmp_path), top.name], check=True)
    attr = "hello-0_1_0-bin-a6a06cbe35800f65"
    release = {"cargo_libnix_url": f"file://{asset}", "cargo_libnix_sha256": nix.prefetch_unpack(asset),
               "cargo_libnix_attr": attr}  # fmt: skip
    root = make_repo("project")
    (root / "Cargo.toml").write_text('[package]\nname = "project"\nversion = "0.1.0"\n')
    (root / "rust-toolchain").write_text("1.80\n")  # older than cargo (libnix) needs: not used for it
    args = [f"--data={k}={v}" for k, v in release.items()]
    assert libnix("init", str(root), "--defaults", "--offline", *args).returncode == 0
    apply = "d: { inherit (d) name RUSTC; inputs = map (i: i.name) d.buildInputs; }"
    proc = flake(
        root, shim, "eval", "--json", f"path:{root}#packages.x86_64-linux.cargo-libnix", "--apply", apply
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    cargo = json.loads(proc.stdout)
    assert cargo["name"] == attr
    assert "-rust-stable-with-std-" in cargo["RUSTC"] and cargo["RUSTC"].endswith("/bin/rustc")
    assert cargo["inputs"] == ["jq-1.8.1"]


def upstream_style_release(base: Path, referee: Referee = NIX28, attribute: str = "itoa") -> dict[str, str]:
    """A cargo (libnix) release as upstream's write-nix-buildsystem leaves it: every crate fetched from
    crates.io's API endpoint, no name (the stand-in's output for examples/hello), with one such crate,
    itoa, as the release's package attribute. Packed, and put in the store as fetchTarball stores it."""
    project = shutil.copytree(REPO / "examples" / "hello", base / "cargo")
    out = base / "libnix-1.87.0+v9"
    generate = [sys.executable, FAKE, "build", "--release", "write-nix-buildsystem", "--out-dir", str(out)]
    env = {**os.environ, "CARGO_BACKEND": "nix"}
    subprocess.run(generate, cwd=project, env=env, check=True, capture_output=True)
    entry = out / "derivations" / "default.nix"
    entry.write_text(
        entry.read_text().replace(
            "  self = {\n", f"  self = {{\n    {attribute} = self.deps.itoa-1_0_14-f807d60e93b08a94;\n"
        )
    )
    assert (
        "https://crates.io/api/v1/crates/itoa/1.0.14/download"
        in (out / "derivations" / "deps" / "itoa-1.0.14-f807d60e93b08a94.nix").read_text()
    )
    tarball = base / "libnix-1.87.0+v9.tar.gz"
    subprocess.run(["tar", "czf", str(tarball), "-C", str(base), out.name], check=True)
    proc = referee.run("nix-prefetch-url", "--unpack", "--name", "source", f"file://{tarball}", check=True)
    return {"cargo_libnix_url": f"file://{tarball}", "cargo_libnix_sha256": proc.stdout.strip(),
            "cargo_libnix_attr": attribute}  # fmt: skip


def test_cargo_libnix_crates_on_the_api_endpoint_are_fetched_from_static_crates_io(
    project, referee, referee_shim, tmp_path
) -> None:
    """crates.io refuses its API endpoint to nix's fetcher: the flake hands cargo (libnix)'s build a
    package set whose fetchurl takes such a crate from static.crates.io, under nixpkgs' store name. Every
    output of the generated flake evaluates under both referees (nix 2.26: the real lib, no polyfill)."""
    run, _ = project
    shim = referee_shim
    release = upstream_style_release(tmp_path, referee)
    root = run({}, *(f"{k}={v}" for k, v in release.items()))
    check_everything(root, shim, referee)
    attr = f"path:{root}#packages.x86_64-linux.cargo-libnix.src"
    apply = "s: { inherit (s) name; path = s.outPath; urls = s.urls or [ s.url ]; }"
    proc = flake(root, shim, "eval", "--json", attr, "--apply", apply, referee=referee)
    assert proc.returncode == 0, proc.stderr[-3000:]
    src = json.loads(proc.stdout)
    assert src["urls"] == ["https://static.crates.io/crates/itoa/itoa-1.0.14.crate"]
    assert src["name"] == "crate-itoa-1.0.14.tar.gz"
    # nixpkgs' store path for that crate: what a binary cache holding nixpkgs' copy serves
    digest = "d75a2a4b1b190afb6f5425f10f6a8f959d2ea0b9c2b1d79553551850539e4674"
    fixed = fixed_path(digest, "crate-itoa-1.0.14.tar.gz", referee)
    assert src["path"] == fixed
    # every other fetch passes through untouched: the project's own export of a static URL, the same path
    overlay = root / "nix" / "crates-io.nix"
    expr = (f"let lib = import {shim}/nixpkgs-shim/lib; pkgs = import {shim}/nixpkgs-shim {{ }};"
            f" moved = pkgs // import {overlay} pkgs pkgs; args = {{ url = \"https://example.org/x.tar.gz\";"
            f" sha256 = \"{digest}\"; }}; in [ (moved.fetchurl args).outPath (pkgs.fetchurl args).outPath"
            " (builtins.attrNames (lib.functionArgs moved.fetchurl) == builtins.attrNames"
            " (lib.functionArgs pkgs.fetchurl)) ]")  # fmt: skip
    proc = referee.run("nix-instantiate", "--eval", "--strict", "--json", "--expr", expr)
    assert proc.returncode == 0, proc.stderr
    same, other, args = json.loads(proc.stdout)
    assert same == other and args is True


def test_a_release_whose_root_crate_is_not_named_is_found_by_name(project, shim, tmp_path) -> None:
    """A cargo (libnix) release libnix knows no attribute of (upstream's +v2): the flake finds its
    `cargo-<version>-bin-<hash>` root crate by name in the fetched derivations/default.nix, as upstream's
    flake does, with import-from-derivation disabled."""
    run, _ = project
    release = upstream_style_release(tmp_path, attribute="cargo-0_88_0-bin-8cad88ffd54a16db")
    release["cargo_libnix_attr"] = ""
    root = run({}, *(f"{k}={v}" for k, v in release.items()))
    assert 'attribute = "";' in (root / "nix" / "libnix.nix").read_text()
    check_everything(root, shim)
    proc = flake(root, shim, "eval", "--raw", f"path:{root}#packages.x86_64-linux.cargo-libnix.name")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == "itoa-1_0_14-f807d60e93b08a94"  # what the release's cargo-*-bin-* names
