"""The two referees side by side: Debian bookworm's nix 2.8 (on PATH) and trixie's nix 2.26
(tests/nix226, in the root .ci/setup builds), which is what consumers run (2.2x). Where they disagree, a
test names both versions and both answers (conftest.agree). The tests of what consumers evaluate and
build run under both (the `referee` fixture); here: the hash on a sample of archives, `--nix`, and a
case known to differ between them, so that the second referee is seen to be asked."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest
from helpers import agree, libnix, need_shared, referees
from test_hash_vs_nix import TREES

from scaffold.hashing.sources import HashOptions, compute

SAMPLE = ("exec-bits", "symlinks", "names", "git-order-clash", "empty-file")


@pytest.mark.parametrize("name", SAMPLE)
def test_both_referees_hash_the_sample_as_libnix_does(name: str, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    TREES[name](tree)
    packed = tmp_path / "tree.tar.gz"
    with tarfile.open(packed, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        tar.add(tree, arcname="top")
    ours = compute(HashOptions(source=str(tree))).sha256.nix32
    both = referees()
    directory = agree({r: r.run("nix-hash", "--type", "sha256", "--base32", str(tree)).stdout.strip()
                       for r in both}, f"nix-hash of {name}")  # fmt: skip
    unpacked = agree({r: r.run("nix-prefetch-url", "--unpack", f"file://{packed}").stdout.strip()
                      for r in both}, f"nix-prefetch-url --unpack of {name}.tar.gz")  # fmt: skip
    assert ours == directory == unpacked and compute(HashOptions(source=str(packed))).sha256.nix32 == ours


def test_the_second_referee_is_asked(tmp_path: Path) -> None:
    """The real nixpkgs lib's `lib.fileset` needs `builtins.readFileType` (nix 2.14+): without the
    polyfill ../shared/nix-eval patches in for nix 2.8, 2.8 fails and 2.26 evaluates. A verdict that
    came from nix 2.8 alone could not pass this test."""
    lib = tmp_path / "nixpkgs"
    lib.mkdir()
    unpack = ["tar", "-xzf", str(need_shared("nix-eval", "nixpkgs-lib.tar.gz")), "-C", str(lib)]
    subprocess.run([*unpack, "--strip-components=1", "nixpkgs-lib/lib"], check=True)
    src = tmp_path / "project"
    (src / "src").mkdir(parents=True)
    (src / "src" / "main.rs").write_text("fn main() {}\n")
    (src / "README.md").write_text("not in the fileset\n")
    expr = (f"let lib = import {lib}/lib; in builtins.attrNames (builtins.readDir (lib.fileset.toSource "
            f"{{ root = {src}; fileset = {src}/src; }}))")  # fmt: skip
    answers = {}
    for referee in referees():
        proc = referee.run(
            "nix-instantiate", "--eval", "--strict", "--json", "--read-write-mode", "--expr", expr
        )
        answers[referee.version] = proc.stdout.strip() if proc.returncode == 0 else proc.stderr
    assert "readFileType" in answers["2.8"]  # nix 2.8 has no builtins.readFileType
    assert answers["2.26"] == '["src"]'  # the fileset holds src/ only, as consumers' nix makes it
    with pytest.raises(
        pytest.fail.Exception, match=r"the referees disagree on .*nix 2\.8 says .*nix 2\.26 says"
    ):
        agree({r: answers[r.version] for r in referees()}, "lib.fileset.toSource")


def test_check_takes_the_nix_it_is_told(tmp_path: Path) -> None:
    (tmp_path / "not-nix").mkdir()
    proc = libnix("check", str(tmp_path), "--eval", "--nix", str(tmp_path / "missing" / "nix"))
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "--nix" in proc.stderr
    proc = libnix("check", str(tmp_path), "--nix", "/usr/bin/nix")
    assert proc.returncode == 2 and "go with --eval or --build" in proc.stderr
