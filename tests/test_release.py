"""`libnix release` and `libnix check` on real git repositories, with cargo (libnix) played by the stand-in
tests/fake_cargo_libnix.py (the real one cannot be built here), and nix itself checking every hash by
fetching the tag's tarball from a file:// URL with the hash we wrote."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from helpers import NIX_ENV, REPO, commit_all, forge_tarball, git, libnix

from scaffold.hashing.nixhash import nix32_decode

FAKE_CARGO = str(REPO / "tests" / "fake_cargo_libnix.py")
EXAMPLE = REPO / "examples" / "hello"


def crate_repo(
    make_repo, name: str = "hello", remote: str | None = "https://github.com/acme/hello.git"
) -> Path:
    repo = make_repo(name)
    shutil.copytree(EXAMPLE, repo, dirs_exist_ok=True)
    (repo / "Cargo.dependencies.nix").write_text("{ pkgs }: with pkgs; { deps = { }; envs = { }; }\n")
    if remote:
        git(repo, "remote", "add", "origin", remote)
    commit_all(repo, "hello 0.1.0")
    git(repo, "tag", "-a", "v0.1.0", "-m", "Release v0.1.0")
    return repo


def state(repo: Path) -> dict[str, object]:
    """What a failed run must leave exactly as it found it."""
    return {
        "files": sorted(p.name for p in repo.iterdir()),
        "tags": git(repo, "tag", "--list"),
        "worktrees": git(repo, "worktree", "list").count("\n"),
        "status": git(repo, "status", "--porcelain"),
    }


def release(repo: Path, *args: str, env: dict[str, str] | None = None):
    return libnix("release", "-C", str(repo), "--cargo", FAKE_CARGO, *args, env=env)


def nix_eval(expr: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["nix-instantiate", "--eval", "--strict", "--expr", expr], capture_output=True, text=True, env=NIX_ENV
    )


def binding(text: str, name: str) -> str:
    m = re.search(rf"\b{name}\s*=\s*(.*?);\n", text, re.S)
    assert m, f"no {name} binding"
    return m.group(1)


def _one_line(proc: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("libnix: error:")]
    assert len(errors) == 1 and needle in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture
def forge_copy(tmp_path: Path):
    """A file:// stand-in for the forge's tag tarball, made as the forge makes it (git archive)."""

    forge = tmp_path / "forge"
    forge.mkdir()

    def make(repo: Path, tag: str = "v0.1.0") -> str:
        path = forge_tarball(repo, tag, forge / f"{repo.name}-{tag}.tar.gz", prefix=f"{repo.name}-{tag}/")
        return f"file://{path}"

    return make


def test_release_pins_sources_that_nix_fetches_with_our_hash(make_repo, forge_copy, nix) -> None:
    repo = crate_repo(make_repo)
    url = forge_copy(repo)
    proc = release(repo, "--tag", "v0.1.0", "--url", url)
    assert proc.returncode == 0, proc.stderr
    export = repo / "libnix-0.1.0+v0.1.0"
    caller = (export / "cargo_build_caller.nix").read_text()
    root = binding(caller, "project_root")
    assert url in root and "../" not in root
    # nix fetches the tag's tarball itself and accepts our hash; the value is a path, as fileset needs
    evaluated = nix_eval(
        f'let r = {root}; in [ (builtins.typeOf r) (builtins.readFile (r + "/Cargo.toml")) ]'
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert '"path"' in evaluated.stdout and 'name = \\"hello\\"' in evaluated.stdout
    # fenix comes through builtins.fetchTarball of the same archive now: no IFD left in the caller; it is
    # a parameter that defaults to that pin, given the consumer's pkgs, as nixpkgs is
    fenix = re.search(
        r"\n  fenix \? (import \(builtins\.fetchTarball \{.*?\}\)) \{ inherit pkgs; \}\n", caller, re.S
    )
    assert fenix and "fetchFromGitHub" not in caller and "fenixSrc" not in caller
    assert "archive/6ed03ef4c8ec36d193c18e06b9ecddde78fb7e42.tar.gz" in fenix.group(1)
    assert "\n  pkgs ? import ((builtins.fetchTarball {" in caller and "nixpkgsSrc" not in caller
    assert (export / "Cargo.dependencies.nix").read_text().startswith("{ pkgs }")
    assert str(repo) not in caller and "/tmp/libnix-worktree" not in caller
    assert git(repo, "worktree", "list").count("\n") == 0

    doc = json.loads((repo / "libnix-0.1.0+v0.1.0.release.json").read_text())
    assert doc["tag"] == "v0.1.0" and doc["commit"] == git(repo, "rev-parse", "v0.1.0^{commit}")
    assert doc["url"] == url and doc["attributes"] == ["hello-0_1_0-bin-a6a06cbe35800f65"]
    assert doc["ifd"] == []  # upstream's eval-time reads of build-script output now happen at build time
    assert "builtins.readFile" not in (export / "derivations" / "default.nix").read_text()

    # the asset: nix fetches it with the hash we printed, and it holds the export
    asset = repo / "libnix-0.1.0+v0.1.0.tar.bz2"
    fetched = nix.fetch_tarball(f"file://{asset}", doc["asset"]["hash"]["nix32"])
    assert fetched.returncode == 0, fetched.stderr
    store = Path(json.loads(fetched.stdout))
    assert (store / "cargo_build_caller.nix").read_text() == caller

    manifest = json.loads((repo / "libnix.json").read_text())
    assert manifest["export"] == "libnix-0.1.0+v0.1.0" and manifest["asset_sha256"].endswith(
        doc["asset"]["hash"]["nix32"]
    )
    assert (
        "From a flake (all systems, their nixpkgs)" in proc.stdout
        and doc["asset"]["hash"]["sri"] in proc.stdout
    )
    snippets = (repo / "libnix-0.1.0+v0.1.0.snippets.md").read_text()
    for block in re.findall(r"```nix\n(.*?)```", snippets, re.S):
        snippet = repo / "snippet.nix"
        snippet.write_text(block)
        assert nix.parse(snippet).returncode == 0, block


def test_asset_is_reproducible(make_repo, forge_copy) -> None:
    repo = crate_repo(make_repo)
    url = forge_copy(repo)
    assert release(repo, "--tag", "v0.1.0", "--url", url).returncode == 0
    first = (repo / "libnix-0.1.0+v0.1.0.tar.bz2").read_bytes()
    time.sleep(1.1)
    proc = release(repo, "--tag", "v0.1.0", "--url", url, "--force")
    assert proc.returncode == 0, proc.stderr
    assert (repo / "libnix-0.1.0+v0.1.0.tar.bz2").read_bytes() == first
    assert not list(repo.glob(".libnix-staging-*"))


def test_release_json_output_only(make_repo, forge_copy) -> None:
    repo = crate_repo(make_repo)
    proc = release(repo, "--tag", "v0.1.0", "--url", forge_copy(repo), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["asset"]["name"] == "libnix-0.1.0+v0.1.0.tar.bz2"


def test_dry_run_writes_nothing(make_repo) -> None:
    repo = crate_repo(make_repo)
    before = state(repo)
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["dry_run"] is True
    assert doc["url"] == "https://github.com/acme/hello/archive/refs/tags/v0.1.0.tar.gz"
    assert doc["hash"]["nix32"] == libnix("hash", "-C", str(repo), "--tag", "v0.1.0").stdout.strip()
    assert state(repo) == before


def test_create_tag_then_release(make_repo, tmp_path: Path) -> None:
    repo = crate_repo(make_repo)
    (repo / "src" / "main.rs").write_text('fn main() { println!("v2"); }\n')
    commit_all(repo, "v0.2")
    url = f"file://{tmp_path}/never-fetched.tar.gz"
    proc = release(repo, "--tag", "v0.2.0", "--create-tag", "--message", "Second", "--url", url)
    assert proc.returncode == 0, proc.stderr
    assert git(repo, "tag", "-l", "--format=%(objecttype) %(contents:subject)", "v0.2.0") == "tag Second"


def workspace(make_repo) -> Path:
    repo = make_repo("ws")
    (repo / "Cargo.toml").write_text(
        '[workspace]\nmembers = ["crates/app-cli"]\n\n[workspace.package]\nversion = "2.0.0"\n'
    )
    member = repo / "crates" / "app-cli"
    (member / "src").mkdir(parents=True)
    (member / "Cargo.toml").write_text('[package]\nname = "app-cli"\nversion.workspace = true\n')
    (member / "src" / "main.rs").write_text("fn main() {}\n")
    commit_all(repo)
    git(repo, "tag", "v2.0.0")
    return repo


def generate(repo: Path, *args: str, env: dict[str, str] | None = None) -> Path:
    """Run the stand-in as a user would, into target/release/nix (for `release --from`)."""
    out = repo / "target" / "release" / "nix"
    subprocess.run(
        [sys.executable, FAKE_CARGO, "build", "--release", "write-nix-buildsystem", "--out-dir", str(out),
         *args],
        cwd=repo, check=True, capture_output=True, env={**os.environ, "CARGO_BACKEND": "nix", **(env or {})},
    )  # fmt: skip
    return out


def test_old_generation_filter_source_of_the_workspace(make_repo, forge_copy) -> None:
    """Before derivations/: default.nix beside the caller, `builtins.filterSource (…) /abs/workspace`."""
    repo = workspace(make_repo)
    url = forge_copy(repo, "v2.0.0")
    proc = release(repo, "--tag", "v2.0.0", "--url", url, env={"FAKE_CARGO_MODE": "old"})
    assert proc.returncode == 0, proc.stderr
    export = repo / "libnix-2.0.0+v2.0.0"
    (crate,) = export.glob("app-cli-*-bin-*.nix")
    src = binding(crate.read_text(), "src")
    assert "filterSource" not in src and str(repo) not in src
    evaluated = nix_eval(f'builtins.readFile ({src} + "/crates/app-cli/src/main.rs")')
    assert evaluated.returncode == 0 and "fn main" in evaluated.stdout, evaluated.stderr
    doc = json.loads((repo / "libnix-2.0.0+v2.0.0.release.json").read_text())
    assert doc["entry"] == "default.nix" and doc["attributes"] == [crate.stem.replace("2.0.0", "2_0_0")]
    # build_parser came through `pkgs.callPackage (pkgs.fetchFromGitHub …) {}`: IFD, now a builtins fetch
    assert not [f for f in doc["ifd"] if "fetchFromGitHub" in f]
    assert "build_parser_sources = builtins.fetchTarball" in (export / "cargo_build_caller.nix").read_text()


def test_old_generation_filter_source_of_a_member(make_repo, forge_copy) -> None:
    repo = workspace(make_repo)
    out = generate(repo, env={"FAKE_CARGO_MODE": "old"})
    (crate,) = out.glob("app-cli-*-bin-*.nix")
    crate.write_text(crate.read_text().replace(f") {repo};", f") {repo}/crates/app-cli;"))
    url = forge_copy(repo, "v2.0.0")
    proc = release(repo, "--tag", "v2.0.0", "--url", url, "--from", str(out))
    assert proc.returncode == 0, proc.stderr
    src = binding(next((repo / "libnix-2.0.0+v2.0.0").glob("app-cli-*-bin-*.nix")).read_text(), "src")
    assert src.endswith('/crates/app-cli"')
    evaluated = nix_eval(f'builtins.readFile ({src} + "/src/main.rs")')
    assert evaluated.returncode == 0 and "fn main" in evaluated.stdout, evaluated.stderr


@pytest.mark.parametrize("form", ["../.", "./.", "../../../.", "abs"])
def test_every_project_root_form_means_the_project_root(make_repo, forge_copy, form: str) -> None:
    repo = crate_repo(make_repo)
    url = forge_copy(repo)
    proc = release(repo, "--tag", "v0.1.0", "--url", url, env={"FAKE_CARGO_ROOT_FORM": form})
    assert proc.returncode == 0, proc.stderr
    root = binding((repo / "libnix-0.1.0+v0.1.0" / "cargo_build_caller.nix").read_text(), "project_root")
    evaluated = nix_eval(f'builtins.readFile ({root} + "/src/main.rs")')
    assert evaluated.returncode == 0 and "fn main" in evaluated.stdout, evaluated.stderr


def test_url_hash_forms_of_the_generator(make_repo, forge_copy, nix) -> None:
    """`write-nix-buildsystem --url U --hash H` pins local crates with `pkgs.fetchurl` and the FILE hash
    (upstream's nix_code.rs); libnix replaces it with the unpacked tarball and its NAR hash."""
    repo = crate_repo(make_repo)
    url = forge_copy(repo)
    flat = subprocess.run(
        ["nix-prefetch-url", url], capture_output=True, text=True, env=NIX_ENV
    ).stdout.strip()
    out = generate(repo, "--url", url, "--hash", flat)
    crate = next(out.glob("derivations/hello-*-bin-*.nix"))
    assert "src = pkgs.fetchurl {" in crate.read_text()
    proc = release(repo, "--tag", "v0.1.0", "--url", url, "--from", str(out))
    assert proc.returncode == 0, proc.stderr
    src = binding(
        next((repo / "libnix-0.1.0+v0.1.0").glob("derivations/hello-*-bin-*.nix")).read_text(), "src"
    )
    assert "fetchurl" not in src and flat not in src
    evaluated = nix_eval(f'builtins.readFile "${{{src}}}/src/main.rs"')
    assert evaluated.returncode == 0 and "fn main" in evaluated.stdout, evaluated.stderr

    nar = libnix("hash", "-C", str(repo), "--tag", "v0.1.0").stdout.strip()
    for digest, ok in ((nar, True), ("1" * 52, False)):
        shutil.rmtree(out)
        for p in repo.glob("libnix-0.1.0+v0.1.0*"):
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        generate(repo, "--url", url, "--hash", digest, env={"FAKE_CARGO_MODE": "tarball"})
        before = state(repo)
        proc = release(repo, "--tag", "v0.1.0", "--url", url, "--from", str(out))
        if ok:
            assert proc.returncode == 0, proc.stderr
        else:
            _one_line(proc, 1, "pinned to sha256:1111")
            assert state(repo) == before


def test_a_fileset_file_missing_from_the_tag_is_refused(make_repo, forge_copy) -> None:
    repo = crate_repo(make_repo)
    out = generate(repo)
    crate = next(out.glob("derivations/hello-*-bin-*.nix"))
    crate.write_text(crate.read_text().replace('"src/main.rs"\n', '"src/main.rs"\n        "src/gone.rs"\n'))
    before = state(repo)
    proc = release(repo, "--tag", "v0.1.0", "--url", forge_copy(repo), "--from", str(out))
    _one_line(proc, 1, "'src/gone.rs' does not exist in the tag's tree")
    assert state(repo) == before


@pytest.mark.parametrize(
    ("mode", "code", "needle"),
    [
        ("fail", 3, "due to 1 previous error"),
        ("nothing", 3, "wrote nothing"),
        ("leak", 1, "/home/alice"),
    ],
)
def test_exporter_failures_leave_nothing_behind(
    make_repo, forge_copy, mode: str, code: int, needle: str
) -> None:
    repo = crate_repo(make_repo)
    url = forge_copy(repo)
    before = state(repo)
    proc = release(repo, "--tag", "v0.1.0", "--url", url, env={"FAKE_CARGO_MODE": mode})
    _one_line(proc, code, needle)
    assert state(repo) == before
    if mode == "fail":
        assert "error[E0425]" in proc.stderr  # the exporter's own lines were streamed


def test_create_tag_is_removed_when_the_export_fails(make_repo, forge_copy) -> None:
    repo = crate_repo(make_repo)
    before = state(repo)
    proc = release(repo, "--tag", "v9", "--create-tag", "--url", "file:///x", env={"FAKE_CARGO_MODE": "fail"})
    _one_line(proc, 3, "write-nix-buildsystem failed")
    assert state(repo) == before


def test_ctrl_c_mid_export_leaves_no_worktree_no_tag_no_export(make_repo, tmp_path: Path) -> None:
    repo = crate_repo(make_repo)
    before = state(repo)
    pidfile = tmp_path / "cargo.pid"
    proc = subprocess.Popen(
        [sys.executable, "-m", "scaffold", "release", "-C", str(repo), "--cargo", FAKE_CARGO, "--tag", "v5",
         "--create-tag", "--url", "file:///x"],
        env={**os.environ, "PYTHONPATH": str(REPO), "FAKE_CARGO_MODE": "sleep",
             "FAKE_CARGO_PIDFILE": str(pidfile)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pidfile.exists(), "the exporter never started"
    assert git(repo, "worktree", "list").count("\n") == 1  # mid-export: the worktree is there
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert state(repo) == before
    assert not list(repo.glob(".libnix-staging-*"))


def test_verify_remote_against_a_local_forge(make_repo, http_dir) -> None:
    base, www = http_dir
    repo = crate_repo(make_repo)
    (www / "good.tar.gz").write_bytes(b"")
    forge_tarball(repo, "v0.1.0", www / "good.tar.gz", prefix="hello-v0.1.0/")
    ok = release(repo, "--tag", "v0.1.0", "--url", f"{base}/good.tar.gz", "--verify-remote", "--dry-run")
    assert ok.returncode == 0, ok.stderr
    assert "remote tarball verified" in ok.stderr
    (repo / "src" / "extra.rs").write_text("// not in the tag\n")
    commit_all(repo)
    git(repo, "tag", "v0.1.1")
    forge_tarball(repo, "v0.1.1", www / "other.tar.gz")
    before = state(repo)
    bad = release(repo, "--tag", "v0.1.0", "--url", f"{base}/other.tar.gz", "--verify-remote")
    _one_line(bad, 1, "export-subst")
    assert state(repo) == before
    down = release(repo, "--tag", "v0.1.0", "--url", "http://127.0.0.1:9/x.tar.gz", "--verify-remote")
    _one_line(down, 3, "cannot reach")


def test_bad_input(make_repo, tmp_path: Path, forge_copy) -> None:
    _one_line(libnix("release", "-C", str(tmp_path), "--tag", "v1"), 1, "not inside a git repository")
    repo = crate_repo(make_repo)
    url = forge_copy(repo)
    _one_line(release(repo, "--tag", "v7", "--url", url), 1, "no tag 'v7'")
    _one_line(release(repo, "--tag", "v0.1.0", "--create-tag", "--url", url), 1, "exists already")
    (repo / "src" / "main.rs").write_text("fn main() { dirty }\n")
    _one_line(release(repo, "--tag", "v0.1.0", "--url", url, "--no-worktree"), 1, "uncommitted changes")
    git(repo, "checkout", "--", ".")
    _one_line(
        release(repo, "--tag", "v0.1.0", "--url", url, "--cargo", str(tmp_path / "nope")), 1, "nix develop"
    )
    _one_line(release(repo, "--tag", "v0.1.0", "--url", url, "--from", str(tmp_path)), 1, "not a generated")
    (repo / "libnix-0.1.0+v0.1.0").mkdir()
    _one_line(release(repo, "--tag", "v0.1.0", "--url", url), 1, "--force")
    (repo / "libnix-0.1.0+v0.1.0").rmdir()

    bare = crate_repo(make_repo, "noremote", remote=None)
    _one_line(release(bare, "--tag", "v0.1.0"), 1, "no `origin` remote")
    odd = crate_repo(make_repo, "odd", remote="https://git.example.org/a/b.git")
    _one_line(release(odd, "--tag", "v0.1.0"), 1, "unknown forge")
    norust = make_repo("norust")
    commit_all(norust)
    git(norust, "tag", "v1")
    _one_line(release(norust, "--tag", "v1", "--url", url), 1, "no Cargo.toml")


def test_rustups_cargo_on_path(make_repo, forge_copy, tmp_path: Path, monkeypatch) -> None:
    """The usual setup: rustup's cargo first on PATH. The real one where this machine has it, else a
    stand-in saying what it says (rustup's cargo 1.95: `error: unexpected argument
    'write-nix-buildsystem' found`, usage, "For more information, try '--help'.")."""
    repo = crate_repo(make_repo)
    monkeypatch.delenv("LIBNIX_CARGO", raising=False)
    real = shutil.which("cargo")
    if real and os.path.basename(os.path.realpath(real)).startswith("rustup"):
        bin_dir = os.path.dirname(real)
    else:
        stand_in = tmp_path / "bin" / "cargo"
        stand_in.parent.mkdir()
        stand_in.write_text(
            "#!/bin/sh\necho \"error: unexpected argument 'write-nix-buildsystem' found\" >&2\n"
            "echo >&2\necho 'Usage: cargo build [OPTIONS]' >&2\necho >&2\n"
            "echo \"For more information, try '--help'.\" >&2\nexit 1\n"
        )
        stand_in.chmod(0o755)
        bin_dir = str(stand_in.parent)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--url", forge_copy(repo), env=env)
    _one_line(proc, 1, "is not cargo (libnix)")
    assert "nix develop" in proc.stderr and "--cargo PATH" in proc.stderr and "LIBNIX_CARGO" in proc.stderr
    assert not (repo / "libnix-0.1.0+v0.1.0").exists()


def test_workspace_members_binaries_and_the_default_package(make_repo, forge_copy) -> None:
    """Members cargo adds through path dependencies, binaries of every member, default-members first:
    init records them, and the release lists the default member's binary first (the flake's default)."""
    ws = make_repo("ws")
    (ws / "Cargo.toml").write_text(
        '[workspace]\nmembers = ["crates/aa-tool", "crates/zz-tool", "crates/lib"]\n'
        'default-members = ["crates/zz-tool"]\nresolver = "2"\n\n[workspace.package]\nversion = "0.3.0"\n\n'
        '[workspace.dependencies]\nglob = { path = "crates/glob" }\nserde = "1"\n'
    )
    crates = {
        "aa-tool": ("main", ""), "zz-tool": ("main", ""), "lib": ("lib", 'helper = { path = "../helper" }\n'),
        "helper": ("main", ""), "glob": ("lib", ""), "outside": ("lib", ""),
    }  # fmt: skip
    for name, (kind, deps) in crates.items():
        src = ws / "crates" / name / "src"
        src.mkdir(parents=True)
        (src.parent / "Cargo.toml").write_text(
            f'[package]\nname = "{name}"\nversion.workspace = true\n\n[dependencies]\n{deps}'
        )
        (src / f"{kind}.rs").write_text("fn main() {}\n" if kind == "main" else "")
    commit_all(ws)
    git(ws, "tag", "v0.3.0")
    proc = libnix("init", str(ws), "--defaults")
    assert proc.returncode == 0, proc.stderr
    answers = yaml.safe_load((ws / ".libnix-answers.yml").read_text())
    assert answers["members"] == [
        "crates/aa-tool",
        "crates/zz-tool",
        "crates/lib",
        "crates/glob",
        "crates/helper",
    ]
    assert answers["binaries"] == ["zz-tool", "aa-tool", "helper"]
    assert answers["version"] == "0.3.0"
    proc = release(ws, "--tag", "v0.3.0", "--url", forge_copy(ws, "v0.3.0"), "--json")
    assert proc.returncode == 0, proc.stderr
    attributes = json.loads(proc.stdout)["attributes"]
    assert attributes[0].startswith("zz-tool-0_3_0-bin-") and attributes[1].startswith("aa-tool-0_3_0-bin-")


def test_the_version_is_the_tags(make_repo, forge_copy) -> None:
    """Read from the tag's Cargo.toml, not the checkout's; a virtual workspace without one (as
    rust-analyzer) takes the tag's; --version says otherwise."""
    ws = make_repo("ws")
    (ws / "Cargo.toml").write_text('[workspace]\nmembers = ["crates/app"]\nresolver = "2"\n')
    (ws / "crates" / "app" / "src").mkdir(parents=True)
    (ws / "crates" / "app" / "Cargo.toml").write_text('[package]\nname = "app"\nversion = "0.0.0"\n')
    (ws / "crates" / "app" / "src" / "main.rs").write_text("fn main() {}\n")
    commit_all(ws)
    git(ws, "tag", "2026-08-17")
    url = forge_copy(ws, "2026-08-17")
    proc = release(ws, "--tag", "2026-08-17", "--url", url, "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["version"] == "2026-08-17"
    proc = release(ws, "--tag", "2026-08-17", "--url", url, "--dry-run", "--json", "--version", "0.9")
    assert json.loads(proc.stdout)["version"] == "0.9"

    repo = crate_repo(make_repo)  # v0.1.0 at version 0.1.0; the branch has moved on to 0.2.0 since
    cargo_toml = repo / "Cargo.toml"
    cargo_toml.write_text(cargo_toml.read_text().replace('version = "0.1.0"', 'version = "0.2.0"'))
    commit_all(repo, "0.2.0")
    proc = release(repo, "--tag", "v0.1.0", "--url", forge_copy(repo))
    assert proc.returncode == 0, proc.stderr
    assert (repo / "libnix-0.1.0+v0.1.0").is_dir() and not (repo / "libnix-0.2.0+v0.1.0").exists()


@pytest.mark.parametrize(
    ("tag", "version"),
    [("v1.2.3", "1.2.3"), ("1.2.3", "1.2.3"), ("2026-08-17", "2026-08-17"), ("cargo-0.88.0", "0.88.0"),
     ("release/v2.0.0-rc.1", "2.0.0-rc.1"), ("nightly", "nightly")],
)  # fmt: skip
def test_version_from_tag(tag: str, version: str) -> None:
    from scaffold.project.manifest import version_from_tag

    assert version_from_tag(tag) == version


def test_check(make_repo, forge_copy, tmp_path: Path) -> None:
    repo = crate_repo(make_repo)
    url = forge_copy(repo)
    assert release(repo, "--tag", "v0.1.0", "--url", url).returncode == 0
    export = repo / "libnix-0.1.0+v0.1.0"
    tarball = url.removeprefix("file://")
    ok = libnix("check", str(export), "--tarball", tarball, "--json")
    assert ok.returncode == 0, ok.stdout
    doc = json.loads(ok.stdout)
    assert doc["ok"] and doc["pins"][0]["verified"] is True and doc["parsed"] == "ok"
    assert libnix("check", str(export), "--strict").returncode == 0  # no IFD left to fail on
    kept = repo / "kept"
    kept_run = release(repo, "--tag", "v0.1.0", "--url", url, "--keep-ifd", "--out-dir", str(kept))
    assert kept_run.returncode == 0
    strict = libnix("check", str(kept), "--strict")
    assert strict.returncode == 1 and "readFile" in strict.stdout  # upstream's IFD, when asked to fail

    other = tmp_path / "other.tar.gz"
    forge_tarball(repo, "HEAD~0", other, prefix="x/")
    (repo / "src" / "main.rs").write_text("fn main() { changed }\n")
    commit_all(repo)
    forge_tarball(repo, "HEAD", other, prefix="x/")
    bad = libnix("check", str(export), "--tarball", str(other))
    assert bad.returncode == 1 and "hashes to" in bad.stdout

    crate = next(export.glob("derivations/hello-*.nix"))
    crate.write_text(crate.read_text().replace('unpackPhase = "";', f'unpackPhase = "cp -r {repo}/src .";'))
    leaked = libnix("check", str(export))
    assert leaked.returncode == 1 and str(repo) in leaked.stdout
    crate.write_text(crate.read_text().replace("with deps;", "with deps; let broken = ; in"))
    broken = libnix("check", str(export))
    assert broken.returncode == 1 and "syntax error" in broken.stdout


def test_copy_failure_and_unpinnable_paths_leave_nothing(make_repo, forge_copy) -> None:
    repo = crate_repo(make_repo)
    url = forge_copy(repo)
    system = repo / "target" / "release" / "nix"
    shutil.copytree(EXAMPLE.parent / "hello-buildsystem", system)
    os.mkfifo(system / "derivations" / "a-fifo")  # copying it fails half-way through the tree
    before = state(repo)
    _one_line(release(repo, "--tag", "v0.1.0", "--url", url, "--from", str(system)), 1, "a-fifo")
    assert state(repo) == before and not list(repo.glob(".libnix-staging-*"))
    (system / "derivations" / "a-fifo").unlink()
    crate = next(system.glob("derivations/hello-*.nix"))
    crate.write_text(crate.read_text().replace('unpackPhase = "";', "unpackPhase = /opt/vendor/hello;"))
    _one_line(release(repo, "--tag", "v0.1.0", "--url", url, "--from", str(system)), 1, "/opt/vendor/hello")
    assert state(repo) == before


def test_push_sends_the_tag_to_origin(make_repo, forge_copy, tmp_path: Path) -> None:
    repo = crate_repo(make_repo)
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo, "remote", "set-url", "--push", "origin", str(bare))
    proc = release(repo, "--tag", "v0.1.0", "--url", forge_copy(repo), "--push")
    assert proc.returncode == 0, proc.stderr
    assert git(bare, "tag", "--list") == "v0.1.0"


@pytest.mark.parametrize("link", ["/root", "../../../etc/passwd", "secret"])
def test_a_symlink_out_of_the_build_system_is_refused(
    make_repo, forge_copy, tmp_path: Path, link: str
) -> None:
    """`home -> /root`, `notes.txt -> /tmp/…/secretfile`: the asset would name the generating machine's
    paths and carry links that dangle everywhere else. One inside the build system stays."""
    repo = crate_repo(make_repo)
    bs = tmp_path / "bs"
    shutil.copytree(REPO / "examples" / "hello-buildsystem", bs)
    (tmp_path / "secret").write_text("not for the asset\n")
    target = str(tmp_path / "secret") if link == "secret" else link
    (bs / "derivations" / "notes.txt").symlink_to(target)
    before = state(repo)
    proc = release(repo, "--tag", "v0.1.0", "--url", forge_copy(repo), "--from", str(bs))
    assert proc.returncode == 1
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("libnix: error:")]
    assert (
        len(errors) == 1
        and f"derivations/notes.txt: a symlink to {target}, outside the build system" in errors[0]
    )
    assert state(repo) == before
    # a link that stays inside travels with the export
    (bs / "derivations" / "notes.txt").unlink()
    (bs / "derivations" / "notes.txt").symlink_to("default.nix")
    proc = release(repo, "--tag", "v0.1.0", "--url", forge_copy(repo), "--from", str(bs))
    assert proc.returncode == 0, proc.stderr
    assert os.readlink(repo / "libnix-0.1.0+v0.1.0" / "derivations" / "notes.txt") == "default.nix"


def test_a_file_export_ignore_leaves_out_of_the_tarball_is_refused(make_repo, tmp_path: Path) -> None:
    """`.gitattributes` says `src/main.rs export-ignore`: the forge's tarball (git archive) has no
    src/main.rs, so a build system that pins it cannot build; the release says so and why."""
    repo = crate_repo(make_repo)
    (repo / ".gitattributes").write_text("src/main.rs export-ignore\n")
    commit_all(repo, "attributes")
    git(repo, "tag", "-f", "-a", "v0.1.0", "-m", "again")
    tarball = forge_tarball(repo, "v0.1.0", tmp_path / "hello.tar.gz", prefix="hello-v0.1.0/")
    listed = subprocess.run(["tar", "tzf", str(tarball)], capture_output=True, text=True, check=True).stdout
    assert "hello-v0.1.0/src/main.rs" not in listed  # what the forge serves, as git archive makes it
    before = state(repo)
    proc = release(repo, "--tag", "v0.1.0", "--url", f"file://{tarball}")
    assert proc.returncode == 1
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("libnix: error:")]
    assert len(errors) == 1, proc.stderr
    assert "fileset entry 'src/main.rs' is in the tag's tree but not in its tarball" in errors[0]
    assert "export-ignore" in errors[0]
    assert state(repo) == before


def test_the_export_pins_the_nixpkgs_of_the_projects_flake_lock(make_repo, tmp_path: Path, nix) -> None:
    """What the project's CI builds with (its flake.lock) is what consumers without a nixpkgs of their
    own get: the caller's default pkgs and the asset flake's lock; the summary says whose pin it is."""
    repo = make_repo("hello")
    shutil.copytree(REPO / "examples" / "hello", repo, dirs_exist_ok=True)
    nixpkgs = tmp_path / "nixpkgs"
    (nixpkgs / "pkgs" / "top-level").mkdir(parents=True)
    (nixpkgs / "pkgs" / "top-level" / "default.nix").write_text("{ ... }: { }\n")
    nar = nix.hash_dir(nixpkgs)
    sri = "sha256-" + base64.b64encode(nix32_decode(nar)).decode()
    rev = "4e1c3a51ba1b1de5b20a5d1f3d7c3a0c2b9e8f71"
    lock = {
        "nodes": {
            "nixpkgs": {
                "locked": {"lastModified": 1780000000, "narHash": sri, "owner": "NixOS", "repo": "nixpkgs",
                           "rev": rev, "type": "github"},
                "original": {"owner": "NixOS", "ref": "nixos-26.05", "repo": "nixpkgs", "type": "github"},
            },
            "root": {"inputs": {"nixpkgs": "nixpkgs"}},
        },
        "root": "root",
        "version": 7,
    }  # fmt: skip
    (repo / "flake.lock").write_text(json.dumps(lock, indent=2) + "\n")
    commit_all(repo)
    git(repo, "tag", "v0.1.0")
    tarball = forge_tarball(repo, "v0.1.0", tmp_path / "hello.tar.gz", prefix="hello-v0.1.0/")
    proc = release(repo, "--tag", "v0.1.0", "--url", f"file://{tarball}")
    assert proc.returncode == 0, proc.stderr
    url = f"https://github.com/NixOS/nixpkgs/archive/{rev}.tar.gz"
    assert f"  nixpkgs  {url} (from the project's flake.lock, nixos-26.05 at {rev[:12]})" in proc.stdout
    export = repo / "libnix-0.1.0+v0.1.0"
    caller = (export / "cargo_build_caller.nix").read_text()
    assert url in caller and "25.11.tar.gz" not in caller
    locked = json.loads((export / "flake.lock").read_text())["nodes"]["nixpkgs"]["locked"]
    assert locked == {"narHash": sri, "type": "tarball", "url": url}
    assert libnix("check", str(export)).returncode == 0
    # nix fetches the caller's default nixpkgs, as written, to the tree flake.lock's narHash names
    packed = tmp_path / "n.tar.gz"
    subprocess.run(["tar", "czf", str(packed), "-C", str(tmp_path), "nixpkgs"], check=True)
    subprocess.run(["nix-prefetch-url", "--unpack", "--name", "source", f"file://{packed}"],
                   capture_output=True, env=NIX_ENV, check=True)  # fmt: skip
    fetch = re.search(r"builtins\.fetchTarball \{[^}]*" + re.escape(url) + r"[^}]*\}", caller)
    assert fetch is not None
    proc = nix_eval(f'builtins.pathExists ("${{{fetch.group(0)}}}/pkgs/top-level/default.nix")')
    assert proc.returncode == 0 and proc.stdout.strip() == "true", proc.stderr
    doc = json.loads((repo / "libnix-0.1.0+v0.1.0.release.json").read_text())
    assert doc["nixpkgs"] == {"url": url, "from": f"the project's flake.lock, nixos-26.05 at {rev[:12]}"}

    # without a flake.lock: the caller's own pin, said so
    other = make_repo("plain")
    shutil.copytree(REPO / "examples" / "hello", other, dirs_exist_ok=True)
    commit_all(other)
    git(other, "tag", "v0.1.0")
    proc = release(other, "--tag", "v0.1.0", "--url", f"file://{tarball}")
    assert (
        "  nixpkgs  https://github.com/NixOS/nixpkgs/archive/25.11.tar.gz (from cargo (libnix)'s caller)"
        in proc.stdout
    )
    assert "commit the project's flake.lock (`nix flake lock`)" in proc.stderr
