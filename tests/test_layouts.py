"""Repository layouts of real projects, each in a real git repository with cargo (libnix) played by the
stand-in (tests/fake_cargo_libnix.py): a crate in a subdirectory of its repository, a codex-like
workspace in `codex-rs/` with the placeholder version 0.0.0 and `rust-v…` tags, per-crate tags of a
workspace (release-plz's `<member>-v<version>`, tokio's `<member>-<version>`), and a git dependency
(`pkgs.fetchgit`). Where a pin matters, nix evaluates it with import-from-derivation disabled."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from helpers import NIX_ENV, REPO, commit_all, forge_tarball, git, libnix, nix_eval, store

FAKE = str(REPO / "tests" / "fake_cargo_libnix.py")
MAIN = 'fn main() {\n    println!("hello");\n}\n'


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def crate(name: str, version: str = "0.1.0") -> str:
    return f'[package]\nname = "{name}"\nversion = "{version}"\nedition = "2021"\n'


def tagged(make_repo, files: dict[str, str], tag: str, name: str = "mono") -> Path:
    repo = make_repo(name)
    write(repo, files)
    git(repo, "remote", "add", "origin", f"https://github.com/acme/{name}.git")
    commit_all(repo)
    git(repo, "tag", "-a", tag, "-m", tag)
    return repo


def release(where: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return libnix("release", *args, "--cargo", FAKE, env=env, cwd=cwd or where)


def one_error(proc) -> str:
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("libnix: error:")]
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return errors[0]


# -- a crate in a subdirectory of its repository ------------------------------------------------------

SUBDIR = {
    "README.md": "A TypeScript CLI and, in rs/, its Rust core.\n",
    "package.json": "{}\n",
    "rs/Cargo.toml": crate("core-cli", "0.2.0"),
    "rs/src/main.rs": MAIN,
    "rs/.gitignore": "/target\n",
}


def test_release_from_a_subdirectory_pins_the_whole_repository(make_repo, shim, nix, tmp_path) -> None:
    repo = tagged(make_repo, SUBDIR, "v0.2.0")
    tarball = forge_tarball(repo, "v0.2.0", tmp_path / "mono.tar.gz", prefix="mono-v0.2.0/")
    url = f"file://{tarball}"
    # run inside rs/, as a user would
    proc = release(repo / "rs", "--tag", "v0.2.0", "--url", url, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["project_dir"] == "rs" and doc["version"] == "0.2.0" and doc["name"] == "core-cli"
    export = repo / "rs" / "libnix-0.2.0+v0.2.0"
    assert export.is_dir() and (repo / "rs" / "libnix.json").is_file() and not (repo / "libnix.json").exists()
    # the whole repository's tarball is pinned, and project_root is its rs/
    assert doc["hash"]["nix32"] == nix.prefetch_unpack(tarball)
    store(tarball)
    attr = doc["attributes"][0]
    caller = export / "cargo_build_caller.nix"
    out = nix_eval(
        f"let c = import {caller} {{ pkgs = import {shim}/nixpkgs-shim {{ }}; }}; in "
        f'[ (builtins.readFile "${{c.{attr}.src}}/src/main.rs")'
        f" (builtins.attrNames (builtins.readDir c.{attr}.src)) ]"
    )
    assert out.returncode == 0, out.stderr
    main, listing = json.loads(out.stdout)
    assert main == MAIN and listing == ["src"]  # the crate's files, from rs/ of the repository's tarball

    # the same from the repository's root with -C rs, and the dry run says where the project is
    again = release(repo, "-C", "rs", "--tag", "v0.2.0", "--url", url, "--dry-run")
    assert again.returncode == 0, again.stderr
    assert (
        "project  rs/ of the repository" in again.stdout
        and "version  0.2.0 (from Cargo.toml at v0.2.0)" in again.stdout
    )


def test_release_at_the_root_of_a_repository_whose_project_is_in_a_subdirectory(make_repo) -> None:
    repo = tagged(make_repo, SUBDIR, "v0.2.0")
    line = one_error(release(repo, "--tag", "v0.2.0", "--url", "file:///x.tar.gz"))
    assert "no Cargo.toml in v0.2.0: the Rust project is in rs/ (run there, or pass -C DIR)" in line


def test_a_subdirectory_fileset_entry_missing_from_the_tag_is_named_with_its_repository_path(
    make_repo, tmp_path
) -> None:
    repo = tagged(make_repo, SUBDIR, "v0.2.0")
    (repo / "rs" / "src" / "extra.rs").write_text("// not committed\n")
    proc = release(repo / "rs", "--tag", "v0.2.0", "--url", "file:///x.tar.gz", "--no-worktree")
    assert proc.returncode == 1
    proc = release(repo / "rs", "--tag", "v0.2.0", "--url", "file:///x.tar.gz")
    assert proc.returncode == 0, proc.stderr  # the worktree of the tag has no extra.rs: nothing to pin
    bs = tmp_path / "bs"
    env = {**NIX_ENV, "CARGO_BACKEND": "nix"}
    subprocess.run([FAKE, "build", "--release", "write-nix-buildsystem", "--out-dir", str(bs)],
                   cwd=repo / "rs", check=True, capture_output=True, env=env)  # fmt: skip
    line = one_error(release(repo / "rs", "--tag", "v0.2.0", "--url", "file:///x.tar.gz", "--from", str(bs),
                             "--force"))  # fmt: skip
    assert "'rs/src/extra.rs' does not exist in the tag's tree" in line


# -- a codex-like workspace: codex-rs/, version 0.0.0, tags rust-v0.N.M ---------------------------------

CODEX = {
    "README.md": "codex\n",
    "codex-cli/package.json": "{}\n",
    "codex-rs/Cargo.toml": (
        '[workspace]\nmembers = ["cli", "core"]\nresolver = "2"\n\n'
        '[workspace.package]\nversion = "0.0.0"\nedition = "2024"\n'
    ),
    "codex-rs/cli/Cargo.toml": (
        '[package]\nname = "codex-cli"\nversion.workspace = true\nedition.workspace = true\n\n'
        '[[bin]]\nname = "codex"\npath = "src/main.rs"\n'
    ),
    "codex-rs/cli/src/main.rs": MAIN,
    "codex-rs/core/Cargo.toml": '[package]\nname = "codex-core"\nversion.workspace = true\n',
    "codex-rs/core/src/main.rs": MAIN,
}


def test_placeholder_version_yields_to_the_tag(make_repo, tmp_path) -> None:
    repo = tagged(make_repo, CODEX, "rust-v0.3.0", name="codex")
    url = (
        f"file://{forge_tarball(repo, 'rust-v0.3.0', tmp_path / 'codex.tar.gz', prefix='codex-rust-v0.3.0/')}"
    )
    dry = release(repo, "-C", "codex-rs", "--tag", "rust-v0.3.0", "--url", url, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    doc = json.loads(dry.stdout)
    assert doc["version"] == "0.3.0" and doc["version_from"] == "the tag (Cargo.toml says 0.0.0)"
    assert doc["member"] is None and doc["project_dir"] == "codex-rs"
    proc = release(repo, "-C", "codex-rs", "--tag", "rust-v0.3.0", "--url", url, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["export_dir"] == "libnix-0.3.0+rust-v0.3.0"
    info = json.loads((repo / "codex-rs" / "libnix-0.3.0+rust-v0.3.0" / "libnix-export.json").read_text())
    assert info["package_version"] == "0.3.0"
    assert sorted(info["binaries"].values()) == ["codex-cli", "codex-core"]  # the stand-in names bins so


# -- per-crate tags --------------------------------------------------------------------------------------

WORKSPACE = {
    "Cargo.toml": '[workspace]\nmembers = ["member", "other"]\n\n[workspace.package]\nversion = "2.0.0"\n',
    "member/Cargo.toml": crate("member", "1.2.3"),
    "member/src/main.rs": MAIN,
    "other/Cargo.toml": '[package]\nname = "other"\nversion.workspace = true\n',
    "other/src/main.rs": MAIN,
}


def test_a_tag_naming_a_member_releases_that_member(make_repo, tmp_path) -> None:
    for tag in ("member-v1.2.3", "member-1.2.3", "member@1.2.3"):
        repo = tagged(make_repo, WORKSPACE, tag, name=f"ws{len(tag)}{tag[6]}")
        dry = release(repo, "--tag", tag, "--url", "file:///x.tar.gz", "--dry-run", "--json")
        assert dry.returncode == 0, dry.stderr
        doc = json.loads(dry.stdout)
        assert (doc["member"], doc["version"]) == ("member", "1.2.3"), tag
        assert doc["version_from"] == f"member's Cargo.toml at {tag}"
        text = release(repo, "--tag", tag, "--url", "file:///x.tar.gz", "--dry-run").stdout
        assert "member   member (the workspace member the tag names)" in text
    url = f"file://{forge_tarball(repo, tag, tmp_path / 'ws.tar.gz', prefix='ws/')}"
    proc = release(repo, "--tag", tag, "--url", url, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    # cargo (libnix) was asked for that package (-p member): its crates only, the export named for it
    assert [a.split("-")[0] for a in doc["attributes"]] == ["member"]
    assert doc["export_dir"] == f"libnix-1.2.3+{tag}" and doc["name"] == "member"
    assert json.loads((repo / "libnix.json").read_text())["attributes"] == doc["attributes"]
    assert "exporting from a worktree of member@1.2.3 (package member)" in proc.stderr


def test_a_member_tag_whose_version_differs_from_the_member_is_refused(make_repo) -> None:
    repo = tagged(make_repo, WORKSPACE, "member-v9.9.9")
    line = one_error(release(repo, "--tag", "member-v9.9.9", "--url", "file:///x.tar.gz", "--dry-run"))
    assert "names member 9.9.9, but member's Cargo.toml at member-v9.9.9 says 1.2.3" in line


def test_a_tag_naming_no_member_releases_the_workspace(make_repo) -> None:
    repo = tagged(make_repo, WORKSPACE, "v2.0.0")
    doc = json.loads(release(repo, "--tag", "v2.0.0", "--url", "file:///x.tar.gz", "--json").stdout)
    assert doc["member"] is None and doc["version"] == "2.0.0"
    assert sorted(a.split("-")[0] for a in doc["attributes"]) == ["member", "other"]


def test_the_longest_member_name_wins(make_repo) -> None:
    files = {
        "Cargo.toml": '[workspace]\nmembers = ["tokio", "tokio-util"]\n',
        "tokio/Cargo.toml": crate("tokio", "1.47.1"),
        "tokio/src/main.rs": MAIN,
        "tokio-util/Cargo.toml": crate("tokio-util", "0.7.16"),
        "tokio-util/src/main.rs": MAIN,
    }
    repo = tagged(make_repo, files, "tokio-util-0.7.16", name="tokio")
    git(repo, "tag", "tokio-1.47.1")
    for tag, member, version in (
        ("tokio-util-0.7.16", "tokio-util", "0.7.16"),
        ("tokio-1.47.1", "tokio", "1.47.1"),
    ):
        doc = json.loads(
            release(repo, "--tag", tag, "--url", "file:///x.tar.gz", "--dry-run", "--json").stdout
        )
        assert (doc["member"], doc["version"]) == (member, version)


# -- git dependencies ------------------------------------------------------------------------------------


def test_a_git_dependency_stays_pinned_and_evaluates(make_repo, shim, tmp_path) -> None:
    repo = tagged(make_repo, {"Cargo.toml": crate("hello"), "src/main.rs": MAIN}, "v0.1.0", name="hello")
    tarball = forge_tarball(repo, "v0.1.0", tmp_path / "hello.tar.gz", prefix="hello-v0.1.0/")
    proc = release(repo, "--tag", "v0.1.0", "--url", f"file://{tarball}", env={"FAKE_CARGO_GIT": "1"})
    assert proc.returncode == 0, proc.stderr
    export = repo / "libnix-0.1.0+v0.1.0"
    dep = next(export.glob("derivations/deps/itoa-*.nix")).read_text()
    assert "src = pkgs.fetchgit {" in dep and "cd $src/$CARGO_MANIFEST_DIR" in dep
    check = libnix("check", str(export), "--strict")
    assert check.returncode == 0, check.stdout
    store(tarball)
    out = nix_eval(
        f"let c = import {export}/cargo_build_caller.nix {{ pkgs = import {shim}/nixpkgs-shim {{ }}; }}; "
        "d = c.deps.itoa-1_0_14-f807d60e93b08a94; in [ d.drvPath d.src.drvPath d.src.rev ]"
    )
    assert out.returncode == 0, out.stderr
    drv, src, rev = json.loads(out.stdout)
    assert (
        drv.endswith("-itoa-1_0_14-f807d60e93b08a94.drv")
        and src.endswith("-itoa.drv")
        and rev == "7f4c4d4c1a8b9c5e3e2f0a6b4d3c2b1a09876543"
    )


def test_a_git_dependency_on_a_branch_or_without_a_hash_is_refused(make_repo, tmp_path) -> None:
    repo = tagged(make_repo, {"Cargo.toml": crate("hello"), "src/main.rs": MAIN}, "v0.1.0", name="hello")
    line = one_error(release(repo, "--tag", "v0.1.0", "--url", "file:///x.tar.gz",
                             env={"FAKE_CARGO_GIT": "1", "FAKE_CARGO_GIT_REV": "main"}))  # fmt: skip
    assert "git dependency https://github.com/dtolnay/itoa: rev 'main' is not a commit id" in line
    assert not list(repo.glob("libnix-*"))
    assert (
        release(repo, "--tag", "v0.1.0", "--url", "file:///x.tar.gz", env={"FAKE_CARGO_GIT": "1"}).returncode
        == 0
    )
    export = repo / "libnix-0.1.0+v0.1.0"
    dep = next(export.glob("derivations/deps/itoa-*.nix"))
    text = dep.read_text()
    dep.write_text(
        text.replace('      sha256 = "0ql5dxy1pbk9q0hfm6yc4rk7dmldnh0hx0pnbv2bhkqwb6mzrj8x";\n', "")
    )
    check = libnix("check", str(export))
    assert check.returncode == 1 and "git dependency https://github.com/dtolnay/itoa: no hash" in check.stdout
