"""`libnix init` and `libnix update` on real directories and git repositories, with real copier, the real
nix parser and evaluator, real actionlint and check-jsonschema.

nixpkgs and fenix cannot be fetched here: the flake is evaluated with `--override-input` against the
stand-ins in tests/stubs/ (real flakes, whose packages are real derivations that are never built). The
cargo (libnix) release the flake fetches is one made by `libnix release` itself from the example crate
(with the cargo (libnix) stand-in), served from a file:// URL, so nix checks its hash too.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import NIX_ENV, REPO, actionlint, commit_all, flake, git, libnix

STUBS = REPO / "tests" / "stubs"
SYSTEMS = ["aarch64-darwin", "aarch64-linux", "x86_64-darwin", "x86_64-linux"]
NIX_FLAKES = ["--extra-experimental-features", "nix-command flakes"]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIBNIX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LIBNIX_TEMPLATE", raising=False)


def init(directory: Path, *args: str, release: dict[str, str] | None = None):
    data = [f"--data={k}={v}" for k, v in (release or {}).items()]
    return libnix(
        "init",
        str(directory),
        "--defaults",
        *data,
        *args,
        env={"LIBNIX_CACHE_DIR": os.environ["LIBNIX_CACHE_DIR"]},
    )


def nix_flake(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["nix", *NIX_FLAKES, *args, f"path:{directory}",
         "--override-input", "nixpkgs", f"path:{STUBS / 'nixpkgs'}",
         "--override-input", "fenix", f"path:{STUBS / 'fenix'}", "--no-write-lock-file"],
        capture_output=True, text=True, env=NIX_ENV,
    )  # fmt: skip


def nix_eval(directory: Path, attr: str, apply: str | None = None) -> object:
    args = ["eval", "--json"] + (["--apply", apply] if apply else [])
    proc = subprocess.run(
        ["nix", *NIX_FLAKES, *args, f"path:{directory}#{attr}",
         "--override-input", "nixpkgs", f"path:{STUBS / 'nixpkgs'}",
         "--override-input", "fenix", f"path:{STUBS / 'fenix'}", "--no-write-lock-file"],
        capture_output=True, text=True, env=NIX_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def assert_generated_files_are_valid(root: Path, nix) -> None:
    for path in root.rglob("*.nix"):
        if ".git" not in path.parts:
            assert nix.parse(path).returncode == 0, path
    workflows = sorted((root / ".github" / "workflows").glob("*.yml"))
    if workflows:
        lint = actionlint(*workflows)
        assert lint.returncode == 0, lint.stdout + lint.stderr
        schema = subprocess.run(
            [str(Path(os.sys.executable).parent / "check-jsonschema"), "--builtin-schema",
             "vendor.github-workflows", *map(str, workflows)],
            capture_output=True, text=True,
        )  # fmt: skip
        assert schema.returncode == 0, schema.stdout


def test_empty_directory_becomes_a_flake_project(tmp_path: Path, nix, cargo_libnix_release) -> None:
    root = tmp_path / "my-tool"
    proc = init(root, release=cargo_libnix_release)
    assert proc.returncode == 0, proc.stderr
    expected = ["Cargo.toml", "src/main.rs", "flake.nix", "nix/libnix.nix", "Cargo.dependencies.nix",
                ".gitignore", ".libnix-answers.yml", ".github/workflows/libnix-ci.yml",
                ".github/workflows/libnix-release.yml"]  # fmt: skip
    for rel in expected:
        assert (root / rel).is_file(), rel
    assert 'name = "my-tool"' in (root / "Cargo.toml").read_text()
    assert (root / ".git").is_dir()
    assert (root / "flake.nix").stat().st_mode & 0o777 == 0o644
    assert_generated_files_are_valid(root, nix)

    # every system has the dev shell, packages (cargo (libnix) until the first release), checks, formatter
    shells = nix_eval(root, "devShells", "builtins.mapAttrs (s: v: builtins.attrNames v)")
    assert shells == {s: ["default"] for s in SYSTEMS}
    for output in ("packages", "checks", "formatter"):
        assert sorted(nix_eval(root, output, "builtins.attrNames")) == SYSTEMS  # type: ignore[arg-type]
    assert nix_eval(root, "packages.x86_64-linux", "builtins.attrNames") == ["cargo-libnix", "default"]
    # before the first release `nix build` says how to get the project's package, it builds no cargo
    assert nix_eval(root, "packages.x86_64-linux.default.name") == "my-tool-no-export-yet"
    # forcing cargo (libnix) fetches the release with its hash and reads its pinned project_root
    name = nix_eval(root, "packages.aarch64-darwin.cargo-libnix.name")
    assert name == cargo_libnix_release["cargo_libnix_attr"]
    shell = nix_eval(root, "devShells.x86_64-linux.default.passthru")
    assert shell["CARGO_BACKEND"] == "nix"  # type: ignore[index]
    check = nix_flake(root, "flake", "check", "--no-build")
    assert check.returncode == 0, check.stderr


def test_after_a_release_the_flake_builds_the_exported_crates(tmp_path: Path, cargo_libnix_release) -> None:
    root = tmp_path / "hello"
    shutil.copytree(REPO / "examples" / "hello", root)
    git(root, "init", "-q", "-b", "main")
    assert init(root, release=cargo_libnix_release).returncode == 0
    commit_all(root)
    git(root, "tag", "v0.1.0")
    shutil.copytree(REPO / "examples" / "hello-buildsystem", root / "target" / "release" / "nix")
    (root / "target" / "release" / "nix" / "README.md").unlink()
    proc = libnix("release", "-C", str(root), "--tag", "v0.1.0", "--from", "target/release/nix", "--url",
                  "https://example.invalid/hello.tar.gz")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    packages = nix_eval(root, "packages.x86_64-linux", "p: builtins.mapAttrs (n: v: v.name) p")
    assert packages["hello-0_1_0-bin-a6a06cbe35800f65"] == "hello-0_1_0-bin-a6a06cbe35800f65"  # type: ignore[index]
    assert packages["default"] == "hello-0_1_0-bin-a6a06cbe35800f65"  # type: ignore[index]
    checks = nix_eval(root, "checks.aarch64-linux", "builtins.attrNames")
    assert "hello-0_1_0-bin-a6a06cbe35800f65" in checks  # type: ignore[operator]


@pytest.mark.parametrize(
    ("remote", "forge", "owner", "ci"),
    [
        (None, "none", "", True),
        ("https://github.com/acme/tool.git", "github", "acme", True),
        ("git@github.com:acme/tool.git", "github", "acme", True),
        ("https://gitlab.com/group/sub/tool", "gitlab", "group/sub", False),
        ("git@gitlab.com:group/tool.git", "gitlab", "group", False),
        ("https://codeberg.org/acme/tool.git", "gitea", "acme", False),
        ("ssh://git@codeberg.org/acme/tool.git", "gitea", "acme", False),
    ],
)
def test_existing_binary_crate_and_remotes(make_repo, nix, remote, forge, owner, ci) -> None:
    repo = make_repo("tool")
    (repo / "Cargo.toml").write_text(
        '[package]\nname = "tool"\nversion = "1.2.3"\nedition = "2024"\nrust-version = "1.85"\n\n'
        '[[bin]]\nname = "tool-cli"\npath = "src/main.rs"\n'
    )
    (repo / "src").mkdir()
    (repo / "src" / "main.rs").write_text("fn main() {}\n")
    (repo / ".gitignore").write_text("/secrets\ntarget\n")
    if remote:
        git(repo, "remote", "add", "origin", remote)
    before = (repo / "src" / "main.rs").read_bytes(), (repo / "Cargo.toml").read_bytes()
    proc = init(repo)
    assert proc.returncode == 0, proc.stderr
    answers = (repo / ".libnix-answers.yml").read_text()
    assert f"forge: {forge}" in answers and "version: 1.2.3" in answers and "edition: '2024'" in answers
    assert "- tool-cli" in answers
    if owner:
        assert f"repo_owner: {owner}" in answers
    assert (repo / ".github" / "workflows" / "libnix-ci.yml").exists() == ci
    assert ((repo / "src" / "main.rs").read_bytes(), (repo / "Cargo.toml").read_bytes()) == before
    gitignore = (repo / ".gitignore").read_text().splitlines()
    assert gitignore[:2] == ["/secrets", "target"] and "result" in gitignore and "result-*" in gitignore
    assert gitignore.count("/target") == 0  # `target` already covers it
    assert_generated_files_are_valid(repo, nix)


def test_equivalent_ignore_patterns_count_as_present(make_repo) -> None:
    """git itself says what the project ignores already: `target/` covers /target, `result*` both."""
    equivalent = make_repo("equivalent")
    (equivalent / "Cargo.toml").write_text('[package]\nname = "eq"\nversion = "0.1.0"\n')
    (equivalent / ".gitignore").write_text("target/\nresult*\n")
    assert init(equivalent).returncode == 0
    assert (equivalent / ".gitignore").read_text() == "target/\nresult*\n"


def test_the_projects_own_workflows_branch_and_tags(make_repo, nix) -> None:
    """A project with CI and a release pipeline of its own (both spellings), `master` as origin's
    default branch and tags without `v`: init succeeds with --defaults and touches none of its files."""
    repo = make_repo("tool")
    shutil.copytree(REPO / "examples" / "hello", repo, dirs_exist_ok=True)
    workflows = repo / ".github" / "workflows"
    workflows.mkdir(parents=True)
    job = "jobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo mine\n"
    (workflows / "ci.yml").write_text(f"name: CI\non: [push]\n{job}")
    (workflows / "ci.yaml").write_text(f"name: Lint\non: pull_request\n{job}")
    (workflows / "release.yaml").write_text(f"name: Release\non:\n  push:\n    tags: ['*']\n{job}")
    git(repo, "checkout", "-q", "-b", "master")
    commit_all(repo, "mine")
    for tag in ("1.0.0", "1.1.0", "1.2.0"):
        git(repo, "tag", tag)
    git(repo, "remote", "add", "origin", "https://github.com/acme/tool.git")
    git(repo, "update-ref", "refs/remotes/origin/master", "HEAD")
    git(repo, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/master")
    git(repo, "checkout", "-q", "-b", "feature")  # not the branch CI should run on
    before = {p: p.read_bytes() for p in workflows.iterdir()}
    proc = init(repo)
    assert proc.returncode == 0, proc.stderr
    assert {p: p.read_bytes() for p in workflows.iterdir() if p in before} == before
    assert sorted(p.name for p in workflows.iterdir()) == [
        "ci.yaml",
        "ci.yml",
        "libnix-ci.yml",
        "release.yaml",
    ]
    assert "branches: [master]" in (workflows / "libnix-ci.yml").read_text()
    # its release pipeline stays the only one; the note says how to publish the build system from it
    assert ".github/workflows/release.yaml releases on tags" in proc.stderr and "publish" in proc.stderr
    assert_generated_files_are_valid(repo, nix)

    other = make_repo("other")
    shutil.copytree(REPO / "examples" / "hello", other, dirs_exist_ok=True)
    git(other, "checkout", "-q", "-b", "trunk")
    commit_all(other)
    for tag in ("2026-08-17", "2026-09-01", "v0.1.0"):
        git(other, "tag", tag)
    assert init(other).returncode == 0
    release = (other / ".github" / "workflows" / "libnix-release.yml").read_text()
    assert '- "[0-9]*"' in release and '- "v*"' in release
    assert "branches: [trunk]" in (other / ".github" / "workflows" / "libnix-ci.yml").read_text()
    assert_generated_files_are_valid(other, nix)


def test_library_crate_and_workspace_with_globs(make_repo, nix) -> None:
    lib = make_repo("lib")
    (lib / "Cargo.toml").write_text('[package]\nname = "mylib"\nversion = "0.3.0"\n')
    (lib / "src").mkdir()
    (lib / "src" / "lib.rs").write_text("pub fn f() {}\n")
    assert init(lib).returncode == 0
    assert "binaries: []" in (lib / ".libnix-answers.yml").read_text()

    ws = make_repo("ws")
    (ws / "Cargo.toml").write_text(
        '[workspace]\nmembers = ["crates/*", "tools/gen"]\ndefault-members = ["crates/app"]\n\n'
        '[workspace.package]\nversion = "2.0.0"\nedition = "2021"\n'
    )
    for member in ("crates/app", "crates/core", "tools/gen"):
        (ws / member / "src").mkdir(parents=True)
        (ws / member / "Cargo.toml").write_text(
            f'[package]\nname = "{member.split("/")[-1]}"\nversion.workspace = true\n'
        )
    (ws / "crates" / "not-a-crate").mkdir()
    assert init(ws).returncode == 0
    answers = (ws / ".libnix-answers.yml").read_text()
    assert "is_workspace: true" in answers and "version: 2.0.0" in answers
    assert "- crates/app\n- crates/core\n- tools/gen" in answers and "not-a-crate" not in answers
    assert_generated_files_are_valid(ws, nix)


def test_rust_toolchain_files(make_repo, nix, http_dir, monkeypatch: pytest.MonkeyPatch) -> None:
    base, www = http_dir
    (www / "channel-rust-1.87.0.toml").write_text('manifest-version = "2"\n')
    monkeypatch.setenv("LIBNIX_RUST_DIST", base)
    repo = make_repo("pinned")
    (repo / "Cargo.toml").write_text('[package]\nname = "pinned"\nversion = "0.1.0"\n')
    (repo / "rust-toolchain.toml").write_text(
        '[toolchain]\nchannel = "1.87.0"\ncomponents = ["rustfmt", "llvm-tools"]\n'
        'targets = ["x86_64-unknown-linux-musl", "wasm32-unknown-unknown"]\nprofile = "minimal"\n'
    )
    proc = libnix("init", str(repo), "--defaults", env={"LIBNIX_RUST_DIST": base})
    assert proc.returncode == 0, proc.stderr
    flake = (repo / "nix" / "libnix.nix").read_text()
    import base64
    import hashlib

    sri = "sha256-" + base64.b64encode(hashlib.sha256(b'manifest-version = "2"\n').digest()).decode()
    assert f'sha256 = "{sri}";' in flake and "/dist/channel-rust-1.87.0.toml" in flake
    assert (
        '"llvm-tools"' in flake
        and '"x86_64-unknown-linux-musl"' in flake
        and '"wasm32-unknown-unknown"' in flake
    )
    assert_generated_files_are_valid(repo, nix)
    components = nix_eval(repo, "devShells.x86_64-linux", "builtins.attrNames")
    assert components == ["default"]

    legacy = make_repo("legacy")
    (legacy / "Cargo.toml").write_text('[package]\nname = "legacy"\nversion = "0.1.0"\n')
    (legacy / "rust-toolchain").write_text("nightly-2025-01-01\n")
    (www / "2025-01-01").mkdir()
    (www / "2025-01-01" / "channel-rust-nightly.toml").write_text('date = "2025-01-01"\n')
    assert init(legacy).returncode == 0  # that nightly, pinned: not today's
    assert "/dist/2025-01-01/channel-rust-nightly.toml" in (legacy / "nix" / "libnix.nix").read_text()

    offline = make_repo("offline")
    (offline / "Cargo.toml").write_text('[package]\nname = "offline"\nversion = "0.1.0"\n')
    (offline / "rust-toolchain").write_text("1.80\n")
    proc = init(offline, "--offline")
    assert proc.returncode == 0 and "fake hash" in proc.stderr
    # how to fill it in later: the command that fetches it (1.80: rustup's latest 1.80.x)
    fill = "libnix update --data toolchain_sha256=$(nix-prefetch-url https://static.rust-lang.org/dist/"
    assert fill + "channel-rust-1.80.toml)" in proc.stderr
    assert (
        'sha256 = "0000000000000000000000000000000000000000000000000000";'
        in (offline / "nix" / "libnix.nix").read_text()
    )


def test_rerun_pretend_and_foreign_files(make_repo, tmp_path: Path) -> None:
    empty = tmp_path / "new"
    proc = libnix("init", str(empty), "--defaults", "--pretend")
    assert proc.returncode == 0 and "would write flake.nix" in proc.stdout
    assert not empty.exists()

    repo = make_repo("mine")
    (repo / "Cargo.toml").write_text('[package]\nname = "mine"\nversion = "0.1.0"\n')
    (repo / "flake.nix").write_text("{ outputs = _: { }; }\n")
    (repo / "Cargo.dependencies.nix").write_text("{ pkgs }: { deps = { my = 1; }; envs = { }; }\n")
    proc = init(repo, "--force")
    assert proc.returncode == 0, proc.stderr
    assert "import ./nix/libnix.nix inputs" in (repo / "flake.nix").read_text()
    assert "cargoLibnix" in (repo / "nix" / "libnix.nix").read_text()
    assert "my = 1" in (repo / "Cargo.dependencies.nix").read_text()  # never the user's, even with --force
    again = init(repo)
    assert again.returncode == 0 and "already set up" in again.stdout


def test_an_existing_flake_stays_and_imports_libnix(make_repo, cargo_libnix_release, nix, shim) -> None:
    """The project's flake.nix (and its lock) stay as they are; libnix's outputs arrive in nix/libnix.nix
    and the one change to make is printed. Made, that flake has its own outputs and libnix's."""
    repo = make_repo("mine")
    (repo / "Cargo.toml").write_text('[package]\nname = "mine"\nversion = "0.1.0"\n')
    (repo / "src").mkdir()
    (repo / "src" / "main.rs").write_text("fn main() {}\n")
    own = '{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";\n'
    own += "  outputs = { nixpkgs, ... }: { };\n}\n"
    (repo / "flake.nix").write_text(own)
    (repo / "flake.lock").write_text('{ "nodes": { }, "root": "root", "version": 7 }\n')
    proc = init(repo, release=cargo_libnix_release)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "flake.nix").read_text() == own and "nodes" in (repo / "flake.lock").read_text()
    assert "flake.nix is the project's own" in proc.stderr and "recursiveUpdate" in proc.stderr
    assert (repo / "nix" / "libnix.nix").is_file() and "flake_file: false" in (
        repo / ".libnix-answers.yml"
    ).read_text()
    assert_generated_files_are_valid(repo, nix)
    # the user makes the printed change; evaluated against the real nixpkgs lib and fenix
    (repo / "flake.lock").unlink()
    (repo / "flake.nix").write_text(
        '{\n  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";\n'
        '  inputs.fenix = { url = "github:nix-community/fenix"; inputs.nixpkgs.follows = "nixpkgs"; };\n'
        "  outputs = inputs@{ nixpkgs, ... }:\n"
        "    nixpkgs.lib.recursiveUpdate (import ./nix/libnix.nix inputs) {\n"
        "      packages.x86_64-linux.mine-docs = nixpkgs.legacyPackages.x86_64-linux.jq;\n    };\n}\n"
    )
    proc = flake(repo, shim, "eval", "--json", f"path:{repo}#packages.x86_64-linux", "--apply",
                 "p: builtins.mapAttrs (n: d: d.name) p")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout) == {
        "cargo-libnix": cargo_libnix_release["cargo_libnix_attr"], "default": "mine-no-export-yet",
        "mine-docs": "jq-1.8.1",
    }  # fmt: skip
    check = flake(repo, shim, "flake", "check", "--no-build", f"path:{repo}")
    assert check.returncode == 0, check.stderr[-3000:]


def _one_line(proc: subprocess.CompletedProcess[str], needle: str) -> None:
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert needle in proc.stderr, proc.stderr


def test_bad_input(make_repo, tmp_path: Path) -> None:
    repo = make_repo("bad")
    (repo / "Cargo.toml").write_text('[package]\nname = "bad"\nversion = \n')
    _one_line(init(repo), "line 3")
    (repo / "Cargo.toml").write_text('[package]\nname = "bad"\nversion = "0.1.0"\n')
    (repo / "rust-toolchain.toml").write_text("[toolchain\n")
    _one_line(init(repo), "rust-toolchain.toml: malformed TOML")
    (repo / "rust-toolchain.toml").write_text('[toolchain]\nchannel = "purple"\n')
    _one_line(init(repo), "unknown toolchain channel 'purple'")
    (repo / "rust-toolchain.toml").unlink()
    _one_line(init(repo, "--data", "colour=blue"), "unknown question")
    _one_line(init(repo, "--data", "toolchain_channel=purple"), "not one of")
    _one_line(init(repo, "--data", "targets=[x86_64-unknown-linux-musl, potato-os]"), "unknown target triple")
    _one_line(libnix("init", "/proc/libnix-cannot-be-here", "--defaults"), "cannot write")
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "notes.txt").write_text("hi")
    _one_line(init(stray), "no Cargo.toml")
    assert sorted(p.name for p in repo.iterdir()) == [".git", "Cargo.toml"]
    _one_line(libnix("update", str(repo)), "libnix init")


def _template_copy(dest: Path) -> Path:
    dest.mkdir()
    shutil.copy(REPO / "copier.yml", dest)
    shutil.copytree(REPO / "copier-template", dest / "copier-template")
    return dest


def test_update_merges_a_new_template_with_the_users_edits(tmp_path: Path, make_repo, monkeypatch) -> None:
    tpl = _template_copy(tmp_path / "template")
    monkeypatch.setenv("LIBNIX_TEMPLATE", str(tpl))
    repo = make_repo("proj")
    (repo / "Cargo.toml").write_text('[package]\nname = "proj"\nversion = "0.1.0"\n')
    env = {"LIBNIX_TEMPLATE": str(tpl), "LIBNIX_CACHE_DIR": os.environ["LIBNIX_CACHE_DIR"]}
    assert libnix("init", str(repo), "--defaults", env=env).returncode == 0
    commit_all(repo, "init")
    module = repo / "nix" / "libnix.nix"
    module.write_text(module.read_text().replace("let\n", "let\n  # the user's own note\n", 1))
    commit_all(repo, "my edit")

    # version 2 of the template: a new line in nix/libnix.nix
    src = tpl / "copier-template" / "nix" / "libnix.nix.jinja"
    line = "forAllSystems = nixpkgs.lib.genAttrs systems;"
    src.write_text(src.read_text().replace(line, line + " # template v2"))
    proc = libnix("update", str(repo), env=env)
    assert proc.returncode == 0, proc.stderr
    text = module.read_text()
    assert "# the user's own note" in text and "# template v2" in text and "<<<<<<<" not in text
    commit_all(repo, "update")
    flake = repo / "flake.nix"
    src = tpl / "copier-template" / "{% if flake_file %}flake.nix{% endif %}.jinja"

    # version 3 changes the line the user changed too: a conflict, reported, marked inline
    flake.write_text(flake.read_text().replace('"github:nix-community/fenix"', '"github:me/fenix"'))
    commit_all(repo, "my fenix")
    src.write_text(
        src.read_text().replace(
            'url = "github:nix-community/fenix";', 'url = "github:nix-community/fenix/main";'
        )
    )
    proc = libnix("update", str(repo), env=env)
    assert proc.returncode == 1 and "flake.nix" in proc.stderr
    assert "<<<<<<< before updating" in flake.read_text()

    # update refuses a dirty tree
    _one_line(libnix("update", str(repo), env=env), "uncommitted changes")


def test_update_follows_rust_toolchain_toml(tmp_path: Path, make_repo, http_dir, monkeypatch) -> None:
    """rust-toolchain.toml stays the source of truth: an edit after init reaches flake.nix on update."""
    base, www = http_dir
    (www / "channel-rust-1.87.0.toml").write_text('manifest-version = "2"\n')
    tpl = _template_copy(tmp_path / "template")
    env = {"LIBNIX_TEMPLATE": str(tpl), "LIBNIX_CACHE_DIR": os.environ["LIBNIX_CACHE_DIR"],
           "LIBNIX_RUST_DIST": base}  # fmt: skip
    repo = make_repo("proj")
    (repo / "Cargo.toml").write_text('[package]\nname = "proj"\nversion = "0.1.0"\n')
    toolchain = repo / "rust-toolchain.toml"
    toolchain.write_text('[toolchain]\nchannel = "stable"\n')
    assert libnix("init", str(repo), "--defaults", env=env).returncode == 0
    assert "fenixPkgs.stable" in (repo / "nix" / "libnix.nix").read_text()
    commit_all(repo, "init")

    toolchain.write_text('[toolchain]\nchannel = "1.87.0"\ntargets = ["wasm32-unknown-unknown"]\n')
    commit_all(repo, "pin rust")
    proc = libnix("update", str(repo), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "answer toolchain_version = 1.87.0 (from rust-toolchain.toml)" in proc.stdout
    flake = (repo / "nix" / "libnix.nix").read_text()
    assert "/dist/channel-rust-1.87.0.toml" in flake and '"wasm32-unknown-unknown"' in flake
    digest = hashlib.sha256(b'manifest-version = "2"\n').digest()
    assert f'sha256 = "sha256-{base64.b64encode(digest).decode()}";' in flake
    assert "toolchain_version: 1.87.0" in (repo / ".libnix-answers.yml").read_text()
    commit_all(repo, "update")

    # offline, a new pin gets the placeholder and the command that fills it in
    toolchain.write_text('[toolchain]\nchannel = "1.88.0"\n')
    commit_all(repo, "newer rust")
    proc = libnix("update", str(repo), "--offline", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "nix-prefetch-url https://static.rust-lang.org/dist/channel-rust-1.88.0.toml" in proc.stderr
    flake = (repo / "nix" / "libnix.nix").read_text()
    assert (
        "/dist/channel-rust-1.88.0.toml" in flake
        and "0000000000000000000000000000000000000000000000000000" in flake
    )
    assert "wasm32" not in flake  # the targets left the file, so they left the flake


def test_update_on_another_machine(tmp_path: Path, make_repo, monkeypatch) -> None:
    """The answers file is committed: a second maintainer (another HOME, an empty cache) updates cleanly."""
    monkeypatch.delenv("LIBNIX_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    first, second = tmp_path / "alice", tmp_path / "bob"
    first.mkdir()
    second.mkdir()
    repo = make_repo("proj")
    (repo / "Cargo.toml").write_text('[package]\nname = "proj"\nversion = "0.1.0"\n')
    assert libnix("init", str(repo), "--defaults", env={"HOME": str(first)}).returncode == 0
    answers = (repo / ".libnix-answers.yml").read_text()
    assert "_src_path: ~/.cache/libnix/template" in answers and str(first) not in answers
    commit_all(repo, "init")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    proc = libnix("update", str(clone), "--defaults", env={"HOME": str(second)})
    assert proc.returncode == 0, proc.stderr
    assert "already up to date" in proc.stdout
    assert (clone / ".libnix-answers.yml").read_text() == answers

    # a template recorded as a path of another machine: a one-line error, not a traceback
    (clone / ".libnix-answers.yml").write_text(answers.replace("~/.cache/libnix/template", "/nowhere/tpl"))
    commit_all(clone, "moved")
    proc = libnix("update", str(clone), env={"HOME": str(second)})
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "--template PATH" in proc.stderr


def test_plain_copier_update_from_a_git_checkout(tmp_path: Path, make_repo) -> None:
    tpl = _template_copy(tmp_path / "libnix-checkout")
    git(tpl, "init", "-q", "-b", "main")
    commit_all(tpl, "template v1")
    git(tpl, "tag", "v1.0.0")
    repo = make_repo("proj")
    (repo / "Cargo.toml").write_text('[package]\nname = "proj"\nversion = "0.1.0"\n')
    proc = init(repo, "--template", str(tpl), "--vcs-ref", "v1.0.0")
    assert proc.returncode == 0, proc.stderr
    assert f"_src_path: {tpl}" in (repo / ".libnix-answers.yml").read_text()
    commit_all(repo, "init")
    src = tpl / "copier-template" / "{% if flake_file %}flake.nix{% endif %}.jinja"
    src.write_text(src.read_text().replace("  outputs =", "  # from v2\n  outputs =", 1))
    commit_all(tpl, "template v2")
    git(tpl, "tag", "v2.0.0")
    copier = Path(os.sys.executable).parent / "copier"
    proc = subprocess.run(
        [str(copier), "update", "--defaults", "--answers-file", ".libnix-answers.yml", "--vcs-ref", "v2.0.0"],
        cwd=repo, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "# from v2" in (repo / "flake.nix").read_text()
    assert "_commit: v2.0.0" in (repo / ".libnix-answers.yml").read_text()


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def on_a_terminal(
    argv: list[str], cwd: Path, keys: list[tuple[str, bytes]], env: dict[str, str] | None = None
) -> tuple[int, str]:
    """Run libnix on a real pseudo-terminal as a person would: when the screen shows a needle of `keys`
    (in order), type its keys; any other question gets Enter (its default). Returns (exit code, screen)."""
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # the child: libnix as a user runs it in a terminal
        os.chdir(cwd)
        os.environ.update(TERM="xterm", PYTHONPATH=str(REPO), **(env or {}))
        os.execv(os.sys.executable, [os.sys.executable, "-m", "scaffold", *argv])
    screen, step, seen, quiet_since = b"", 0, -1, time.monotonic()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            screen, quiet_since = screen + chunk, time.monotonic()
            continue
        if time.monotonic() - quiet_since < 0.4:
            continue  # let the prompt finish drawing
        text = ANSI.sub("", screen.decode(errors="replace"))
        prompt = text.rfind("🎤")
        # a question waits for input when the screen ends on its input line (an answered one ends its line)
        if prompt <= seen or text.endswith("\n"):
            continue
        label = text[prompt:].split("\n", 1)[0]
        if step < len(keys) and keys[step][0] in label:
            os.write(fd, keys[step][1])
            step += 1
        else:
            os.write(fd, b"\r")
        seen, quiet_since = prompt, time.monotonic()
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    assert step == len(keys), f"not every answer was typed: {keys[step:]}\n{screen.decode(errors='replace')}"
    return os.waitstatus_to_exitcode(status), ANSI.sub("", screen.decode(errors="replace"))


def questions(screen: str) -> list[str]:
    """The labels of the questions asked, in order (questionary draws each again once answered)."""
    labels: list[str] = []
    for label in re.findall(r"🎤 ([^\r\n]+)", screen):
        label = label.strip()
        if label and label not in labels:
            labels.append(label)
    return labels


def crate_with_remote(make_repo, name: str) -> Path:
    repo = make_repo(name)
    shutil.copytree(REPO / "examples" / "hello", repo, dirs_exist_ok=True)
    git(repo, "remote", "add", "origin", f"https://github.com/acme/{name}.git")
    commit_all(repo)
    return repo


def test_init_on_a_terminal_says_what_it_found_and_asks_only_decisions(make_repo) -> None:
    """Every default taken on a real pseudo-terminal: a summary first, at most 8 questions, each in words,
    and exactly the files `libnix init --defaults` writes on a copy."""
    repo = crate_with_remote(make_repo, "tool")
    twin = crate_with_remote(make_repo, "twin")
    env = {"LIBNIX_CACHE_DIR": os.environ["LIBNIX_CACHE_DIR"]}
    code, screen = on_a_terminal(["init"], repo, [], env=env)
    assert code == 0, screen[-3000:]
    asked = questions(screen)
    assert 1 <= len(asked) <= 8, asked
    for label in asked:  # words, not a variable's name (`toolchain_components (yaml)`)
        assert " " in label and not re.fullmatch(r"[\w-]+( \(\w+\))?", label), label
    found = screen.index("libnix found:")
    assert (
        found < screen.index("🎤") and "crate hello 0.1.0" in screen and "forge: github acme/tool" in screen
    )
    assert "toolchain: no rust-toolchain file" in screen
    # the same files as --defaults (the project's name and remote aside: the twin is another repository)
    assert init(twin).returncode == 0
    mine = {
        p.relative_to(repo): p.read_text() for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts
    }
    theirs = {p.relative_to(twin): p.read_text().replace("twin", "tool")
              for p in twin.rglob("*") if p.is_file() and ".git" not in p.parts}  # fmt: skip
    assert sorted(mine) == sorted(theirs)
    for rel, text in mine.items():
        assert text == theirs[rel], rel


def test_init_on_a_terminal_with_other_answers(make_repo) -> None:
    """A nightly toolchain (the arrow keys), a musl target, no CI: the project gets that."""
    repo = crate_with_remote(make_repo, "other")
    keys = [
        ("Rust toolchain (fenix)", b"\x1b[B\x1b[B\r"),  # stable, beta, nightly
        ("Extra targets", b"\x15[x86_64-unknown-linux-musl]\r"),  # Ctrl-U clears the default first
        ("Add GitHub workflows?", b"n"),
    ]
    code, screen = on_a_terminal(
        ["init"], repo, keys, env={"LIBNIX_CACHE_DIR": os.environ["LIBNIX_CACHE_DIR"]}
    )
    assert code == 0, screen[-3000:]
    answers = yaml.safe_load((repo / ".libnix-answers.yml").read_text())
    assert answers["toolchain_channel"] == "nightly" and answers["targets"] == ["x86_64-unknown-linux-musl"]
    assert answers["ci"] is False and not (repo / ".github").exists()
    assert "Release on tag pushes?" not in questions(screen)  # follows from no CI
    module = (repo / "nix" / "libnix.nix").read_text()
    assert "channel = fenixPkgs.latest;" in module and "x86_64-unknown-linux-musl" in module


def test_update_on_a_terminal_asks_only_a_new_question(tmp_path: Path, make_repo, monkeypatch) -> None:
    tpl = _template_copy(tmp_path / "template")
    monkeypatch.setenv("LIBNIX_TEMPLATE", str(tpl))
    env = {"LIBNIX_TEMPLATE": str(tpl), "LIBNIX_CACHE_DIR": os.environ["LIBNIX_CACHE_DIR"]}
    repo = crate_with_remote(make_repo, "upd")
    assert libnix("init", "--defaults", cwd=repo, env=env).returncode == 0
    commit_all(repo, "init")
    code, screen = on_a_terminal(["update"], repo, [], env=env)
    assert code == 0 and questions(screen) == [], screen[-2000:]  # nothing changed: nothing asked
    # a newer template: one question more, and one fact more (never asked)
    with open(tpl / "copier.yml", "a") as fh:
        fh.write('\nnew_decision:\n  type: bool\n  default: false\n  help: "Add the new thing?"\n'
                 'new_fact:\n  type: str\n  default: "x"\n  ask: false\n')  # fmt: skip
    module = tpl / "copier-template" / "nix" / "libnix.nix.jinja"
    module.write_text(module.read_text() + "# new thing: {{ new_decision }} {{ new_fact }}\n")
    code, screen = on_a_terminal(["update"], repo, [("Add the new thing?", b"y")], env=env)
    assert code == 0, screen[-3000:]
    assert questions(screen) == ["Add the new thing?"]
    assert "# new thing: True x" in (repo / "nix" / "libnix.nix").read_text()


def test_init_ignores_the_users_commit_signing(tmp_path: Path) -> None:
    """The template cache commits libnix's own snapshots: a user's gpgsign must not make them fail."""
    config = tmp_path / "gitconfig"
    config.write_text("[commit]\n\tgpgsign = true\n[tag]\n\tgpgsign = true\n[gpg]\n\tprogram = false\n")
    root = tmp_path / "signed"
    env = {"GIT_CONFIG_GLOBAL": str(config), "LIBNIX_CACHE_DIR": str(tmp_path / "fresh-cache")}
    proc = libnix("init", str(root), "--defaults", env=env)
    assert proc.returncode == 0, proc.stderr
    assert (root / "flake.nix").is_file()


def test_a_project_in_a_subdirectory_gets_its_workflows_at_the_repository_root(
    tmp_path: Path, make_repo, monkeypatch, nix
) -> None:
    """openai/codex keeps its workspace in codex-rs/: GitHub reads workflows only from the repository's
    root, so init in the subdirectory writes them there, running in the subdirectory; update merges them
    there too, with the user's edits."""
    tpl = _template_copy(tmp_path / "template")
    monkeypatch.setenv("LIBNIX_TEMPLATE", str(tpl))
    env = {"LIBNIX_TEMPLATE": str(tpl), "LIBNIX_CACHE_DIR": os.environ["LIBNIX_CACHE_DIR"]}
    repo = make_repo("mono")
    git(repo, "remote", "add", "origin", "https://github.com/acme/mono.git")
    (repo / "package.json").write_text("{}\n")
    rs = repo / "rs"
    shutil.copytree(REPO / "examples" / "hello", rs)
    commit_all(repo)
    git(repo, "tag", "v0.1.0")
    proc = libnix("init", "--defaults", cwd=rs, env=env)
    assert proc.returncode == 0, proc.stderr
    assert (
        not (rs / ".github").exists()
        and (rs / "flake.nix").is_file()
        and (rs / "nix" / "libnix.nix").is_file()
    )
    ci = (repo / ".github" / "workflows" / "libnix-ci.yml").read_text()
    release = (repo / ".github" / "workflows" / "libnix-release.yml").read_text()
    assert "working-directory: rs" in ci and 'paths: ["rs/**", ".github/workflows/libnix-ci.yml"]' in ci
    assert "working-directory: rs" in release and '- "v*"' in release
    assert "wrote ../.github/workflows/libnix-ci.yml" in proc.stdout and "?dir=rs" in proc.stdout
    assert "/target" in (rs / ".gitignore").read_text() and not (repo / ".gitignore").exists()
    assert_generated_files_are_valid(repo, nix)
    commit_all(repo, "libnix init")

    # the user edits the root workflow; a new template changes another line of it
    ci_path = repo / ".github" / "workflows" / "libnix-ci.yml"
    ci_path.write_text(ci.replace("permissions:", "# my own note\npermissions:", 1))
    commit_all(repo, "my note")
    src = next(tpl.glob("copier-template/*/workflows/libnix-ci.yml.jinja"))
    src.write_text(
        src.read_text().replace("      - uses: actions/checkout@v6", "      - uses: actions/checkout@v5")
    )
    proc = libnix("update", cwd=rs, env=env)
    assert proc.returncode == 0, proc.stderr
    merged = ci_path.read_text()
    assert "# my own note" in merged and "actions/checkout@v5" in merged and "<<<<<<<" not in merged
    assert not (rs / ".github").exists()
    assert "updated ../.github/workflows/libnix-ci.yml" in proc.stdout
    assert_generated_files_are_valid(repo, nix)


def test_release_tags_of_workspace_members_make_the_tag_filter(make_repo, nix) -> None:
    """tokio's tags (`<crate>-<version>`) and release-plz's (`<crate>-v<version>`): the release workflow
    runs on the latest of them and on a new member's first tag, not on a tag that names no version."""
    repo = make_repo("tokio")
    members = ["tokio", "tokio-util", "tokio-macros", "tokio-stream"]
    (repo / "Cargo.toml").write_text(f"[workspace]\nmembers = {json.dumps(members)}\n")
    for m in members:
        (repo / m / "src").mkdir(parents=True)
        (repo / m / "Cargo.toml").write_text(f'[package]\nname = "{m}"\nversion = "1.0.0"\n')
        (repo / m / "src" / "lib.rs").write_text("")
    commit_all(repo)
    for tag in ("tokio-1.47.1", "tokio-util-0.7.16", "tokio-macros-2.5.0", "tokio-stream-0.1.17",
                "tokio-1.46.0", "tokio-util-0.7.15"):  # fmt: skip
        git(repo, "tag", tag)
    assert init(repo).returncode == 0
    doc = yaml.safe_load((repo / ".github" / "workflows" / "libnix-release.yml").read_text())
    patterns = doc[True]["push"]["tags"]
    assert patterns == ["*-[0-9]+.[0-9]+.[0-9]+*"]
    for tag in ("tokio-1.47.1", "tokio-util-0.7.16", "tokio-macros-2.5.0", "tokio-test-0.4.4"):
        assert any(github_glob(p, tag) for p in patterns), tag
    for name in ("main", "tokio-next", "tokio-util-v2-wip", "master"):
        assert not any(github_glob(p, name) for p in patterns), name
    assert_generated_files_are_valid(repo, nix)  # actionlint checks the glob's syntax


def github_glob(pattern: str, name: str) -> bool:
    """GitHub Actions' filter pattern syntax: `*` any run of characters but `/`, `+` one or more of the
    preceding character, `[…]` a class, `?` zero or one of the preceding; everything else literal."""
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out += "[^/]*"
        elif c == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end
        elif c in "+?":
            out += c
        else:
            out += re.escape(c)
        i += 1
    return re.fullmatch(out, name) is not None


def test_update_says_when_the_nixpkgs_branch_is_past_its_end_of_support(make_repo) -> None:
    """nixos-25.11 stopped getting fixes on 2026-06-30: update says so, and how to move on."""
    repo = make_repo("proj")
    (repo / "Cargo.toml").write_text('[package]\nname = "proj"\nversion = "0.1.0"\n')
    assert libnix("init", str(repo), "--defaults", "--data", "nixpkgs_ref=nixos-25.11").returncode == 0
    assert '"github:NixOS/nixpkgs/nixos-25.11"' in (repo / "flake.nix").read_text()
    commit_all(repo, "init")
    proc = libnix("update", str(repo), "--defaults")
    assert proc.returncode == 0, proc.stderr
    assert (
        "nixpkgs nixos-25.11 is past its end of support (2026-06-30): no more security fixes; move on "
        "with `libnix update --data nixpkgs_ref=nixos-26.05`, then `nix flake update nixpkgs`"
    ) in proc.stderr
    commit_all(repo, "update")
    proc = libnix("update", str(repo), "--defaults", "--data", "nixpkgs_ref=nixos-26.05")
    assert proc.returncode == 0, proc.stderr
    assert '"github:NixOS/nixpkgs/nixos-26.05"' in (repo / "flake.nix").read_text()


def test_end_of_support_table() -> None:
    from scaffold.init.nixpkgs_releases import NEWEST, past_support

    assert NEWEST == "26.05"  # the template's default follows the newest row
    assert "nixos-26.05" in (REPO / "copier.yml").read_text()
    on = datetime.date(2026, 12, 31)
    assert past_support("nixos-26.05", on) is None
    assert "(2026-12-31)" in (past_support("nixos-26.05", on + datetime.timedelta(days=1)) or "")
    assert "(2025-12-31)" in (past_support("nixos-25.05-small", on) or "")
    assert past_support("nixos-unstable", on) is None and past_support("nixos-31.05", on) is None


def test_update_brings_the_crates_io_overlay_to_an_older_project(tmp_path: Path, make_repo) -> None:
    """A project set up before nix/crates-io.nix existed gets it, wired in, from `libnix update`."""
    tpl = _template_copy(tmp_path / "template")
    (tpl / "copier-template" / "nix" / "crates-io.nix").unlink()
    module = tpl / "copier-template" / "nix" / "libnix.nix.jinja"
    current = module.read_text()
    older = re.sub(r"      # cargo \(libnix\)'s crates fetch.*?        moved;\n", "", current, flags=re.S)
    module.write_text(older.replace("pkgs = cratesPkgs;", "inherit pkgs;"))
    env = {"LIBNIX_TEMPLATE": str(tpl), "LIBNIX_CACHE_DIR": os.environ["LIBNIX_CACHE_DIR"]}
    repo = make_repo("proj")
    (repo / "Cargo.toml").write_text('[package]\nname = "proj"\nversion = "0.1.0"\n')
    assert libnix("init", str(repo), "--defaults", env=env).returncode == 0
    assert (
        not (repo / "nix" / "crates-io.nix").exists()
        and "cratesPkgs" not in (repo / "nix" / "libnix.nix").read_text()
    )
    commit_all(repo, "init")
    (tpl / "copier-template" / "nix" / "crates-io.nix").write_bytes(
        (REPO / "copier-template" / "nix" / "crates-io.nix").read_bytes()
    )
    module.write_text(current)
    proc = libnix("update", str(repo), env=env)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "nix" / "crates-io.nix").read_text() == (
        REPO / "copier-template" / "nix" / "crates-io.nix"
    ).read_text()
    text = (repo / "nix" / "libnix.nix").read_text()
    assert "cratesPkgs =" in text and text.count("pkgs = cratesPkgs;") == 2


def test_choosing_a_cargo_libnix_release_and_being_told_of_a_newer_one(make_repo) -> None:
    """upstream's releases, by tag: a hash libnix does not know must be given (never guessed); a project
    pinned to an older release is told of the newest at update."""
    from scaffold.init.cargo_libnix_releases import NEWEST

    repo = make_repo("proj")
    (repo / "Cargo.toml").write_text('[package]\nname = "proj"\nversion = "0.1.0"\n')
    proc = libnix("init", str(repo), "--defaults", "--data", "cargo_libnix_release=libnix-1.87.0+v3")
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert (
        "libnix does not know the hash of libnix-1.87.0+v3: add --data "
        "cargo_libnix_sha256=$(nix-prefetch-url --unpack https://github.com/nixcloud/cargo/releases/download/"
        "libnix-1.87.0%2Bv3/"
        "libnix-1.87.0%2Bv3.tar.bz2)"
    ) in proc.stderr
    assert not (repo / "flake.nix").exists()
    proc = libnix("init", str(repo), "--defaults", "--data", "cargo_libnix_release=libnix-0.1+nope")
    assert proc.returncode == 1 and "not a release libnix knows" in proc.stderr
    # the default is the newest release whose hash libnix knows, +v1; update says +v3 is out
    assert libnix("init", str(repo), "--defaults").returncode == 0
    module = (repo / "nix" / "libnix.nix").read_text()
    assert (
        "libnix-1.87.0%2Bv1.tar.bz2" in module
        and 'attribute = "cargo-0_88_0-bin-b4cc6eeacb818d24";' in module
    )
    commit_all(repo, "init")
    proc = libnix("update", str(repo), "--defaults")
    assert proc.returncode == 0, proc.stderr
    assert f"cargo (libnix) {NEWEST.tag} is out (the project pins libnix-1.87.0+v1)" in proc.stderr
    commit_all(repo, "update")
    digest = "0" * 51 + "1"
    proc = libnix("update", str(repo), "--defaults", "--data", "cargo_libnix_release=libnix-1.87.0+v3",
                  "--data", f"cargo_libnix_sha256={digest}")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    module = (repo / "nix" / "libnix.nix").read_text()
    assert "libnix-1.87.0%2Bv3/libnix-1.87.0%2Bv3.tar.bz2" in module and f'sha256 = "{digest}";' in module
    assert 'attribute = "cargo-0_88_0-bin-8cad88ffd54a16db";' in module
    assert "is out" not in proc.stderr
