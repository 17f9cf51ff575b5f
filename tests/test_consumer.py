"""The consumer's side of a release: `libnix check --eval` and `libnix release --verify` let nix evaluate
the export through every consumer form (its flake with its lock, the plain caller given a package set)
with import-from-derivation disabled, against ../shared/nix-eval's nixpkgs shim; a failure is one line
and a release that fails it writes and uploads nothing. The project is the bundled example with the
build system the stand-in of cargo (libnix) wrote for it (examples/hello-buildsystem)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import forge_server
from helpers import REPO, commit_all, forge_tarball, git, libnix, store

CRATE = "derivations/hello-0.1.0-bin-a6a06cbe35800f65.nix"
# an evaluation-time read of a derivation's output, where the derivation's attributes force it
IFD = 'CARGO_BIN_NAME = builtins.readFile (pkgs.runCommand "bin-name" { } "echo hello > $out");'


def project(make_repo, forge, tmp_path: Path, *, inject: bool = False) -> Path:
    repo = make_repo("hello")
    shutil.copytree(REPO / "examples" / "hello", repo, dirs_exist_ok=True)
    git(repo, "remote", "add", "origin", f"{forge.base}/acme/hello")
    commit_all(repo)
    git(repo, "tag", "-a", "v0.1.0", "-m", "v0.1.0")
    forge.repos["acme/hello"] = repo
    store(forge_tarball(repo, "v0.1.0", tmp_path / "hello.tar.gz", prefix="hello-v0.1.0/"))
    bs = repo / "target" / "release" / "nix"
    shutil.copytree(REPO / "examples" / "hello-buildsystem", bs)
    if inject:
        inject_ifd(bs)
    return repo


def inject_ifd(root: Path) -> None:
    crate = root / CRATE
    text = crate.read_text()
    assert 'CARGO_BIN_NAME = "hello";' in text
    crate.write_text(text.replace('CARGO_BIN_NAME = "hello";', IFD))


def one_error(proc) -> str:
    errors = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "error" in ln.lower()]
    assert len(errors) == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    return errors[0]


def test_release_verify_evaluates_every_form_before_writing(make_repo, forge, shim, tmp_path) -> None:
    repo = project(make_repo, forge, tmp_path)
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--from", "target/release/nix",
                  "--forge", "github",
                  "--verify", "--nixpkgs", f"{shim}/nixpkgs-shim", "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [(e["form"], e["derivations"]) for e in doc["evaluated"]] == [("flake", 1)] * 4 + [("plain", 1)]
    assert "verifying: nix evaluates every consumer form" in proc.stderr
    # the export checks the same way afterwards, and its static check knows no IFD
    export = repo / "libnix-0.1.0+v0.1.0"
    check = libnix("check", str(export), "--eval", "--nixpkgs", f"{shim}/nixpkgs-shim", "--strict")
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("(no IFD)") == 5


def test_check_eval_fails_in_one_line_on_import_from_derivation(make_repo, forge, shim, tmp_path) -> None:
    repo = project(make_repo, forge, tmp_path)
    assert (
        libnix(
            "release", "-C", str(repo), "--tag", "v0.1.0", "--from", "target/release/nix", "--forge", "github"
        ).returncode
        == 0
    )
    export = tmp_path / "export"
    shutil.copytree(repo / "libnix-0.1.0+v0.1.0", export)
    inject_ifd(export)
    # the static check sees the read but counts it as a finding only with --strict
    assert libnix("check", str(export)).returncode == 0
    proc = libnix("check", str(export), "--eval", "--nixpkgs", f"{shim}/nixpkgs-shim")
    assert proc.returncode == 1
    line = one_error(proc)
    # the form, the attribute, nix's own words
    assert "flake packages.x86_64-linux.hello-0_1_0-bin-a6a06cbe35800f65:" in line, line
    assert "allow-import-from-derivation" in line, line
    doc = json.loads(
        libnix("check", str(export), "--eval", "--nixpkgs", f"{shim}/nixpkgs-shim", "--json").stdout
    )
    assert not doc["ok"] and len(doc["errors"]) == 1


def test_release_verify_publishes_nothing_when_evaluation_fails(make_repo, forge, shim, tmp_path) -> None:
    repo = project(make_repo, forge, tmp_path, inject=True)
    before = sorted(p.name for p in repo.iterdir())
    proc = libnix(
        "release", "-C", str(repo), "--tag", "v0.1.0", "--from", "target/release/nix", "--forge", "github",
        "--verify", "--nixpkgs", f"{shim}/nixpkgs-shim", "--publish",
        env={"GITHUB_TOKEN": forge_server.TOKEN, "LIBNIX_FORGE_DEADLINE": "600"},
    )  # fmt: skip
    assert proc.returncode == 1
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("libnix: error:")]
    assert len(line) == 1 and "does not evaluate as a consumer uses it" in line[0], proc.stderr
    assert "allow-import-from-derivation" in line[0]
    assert forge.releases == {} and not any(r.assets for r in forge.releases.values())
    assert sorted(p.name for p in repo.iterdir()) == before  # no export, asset, manifest or staging left
    assert git(repo, "worktree", "list").count("\n") == 0


def test_nixpkgs_goes_with_eval(tmp_path: Path) -> None:
    proc = libnix("check", str(tmp_path), "--nixpkgs", str(tmp_path))
    assert proc.returncode == 2 and "--nixpkgs, --fenix and --nix go with --eval or --build" in proc.stderr
