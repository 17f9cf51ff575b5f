"""`libnix check --build` (what the Action's `verify: build` runs) with a REAL compiler: the released export
of examples/hello, built by nix from the pinned tag tarball through the export's own flake, with
import-from-derivation disabled, against the toy package set of tests/toy_build laid out as a nixpkgs,
whose fenix stand-in hands out the host's real rustc (Debian's rustc-web; .ci/setup installs it). The
build script of the toy anyhow is compiled and run, its output reaches rustc, and the binary runs.
cargo (libnix) itself is the stand-in (tests/fake_cargo_libnix.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import NIX_ENV, REPO, host_rustc, libnix, need_shared, store, tagged_hello

TOY = REPO / "tests" / "toy_build"
FAKE = str(REPO / "tests" / "fake_cargo_libnix.py")


@pytest.fixture
def toy_nixpkgs(tmp_path: Path, shim: Path) -> Path:
    """tests/toy_build with the real nixpkgs lib of ../shared/nix-eval copied in as ./lib."""
    need_shared("nix-eval")
    dest = tmp_path / "toy-nixpkgs"
    shutil.copytree(TOY, dest)
    shutil.copytree(shim / "nixpkgs-shim" / "lib", dest / "lib")
    return dest


def test_verify_build_compiles_the_export_with_a_real_rustc(make_repo, tmp_path, toy_nixpkgs) -> None:
    host_rustc()
    repo, tarball = tagged_hello(make_repo, tmp_path)
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--url", f"file://{tarball}",
                  "--cargo", FAKE)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    store(tarball)  # what the export's builtins.fetchTarball of the tag resolves to, offline
    export = repo / "libnix-0.1.0+v0.1.0"
    # /tmp/out is a fixed path of cargo (libnix)'s build phases, shared when the sandbox is off
    env = {"NIX_CONFIG": NIX_ENV["NIX_CONFIG"] + "max-jobs = 1\n"}
    proc = libnix("check", str(export), "--build", "--eval", "--nixpkgs", str(toy_nixpkgs),
                  "--fenix", str(toy_nixpkgs / "fenix"), "--json", env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    assert [e["error"] for e in doc["evaluated"]] == [None] * 5  # the flake for 4 systems, the caller
    (built,) = doc["built"]
    assert built["attribute"] == "hello-0_1_0-bin-a6a06cbe35800f65" and built["error"] is None
    ran = subprocess.run([f"{built['out']}/bin/hello"], capture_output=True, text=True, check=True)
    assert ran.stdout == "hello from a pinned nix build, with 2 crates\n"  # the toy itoa formatted it
    # a real ELF from the host's rustc, not the recording stand-in's shell script
    assert Path(built["out"], "bin", "hello").resolve().read_bytes()[:4] == b"\x7fELF"
    # the toy anyhow's build script ran: its cfg with a space and its variable reached rustc, so the
    # function they guard is compiled, holding the variable's words
    deriver = subprocess.run(["nix-store", "--query", "--deriver", built["out"]], capture_output=True,
                             text=True, check=True).stdout.strip()  # fmt: skip
    inputs = subprocess.run(["nix-store", "--query", "--requisites", deriver], capture_output=True,
                            text=True, check=True).stdout.split()  # fmt: skip
    drv = next(p for p in inputs if p.endswith("-anyhow-1_0_96-61bbc4e08b05614c.drv"))
    out = subprocess.run(["nix-store", "--query", "--outputs", drv], capture_output=True, text=True,
                         check=True).stdout.strip()  # fmt: skip
    assert b"two words" in Path(out, "libanyhow-61bbc4e08b05614c.rlib").read_bytes()
