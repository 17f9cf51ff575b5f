"""Build-script arguments read at build time: the export needs no import from derivation, and rustc gets
the very arguments it got before. Proven by BUILDING a toy with nix (tests/toy_build: a package set that
builds, with a recording stand-in for rustc and one for build-rs-libnix, neither of which can run here):
the build system the cargo (libnix) stand-in writes for examples/hello (the root crate `hello`, and
`anyhow`, whose toy build script prints `cargo:rustc-cfg=feature="a b"`, a `rustc-check-cfg` with values
and a `rustc-link-search` with a space), built once as written (IFD) and once as released (no IFD)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import NIX_ENV, REPO, commit_all, forge_tarball, git, libnix, tagged_hello

from scaffold.buildsystem.rules import build_time_arguments
from scaffold.nix import syntax as nixsyntax

TOY = REPO / "tests" / "toy_build"
FAKE = str(REPO / "tests" / "fake_cargo_libnix.py")
HELLO = "hello-0_1_0-bin-a6a06cbe35800f65"
CRATES = {
    "hello": HELLO,
    "anyhow": "deps.anyhow-1_0_96-61bbc4e08b05614c",
    "build.rs of anyhow": "deps.anyhow-1_0_96-script_build-22dc23ffd8131166",
    "itoa": "deps.itoa-1_0_14-f807d60e93b08a94",
}
STORE = re.compile(rb"/nix/store/[0-9a-z]{32}-")


@pytest.fixture
def toy(make_repo, tmp_path: Path) -> dict[str, Path]:
    repo, tarball = tagged_hello(make_repo, tmp_path)
    out = {"repo": repo}
    for name, flags in (("as-written", ["--keep-ifd"]), ("released", [])):
        proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--url", f"file://{tarball}",
                      "--cargo", FAKE, "--out-dir", str(tmp_path / name), *flags)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        out[name] = tmp_path / name
    return out


def build(export: Path, project: Path, lib: Path, attr: str, *options: str) -> subprocess.CompletedProcess:
    expr = f"""let
      pkgs = import {TOY}/pkgs.nix {{ lib = import {lib}; }};
    in (import {export}/derivations/default.nix {{
      inherit pkgs;
      rustc = pkgs.toyRustc;
      cargo = pkgs.toyRustc;
      external_crate_dependencies = {{ deps = {{ }}; envs = {{ }}; }};
      project_root = {project};
    }}).{attr}"""
    return subprocess.run(
        ["nix-build", "--no-out-link", "--expr", expr, *options], capture_output=True, text=True, env=NIX_ENV
    )


def argv(out: str) -> list[list[str]]:
    """Every rustc call of a crate, its arguments as rustc saw them, store hashes blanked."""
    record = STORE.sub(b"/nix/store/HASH-", (Path(out) / "rustc-argv").read_bytes())
    return [call.decode().split("\0")[:-1] for call in record.split(b"\1")[:-1]]


def test_rustc_gets_the_same_arguments_and_evaluation_builds_nothing(toy, shim, nix) -> None:
    lib = shim / "nixpkgs-shim" / "lib"
    no_ifd = ("--option", "allow-import-from-derivation", "false")
    # as cargo (libnix) wrote it, evaluation must build the build script first
    refused = build(toy["as-written"], toy["repo"], lib, HELLO, *no_ifd)
    assert refused.returncode != 0 and "allow-import-from-derivation" in refused.stderr
    seen = {}
    for name, export in (("as-written", toy["as-written"]), ("released", toy["released"])):
        options = () if name == "as-written" else no_ifd
        calls = {}
        for crate, attr in CRATES.items():
            proc = build(export, toy["repo"], lib, attr, *options)
            assert proc.returncode == 0, proc.stderr[-3000:]
            calls[crate] = argv(proc.stdout.strip())
        seen[name] = calls
    assert seen["released"] == seen["as-written"]
    anyhow, hello = seen["released"]["anyhow"][0], seen["released"]["hello"][0]
    # the build script's words, parsed by bash as before: one argument each, quotes removed
    for word in ('feature="a b"', 'cfg(x, values("a b", "c"))', "native=/opt/dir with space", "dylib=c"):
        assert word in anyhow
    assert any(re.fullmatch(r"native=/nix/store/HASH-anyhow-1_0_96-61bbc4e08b05614c", a) for a in anyhow)
    assert "native=/opt/dir with space" in hello  # propagated to the crate that links anyhow
    assert not any(a.startswith("@") for calls in seen["released"].values() for c in calls for a in c)


def test_helpers_stay_when_a_use_is_not_a_rustc_word(make_repo, tmp_path: Path) -> None:
    """An argfile is the spliced words only as a word of rustc's command: anywhere else the read stays,
    and the release says where and why."""
    repo = make_repo("hello")
    shutil.copytree(REPO / "examples" / "hello", repo, dirs_exist_ok=True)
    (repo / ".gitignore").write_text("/target\n")
    commit_all(repo)
    git(repo, "tag", "v0.1.0")
    subprocess.run([sys.executable, FAKE, "build", "--release", "write-nix-buildsystem"], cwd=repo,
                   check=True, env={**NIX_ENV, "CARGO_BACKEND": "nix"}, capture_output=True)  # fmt: skip
    crate = next((repo / "target/release/nix/derivations").glob("hello-*.nix"))
    text = crate.read_text().replace(
        "      mkdir -p /tmp/out\n",
        '      mkdir -p /tmp/out\n      echo "${fn.rustc_arguments passthru.rust_crate_parent}"\n',
    )
    crate.write_text(text)
    tarball = forge_tarball(repo, "v0.1.0", tmp_path / "hello.tar.gz", prefix="hello-v0.1.0/")
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--url", f"file://{tarball}",
                  "--from", "target/release/nix", "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rel = crate.relative_to(repo / "target/release/nix").as_posix()
    assert f"note: build-script arguments read at evaluation: {rel}:" in proc.stderr
    assert "not a word of its own" in proc.stderr
    assert "IFD (evaluation reads a build output): derivations/default.nix:" in proc.stderr


SURVEY = [
    ("${RUSTC} \\\n  --crate-name a \\\n  ${fn.rustc_arguments passthru.p} \\\n  --cap-lints allow", None),
    ("${RUSTC} \\\n  ${fn.rustc_propagated_arguments passthru.l}", None),
    ('${RUSTC} \\\n  "${fn.rustc_arguments passthru.p}" \\\n  x', "not a word of its own"),
    ("${RUSTC} \\\n  --cfg=${fn.rustc_arguments passthru.p} \\\n  x", "not a word of its own"),
    ("echo \\\n  ${fn.rustc_arguments passthru.p}\n", "not rustc's"),
    ("${RUSTC} x\n  ${fn.rustc_arguments passthru.p}\n", "not rustc's"),
]


@pytest.mark.parametrize(("script", "problem"), SURVEY)
def test_survey_of_uses(script: str, problem: str | None) -> None:
    text = f"{{ fn, passthru }}: {{ buildPhase = ''\n  {script}\n''; }}\n"
    src = nixsyntax.parse("derivations/x.nix", text.encode())
    found = build_time_arguments.survey([src])
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found and found.startswith("derivations/x.nix:")


@pytest.mark.parametrize(
    "text",
    [
        "{ fn }: { args = fn.rustc_arguments [ ]; }",  # outside a string
        "{ fn }: { postInstall = ''\n  ${RUSTC} \\\n  ${fn.rustc_arguments [ ]}\n''; }",  # not a phase
        "{ fn }: { buildPhase = ''${RUSTC} x''; meta = ''${fn.rustc_arguments [ ]}''; }",
    ],
)
def test_survey_refuses_uses_outside_build_phases(text: str) -> None:
    src = nixsyntax.parse("x.nix", text.encode())
    assert build_time_arguments.survey([src]) is not None
