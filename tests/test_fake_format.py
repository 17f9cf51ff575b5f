"""The stand-in for cargo (libnix) must write what the real tool writes: its output is compared, shape by
shape, with the real output in ../shared/fixtures/cargo-libnix-full, so the two cannot drift apart."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO, need_shared

FULL = ("fixtures", "cargo-libnix-full")


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("fake") / "hello"
    shutil.copytree(REPO / "examples" / "hello", project)
    out = project / "target" / "release" / "nix"
    subprocess.run(
        [sys.executable, str(REPO / "tests" / "fake_cargo_libnix.py"), "build", "--release",
         "write-nix-buildsystem", "--out-dir", str(out)],
        cwd=project, check=True, capture_output=True, env={**os.environ, "CARGO_BACKEND": "nix"},
    )  # fmt: skip
    return out


def bindings(text: str, indent: int) -> list[str]:
    """The names bound at one indentation, in order: a file's skeleton."""
    return re.findall(rf"^ {{{indent}}}([A-Za-z_][\w.'-]*) =", text, re.M)


def skeleton(text: str) -> list[str]:
    return [
        n
        for n in bindings(text, 4)
        if not n.startswith(("CARGO_", "DEBUG", "HOST", "NUM_", "OPT_", "PROFILE"))
    ]


def test_caller_and_default_nix_have_the_real_shape(fake: Path) -> None:
    real = need_shared(*FULL)
    ours, theirs = (p / "cargo_build_caller.nix" for p in (fake, real))
    assert ours.read_text().splitlines()[:3] == theirs.read_text().splitlines()[:3]
    assert bindings(ours.read_text(), 2) == bindings(theirs.read_text(), 2)
    assert not ours.read_text().endswith("\n") and not theirs.read_text().endswith("\n")
    ours, theirs = ((p / "derivations" / "default.nix").read_text() for p in (fake, real))
    head = theirs[: theirs.index("  self = {")]
    assert ours.startswith(head)  # the header, the arguments and every fn helper, byte for byte
    assert ours.endswith("    };\n  };\nin\nself\n") and theirs.endswith("    };\n  };\nin\nself\n")
    assert re.search(r"^    target = callPackage' \./target\.nix \{\};$", ours, re.M)
    assert re.search(r"^    deps = \{$", ours, re.M)


def test_root_crate_has_the_real_shape(fake: Path) -> None:
    real = need_shared(*FULL)
    (ours,) = fake.glob("derivations/*-bin-*.nix")
    theirs = real / "derivations" / "cargo-0.88.0-bin-b4cc6eeacb818d24.nix"
    a, b = ours.read_text(), theirs.read_text()
    assert a.splitlines()[0] == b.splitlines()[0]
    assert a.splitlines()[1].startswith("{ fn, pkgs, rustc, cargo, deps, project_root")
    assert b.splitlines()[1].startswith("{ fn, pkgs, rustc, cargo, deps, project_root")
    assert skeleton(a) == skeleton(b)
    form = (
        "    src = pkgs.lib.fileset.toSource rec {\n      root = project_root;\n"
        "      fileset = fn.relativeFileset project_root [\n"
    )
    assert form in a and form in b


def test_dependencies_are_the_real_files(fake: Path) -> None:
    real = need_shared(*FULL)
    for ours in fake.glob("derivations/deps/*.nix"):
        theirs = (real / "derivations" / "deps" / ours.name).read_text()
        assert ours.read_text() == theirs.replace("/tmp/blah/", f"{fake}/"), ours.name
    (run,) = fake.glob("derivations/deps/*-script_build_run-*.nix")
    assert run.read_text().count(f"in file: '{run}':") == 2  # the generating machine's path, as real output


def test_url_hash_form_is_upstreams_fetchurl(tmp_path: Path) -> None:
    project = tmp_path / "hello"
    shutil.copytree(REPO / "examples" / "hello", project)
    subprocess.run(
        [sys.executable, str(REPO / "tests" / "fake_cargo_libnix.py"), "build", "--release",
         "write-nix-buildsystem", "--out-dir", "out", "--url", "https://x.invalid/t.tar.gz", "--hash", "abc"],
        cwd=project, check=True, capture_output=True, env={**os.environ, "CARGO_BACKEND": "nix"},
    )  # fmt: skip
    (crate,) = (project / "out").glob("derivations/*-bin-*.nix")
    # nix_code.rs generate_src: indoc'd, indented by 4
    expected = (
        '    src = pkgs.fetchurl {\n        url = "https://x.invalid/t.tar.gz";\n'
        '        sha256 = "abc";\n    };\n'
    )
    assert expected in crate.read_text()
