"""`libnix release` on REAL cargo (libnix) output (../shared/fixtures/cargo-libnix-full, 427 files that
cargo (libnix) generated for its own tree), laid out in a test repository as cargo lays it out
(target/release/nix), and proven by nix: the tag's tarball is put in the store, and nix evaluates the
`src` of every root crate through the export's own cargo_build_caller.nix against the real nixpkgs lib
and the real fenix (../shared/nix-eval), with import-from-derivation disabled."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import (
    FLAKES,
    NIX_ENV,
    REPO,
    commit_all,
    fixed_path,
    forge_tarball,
    git,
    libnix,
    need_shared,
    nix_eval,
    store,
    tagged_hello,
)

from scaffold.buildsystem import ifd, pins, rewrite, verify
from scaffold.hashing.nixhash import parse_sha256
from scaffold.nix import syntax as nixsyntax

FULL = ("fixtures", "cargo-libnix-full")
NO_IFD = ("--option", "allow-import-from-derivation", "false")
SYSTEMS = ("x86_64-linux", "aarch64-linux", "x86_64-darwin", "aarch64-darwin")  # the template's default


def listed_files_of(crate: Path) -> list[str]:
    """The files `fn.relativeFileset project_root [ … ]` names (a regex: the test's own eyes), as paths
    of the tree (`src/../x` is `x`)."""
    blocks = re.findall(r"fn\.relativeFileset project_root \[(.*?)\];", crate.read_text(), re.S)
    return [re.sub(r"/src/\.\./", "/", f) for b in blocks for f in re.findall(r'"([^"]+)"', b)]


def listed_files(root: Path) -> set[str]:
    """Every file the build system's filesets name."""
    return {rel for f in root.rglob("*.nix") for rel in listed_files_of(f)}


def lay_out(base: Path, sub: str = "") -> dict[str, Path]:
    """cargo's tree as the build system names it (in `sub/` of the repository if given), tagged, with the
    real output in target/release/nix, released from the project's directory."""
    fixture = need_shared(*FULL)
    repo = base / "cargo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "https://github.com/nixcloud/cargo.git")
    project = repo / sub if sub else repo
    if sub:
        (repo / "README.md").write_text("a repository whose Rust project lives in a subdirectory\n")
    project.mkdir(exist_ok=True)
    (project / "Cargo.toml").write_text('[package]\nname = "cargo"\nversion = "0.88.0"\nedition = "2021"\n')
    (project / ".gitignore").write_text("/target\n")
    for rel in listed_files(fixture):
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"// {rel}\n")
    commit_all(repo, "cargo 0.88.0")
    git(repo, "tag", "-a", "v0.88.0", "-m", "Release")
    nix = project / "target" / "release" / "nix"
    shutil.copytree(fixture, nix)
    (nix / "README.md").unlink()
    subprocess.run(["chmod", "-R", "u+w", str(nix)], check=True)
    tarball = forge_tarball(repo, "v0.88.0", base / "cargo-v0.88.0.tar.gz", prefix="cargo-v0.88.0/")
    proc = libnix("release", "-C", str(project), "--tag", "v0.88.0", "--from", "target/release/nix",
                  "--url", f"file://{tarball}", "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return {"repo": project, "tarball": tarball, "export": project / "libnix-0.88.0+v0.88.0", "base": base}


@pytest.fixture(scope="module")
def cargo_repo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return lay_out(tmp_path_factory.mktemp("real"))


def with_pkgs(export: Path, shim: Path, pkgs: str | None = None) -> str:
    """The plain consumer form: the export's caller given a package set (the shim's, unless `pkgs`)."""
    pkgs = pkgs or f"import {shim}/nixpkgs-shim {{ }}"
    return f"import {export}/cargo_build_caller.nix {{ pkgs = {pkgs}; }}"


def test_release_of_the_full_fixture_passes_check(cargo_repo) -> None:
    export = cargo_repo["export"]
    doc = json.loads((cargo_repo["repo"] / "libnix-0.88.0+v0.88.0.release.json").read_text())
    # the root crates: the top level of default.nix's `self` (not deps, not target), binaries first
    assert doc["attributes"][0] == "cargo-0_88_0-bin-b4cc6eeacb818d24"
    assert len(doc["attributes"]) == 11 and not any("deps" in a or a == "target" for a in doc["attributes"])
    assert doc["entry"] == "derivations/default.nix"
    assert (export / "flake.nix").is_file() and (export / "flake.lock").is_file()
    check = libnix("check", str(export), "--tarball", str(cargo_repo["tarball"]), "--json", "--strict")
    assert check.returncode == 0, check.stdout
    result = json.loads(check.stdout)
    assert result["ok"] and result["pins"][0]["verified"] is True and result["parsed"] == "ok"
    # upstream's eval-time reads of build-script output moved to build time: no IFD left
    assert result["ifd"] == [] and doc["ifd"] == [] and doc["notes"] == []
    helpers = (export / "derivations" / "default.nix").read_text()
    assert "builtins.readFile" not in helpers and helpers.count('"${crate}/nix/rustc-') == 2
    # the notices name the export's own files now; the crates.io URL of `home` was never a path
    runs = list(export.glob("derivations/**/*-script_build_run-*.nix"))
    assert len(runs) == 34
    for run in runs:
        text = run.read_text()
        rel = run.relative_to(export).as_posix()
        assert "/tmp/blah" not in text and text.count(f"in file: '{rel}':") == 2
    # nothing but the pins changed: project_root, fenix, the notices, the crates' URLs and names
    fixture = need_shared(*FULL)
    changed = [
        p.relative_to(export).as_posix()
        for p in export.rglob("*.nix")
        if p.name != "flake.nix" and p.read_bytes() != (fixture / p.relative_to(export)).read_bytes()
    ]
    crates = [
        p.relative_to(export).as_posix() for p in export.rglob("*.nix") if "static.crates.io" in p.read_text()
    ]
    runs_rel = [r.relative_to(export).as_posix() for r in runs]
    assert sorted(changed) == sorted(
        {"cargo_build_caller.nix", "derivations/default.nix", *runs_rel, *crates}
    )


FETCHURL = re.compile(
    r'src = pkgs\.fetchurl \{\n(\s+name = "([^"]+)";\n)?\s+url = "([^"]+)";\n\s+sha256 = "([0-9a-f]{64})";'
)


def test_every_crate_of_the_full_fixture_is_fetched_where_crates_io_serves_nix(cargo_repo, shim) -> None:
    """crates.io answers 403 on its API endpoint to nix's fetcher: all 411 crate sources move to
    static.crates.io under nixpkgs' name, hashes untouched, and nix puts each where nixpkgs' fetchurl
    of that crate would be (the store path a binary cache holding nixpkgs' copy has)."""
    fixture, export = need_shared(*FULL), cargo_repo["export"]
    before = {
        p.relative_to(fixture).as_posix(): m
        for p in fixture.rglob("*.nix")
        if (m := FETCHURL.search(p.read_text()))
    }
    assert len(before) == 411 and all(
        m.group(3).startswith("https://crates.io/api/v1/crates/") for m in before.values()
    )
    sample = {}
    for rel, old in before.items():
        new = FETCHURL.search((export / rel).read_text())
        assert new is not None, rel
        name, version = re.fullmatch(
            r"https://crates\.io/api/v1/crates/([^/]+)/([^/]+)/download", old.group(3)
        ).groups()
        assert new.group(3) == f"https://static.crates.io/crates/{name}/{name}-{version}.crate", rel
        assert new.group(2) == f"crate-{name}-{version}.tar.gz" and new.group(4) == old.group(4), rel
        sample.setdefault(name, (rel, new.group(2), new.group(4)))
    doc = json.loads((cargo_repo["repo"] / "libnix-0.88.0+v0.88.0.release.json").read_text())
    assert doc["crates_moved"] == 411
    # nix evaluates sampled crates' src (IFD disabled) to nixpkgs' path for that name and hash
    picked = [sample[n] for n in ("anyhow", "openssl-sys", "serde", "libgit2-sys", "zerocopy") if n in sample]
    assert len(picked) == 5
    store(cargo_repo["tarball"])
    attrs = {rel: Path(rel).stem.replace(".", "_") for rel, _n, _h in picked}
    proc = nix_eval(
        f"let c = {with_pkgs(export, shim)}; in [ "
        + " ".join(f'c.deps."{a}".src.outPath' for a in attrs.values())
        + " ]"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [fixed_path(digest, name) for _r, name, digest in picked]


def test_check_refuses_a_crate_left_on_the_api_endpoint(cargo_repo, tmp_path: Path) -> None:
    export = shutil.copytree(cargo_repo["export"], tmp_path / "export", symlinks=True)
    crate = next(export.glob("derivations/deps/itoa-*.nix"))
    text = crate.read_text()
    m = re.search(r'url = "https://static\.crates\.io/crates/itoa/itoa-([^"]+)\.crate";', text)
    assert m is not None
    crate.write_text(
        text.replace(m.group(0), f'url = "https://crates.io/api/v1/crates/itoa/{m.group(1)}/download";')
    )
    proc = libnix("check", str(export))
    assert proc.returncode == 1
    rel = crate.relative_to(export).as_posix()
    assert re.search(
        rf"error: {re.escape(rel)}:\d+: 1 crate\(s\) fetched from crates.io's API endpoint "
        rf"\(itoa-{m.group(1)} first\): crates.io refuses its API download endpoint \(403\) to nix's fetcher "
        r"since 2026; libnix release points them at static.crates.io",
        proc.stdout,
    ), proc.stdout


def root_sources(laid: dict[str, Path], shim: Path) -> dict[str, tuple[Path, list[str]]]:
    """nix's `src` of every root crate the release lists (IFD disabled, the tag's tarball put in the
    store first), with the files its fileset names: attribute -> (src, files)."""
    store(laid["tarball"])  # what builtins.fetchTarball of the tag resolves to, offline
    attrs = json.loads((laid["repo"] / "libnix.json").read_text())["attributes"]
    proc = nix_eval(
        f"let c = {with_pkgs(laid['export'], shim)}; in builtins.listToAttrs "
        f'(map (n: {{ name = n; value = "${{c.${{n}}.src}}"; }})'
        f" (builtins.fromJSON ''{json.dumps(attrs)}''))"
    )
    assert proc.returncode == 0, proc.stderr
    sources = json.loads(proc.stdout)
    assert sorted(sources) == sorted(attrs)
    out = {}
    for attr, path in sources.items():
        crate = next(laid["export"].glob(f"derivations/*{attr.rsplit('-', 1)[1]}.nix"))
        out[attr] = (Path(path), listed_files_of(crate))
    return out


def test_nix_evaluates_every_root_crate_src_without_ifd(cargo_repo, shim) -> None:
    for attr, (src, files) in root_sources(cargo_repo, shim).items():
        for rel in files:
            assert (src / rel).exists(), (attr, rel)


def test_the_full_fixture_in_a_subdirectory_pins_the_whole_repository(tmp_path: Path, shim) -> None:
    """The real output of a project in rs/ of its repository: the whole repository's tarball is pinned,
    every root crate's src evaluates from its rs/ (IFD disabled) and holds the crate's files."""
    laid = lay_out(tmp_path, "rs")
    caller = (laid["export"] / "cargo_build_caller.nix").read_text()
    assert '+ "/rs")' in caller  # project_root: the tarball's rs/
    sources = root_sources(laid, shim)
    assert len(sources) == 11
    for attr, (src, files) in sources.items():
        for rel in files:
            assert (src / rel).read_text() == f"// {rel}\n", (attr, rel)
        assert not (src / "README.md").exists()  # the repository's, outside the project


def test_nix_instantiates_every_crate_without_ifd(cargo_repo, shim, tmp_path: Path) -> None:
    """Every derivation of the export (root crates and all crates.io dependencies, whose rustc commands
    take build-script arguments) instantiates with IFD disabled: nothing is built during evaluation."""
    store(cargo_repo["tarball"])
    proc = nix_eval(
        f"let c = {with_pkgs(cargo_repo['export'], shim)};"
        " drvs = s: builtins.filter (v: v ? drvPath) (builtins.attrValues s);"
        " in map (d: d.drvPath) (drvs c ++ drvs c.deps)"
    )
    assert proc.returncode == 0, proc.stderr
    paths = json.loads(proc.stdout)
    crates = list(cargo_repo["export"].rglob("derivations/**/*-*.nix"))
    assert len(paths) == len(set(paths)) == len(crates) + 1  # and target.nix's create-symlinks
    # and with --keep-ifd the same evaluation needs IFD, as cargo (libnix) wrote it
    repo = shutil.copytree(cargo_repo["repo"], tmp_path / "repo", symlinks=True)
    kept = tmp_path / "kept-export"
    url = f"file://{cargo_repo['tarball']}"
    proc = libnix("release", "-C", str(repo), "--tag", "v0.88.0", "--from", "target/release/nix",
                  "--url", url, "--keep-ifd", "--out-dir", str(kept))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "IFD (evaluation reads a build output): derivations/default.nix:" in proc.stderr
    strict = libnix("check", str(kept), "--strict")
    assert strict.returncode == 1 and "IFD" in strict.stdout + strict.stderr
    proc = nix_eval(f"({with_pkgs(kept, shim)}).cargo-0_88_0-bin-b4cc6eeacb818d24.drvPath")
    assert proc.returncode != 0 and "allow-import-from-derivation" in proc.stderr


def test_consumer_snippets_evaluate_without_ifd(cargo_repo, shim, tmp_path: Path) -> None:
    """The snippets of the release notes, as a consumer pastes them, with the asset itself at a file://
    URL and the hash libnix printed for it: the flake input follows the consumer's nixpkgs (the shim)
    for every system, the plain form hands over the consumer's pkgs. No other nixpkgs is in the store."""
    store(cargo_repo["tarball"])
    asset = cargo_repo["repo"] / "libnix-0.88.0+v0.88.0.tar.bz2"
    md = (cargo_repo["repo"] / "libnix-0.88.0+v0.88.0.snippets.md").read_text()
    build, flake, plain, overlay = re.findall(r"```(?:nix|sh)\n(.*?)```", md, re.S)
    url = "https://github.com/nixcloud/cargo/releases/download/v0.88.0/libnix-0.88.0%2Bv0.88.0.tar.bz2"
    assert build.splitlines()[0] == f"nix build '{url}#default'" and f"nix run '{url}'" in build
    assert plain.count(f'url = "{url}";') == flake.count(f'url = "{url}";') == 1  # the forge's asset URL
    assert 'inputs.nixpkgs.follows = "nixpkgs";' in flake and "overlays.default" in overlay
    plain = plain.replace(url, f"file://{asset}").replace(
        "import <nixpkgs> { }", f"import {shim}/nixpkgs-shim {{ }}"
    )
    out = nix_eval(f"({plain}).drvPath")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout).endswith("-cargo-0_88_0-bin-b4cc6eeacb818d24.drv")

    consumer = tmp_path / "consumer"
    consumer.mkdir()
    flake = flake.replace(url, f"file://{asset}").replace(
        '"github:NixOS/nixpkgs/nixos-26.05"', f'"path:{shim}/nixpkgs-shim"'
    )
    (consumer / "flake.nix").write_text(flake)
    proc = subprocess.run(
        ["nix", *FLAKES, "eval", "--json", *NO_IFD, "--no-write-lock-file", f"path:{consumer}#packages",
         "--apply", "ps: builtins.mapAttrs (_: p: p.default.drvPath) ps"],
        capture_output=True, text=True, env=NIX_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    systems = json.loads(proc.stdout)
    assert sorted(systems) == sorted(SYSTEMS)
    assert all(p.endswith("-cargo-0_88_0-bin-b4cc6eeacb818d24.drv") for p in systems.values())
    assert len(set(systems.values())) == 4  # each built for its own system


def test_the_asset_is_a_flake_nix_builds_and_runs(cargo_repo, shim) -> None:
    """`nix build URL#default` and `nix run URL` of the asset (a .tar.bz2 at a file:// URL), its inputs
    overridden to the shim and the real fenix of ../shared/nix-eval, IFD disabled; and once with only
    nixpkgs overridden: fenix then comes from the export's lock (resolved from the store by its narHash,
    which is the caller's pin)."""
    store(cargo_repo["tarball"])
    asset = f"file://{cargo_repo['repo'] / 'libnix-0.88.0+v0.88.0.tar.bz2'}"
    shim_in = ["--override-input", "nixpkgs", f"path:{shim}/nixpkgs-shim"]
    fenix_in = ["--override-input", "fenix", f"path:{shim}/fenix"]

    def flake_eval(attr: str, *extra: str) -> str:
        proc = subprocess.run(
            ["nix", *FLAKES, "eval", "--raw", *NO_IFD, *shim_in, *extra, f"{asset}#{attr}"],
            capture_output=True, text=True, env=NIX_ENV,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert flake_eval("packages.x86_64-linux.default.drvPath", *fenix_in).endswith(
        "-cargo-0_88_0-bin-b4cc6eeacb818d24.drv"
    )
    # `nix run URL` runs apps.<system>.default: the binary the crate installs
    assert re.fullmatch(r"/nix/store/\w{32}-cargo-0_88_0-bin-b4cc6eeacb818d24/bin/cargo",
                        flake_eval("apps.x86_64-linux.default.program", *fenix_in))  # fmt: skip
    # `nix build URL#cargo`: the binary's name is a package too, the same derivation
    assert flake_eval("packages.aarch64-darwin.cargo.drvPath") == flake_eval(
        "packages.aarch64-darwin.cargo-0_88_0-bin-b4cc6eeacb818d24.drvPath"
    )
    lock = json.loads((cargo_repo["export"] / "flake.lock").read_text())
    fenix = lock["nodes"]["fenix"]["locked"]
    assert (
        fenix["narHash"] == "sha256-tl/0cnsqB/Yt7DbaGMel2RLa7QG5elA8lkaOXli6VdY="
        and fenix["type"] == "tarball"
    )
    nixpkgs = lock["nodes"]["nixpkgs"]["locked"]
    pinned = parse_sha256("sha256:1zn1lsafn62sz6azx6j735fh4vwwghj8cc9x91g5sx2nrg23ap9k")
    assert nixpkgs == {"narHash": pinned.sri, "type": "tarball",
                       "url": "https://github.com/NixOS/nixpkgs/archive/25.11.tar.gz"}  # fmt: skip


def test_check_eval_passes_on_the_full_fixture(cargo_repo, referee, referee_shim) -> None:
    """Every consumer form (the asset's flake with its lock, the plain caller with the consumer's pkgs),
    evaluated by both referees; under nix 2.26 with the real nixpkgs lib, no polyfill."""
    store(cargo_repo["tarball"], referee)
    nixpkgs = f"{referee_shim}/nixpkgs-shim"
    proc = libnix(
        "check", str(cargo_repo["export"]), "--eval", "--nixpkgs", nixpkgs, "--json", env=referee.env
    )
    assert proc.returncode == 0, f"{referee}: " + proc.stdout[-3000:] + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["nix"].startswith(f"nix (Nix) {referee.version}.")  # the verdict is that nix's
    forms = {(e["form"], e["where"]): e["derivations"] for e in doc["evaluated"]}
    assert forms == {
        **{("flake", f"packages.{s}"): 11 for s in SYSTEMS},
        ("plain", "cargo_build_caller.nix with your pkgs"): 11,
    }  # fmt: skip
    assert all(e["error"] is None for e in doc["evaluated"]) and doc["ok"]


def test_the_plain_caller_builds_with_the_consumers_pkgs_only(cargo_repo, shim) -> None:
    """Given a package set, the caller evaluates every crate with it, fenix included: the consumer's
    mkDerivation leaves its mark on every derivation, and the nixpkgs the caller pins is not in the store
    (evaluating it would need the network, which these tests do not have)."""
    store(cargo_repo["tarball"])
    pinned = subprocess.run(
        ["nix-store", "--print-fixed-path", "--recursive", "sha256",
         "1zn1lsafn62sz6azx6j735fh4vwwghj8cc9x91g5sx2nrg23ap9k", "source"],
        capture_output=True, text=True, env=NIX_ENV, check=True,
    ).stdout.strip()  # fmt: skip
    assert subprocess.run(["nix-store", "--check-validity", pinned], capture_output=True).returncode != 0
    # nixpkgs' `pkgs.pkgs` is the set itself, and callPackage hands that on: the marked set is its own too
    mine = (
        f"let shim = import {shim}/nixpkgs-shim {{ }}; mine = shim // {{ pkgs = mine; "
        "stdenv = shim.stdenv // { mkDerivation = a: shim.stdenv.mkDerivation "
        '(a // { consumerMark = "mine"; }); }; }; in mine'
    )
    proc = nix_eval(
        f"let c = {with_pkgs(cargo_repo['export'], shim, f'({mine})')}; "
        "drvs = s: builtins.filter (v: v ? drvPath) (builtins.attrValues s); "
        'in map (d: [ d.drvPath (d.drvAttrs.consumerMark or "none") ]) (drvs c ++ drvs c.deps)'
    )
    assert proc.returncode == 0, proc.stderr
    marks = json.loads(proc.stdout)
    assert len(marks) == 423 and {m for _, m in marks if "create-symlinks" not in _} == {"mine"}
    # and without a package set it would reach for its own pin, which is not to be had here
    caller = cargo_repo["export"] / "cargo_build_caller.nix"
    alone = nix_eval(f"(import {caller} {{ }}).cargo-0_88_0-bin-b4cc6eeacb818d24.drvPath")
    assert alone.returncode != 0 and "25.11.tar.gz" in alone.stderr


def _unpacked_hash(tarball: Path) -> str:
    proc = subprocess.run(["nix-prefetch-url", "--unpack", f"file://{tarball}"], capture_output=True,
                          text=True, env=NIX_ENV, check=True)  # fmt: skip
    return proc.stdout.strip()


def test_the_generated_flake_builds_the_crates_of_the_full_fixture(cargo_repo, shim) -> None:
    """`libnix init`'s flake reads libnix.json: its packages are the export's root crates."""
    repo = cargo_repo["repo"]
    release = {"cargo_libnix_url": f"file://{repo / 'libnix-0.88.0+v0.88.0.tar.bz2'}"}
    doc = json.loads((repo / "libnix.json").read_text())
    release["cargo_libnix_sha256"] = doc["asset_sha256"].removeprefix("sha256:")
    release["cargo_libnix_attr"] = doc["attributes"][0]
    data = [f"--data={k}={v}" for k, v in release.items()]
    proc = libnix("init", str(repo), "--defaults", *data)
    assert proc.returncode == 0, proc.stderr
    flags = subprocess.run(["bash", str(need_shared("nix-eval", "setup.sh")), str(shim)], capture_output=True,
                           text=True, check=True).stdout.split()  # fmt: skip
    out = subprocess.run(
        ["nix", "--extra-experimental-features", "nix-command flakes", "eval", "--json", *flags,
         "--no-write-lock-file", *NO_IFD, f"path:{repo}#packages.x86_64-linux",
         "--apply", "p: builtins.mapAttrs (n: v: v.name) p"],
        capture_output=True, text=True, env=NIX_ENV,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    packages = json.loads(out.stdout)
    for attr in doc["attributes"]:
        assert packages[attr] == attr
    assert packages["default"] == "cargo-0_88_0-bin-b4cc6eeacb818d24"


def test_old_generation_evaluates_through_its_caller(make_repo, shim, tmp_path: Path) -> None:
    """The generation before derivations/ (default.nix beside the caller, filterSource of the workspace,
    build_parser through callPackage of a fetchFromGitHub), made by the stand-in in that format."""
    repo, tarball = tagged_hello(make_repo, tmp_path, "old")
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--url", f"file://{tarball}",
                  "--cargo", str(REPO / "tests" / "fake_cargo_libnix.py"),
                  env={"FAKE_CARGO_MODE": "old"})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    store(tarball)
    export = repo / "libnix-0.1.0+v0.1.0"
    attr = json.loads((repo / "libnix.json").read_text())["attributes"][0]
    out = nix_eval(f'let c = {with_pkgs(export, shim)}; in builtins.readFile "${{c.{attr}.src}}/src/main.rs"')
    assert out.returncode == 0, out.stderr
    assert "fn main" in json.loads(out.stdout)
    check = libnix("check", str(export), "--tarball", str(tarball), "--json")
    assert check.returncode == 0, check.stdout
    # every consumer form of this generation too: its flake, its caller given the consumer's pkgs
    evaluated = libnix("check", str(export), "--eval", "--nixpkgs", f"{shim}/nixpkgs-shim", "--json")
    assert evaluated.returncode == 0, evaluated.stdout + evaluated.stderr
    forms = [(e["form"], e["derivations"], e["error"]) for e in json.loads(evaluated.stdout)["evaluated"]]
    assert forms == [("flake", 1, None)] * 4 + [("plain", 1, None)]
    assert "build_parser = pkgs.callPackage" in (export / "cargo_build_caller.nix").read_text()


# -- the syntax-tree rules, on small inputs ----------------------------------------------------------

CALLER = """{ }:
let
  pkgs = import ./pkgs.nix;
  plain = pkgs.fetchFromGitHub { owner = "o"; repo = "plain"; rev = "r1"; sha256 = "sha256-AAAA"; };
  viaLet = pkgs.fetchFromGitHub { owner = "o"; repo = "lib"; rev = "r2"; sha256 = "sha256-BBBB"; };
  tool = pkgs.callPackage viaLet {};
  inline = import (pkgs.fetchFromGitHub { owner = "o"; repo = "in"; rev = "r3"; hash = "sha256-CCC"; }) {};
  git = import (pkgs.fetchgit { url = "https://example.org/x.git";
    rev = "4444444444444444444444444444444444444444"; sha256 = "sha256-DDDD"; });
  built = pkgs.runCommand "x" {} "echo {} > $out";
  fromBuilt = import built;
  readsOut = map (crate: builtins.readFile "${crate}/nix/args") [ ];
  ok = import (builtins.fetchTarball { url = "https://example.org/a.tar.gz"; sha256 = "sha256-EEEE"; });
  url = "https://crates.io/api/v1/crates/home/0.5.11/download";
in
  import ./derivations/default.nix { inherit pkgs; src = plain; }
"""


def test_ifd_found_through_lets_and_rewritten_only_where_exact(tmp_path: Path) -> None:
    root = tmp_path / "bs"
    (root / "derivations").mkdir(parents=True)
    (root / "cargo_build_caller.nix").write_text(CALLER)
    (root / "derivations" / "default.nix").write_text("{ pkgs, src }: { }\n")
    (root / "pkgs.nix").write_text("{ }\n")
    before = {f"{s.sink_name}:{s.producer}" for s in ifd.find(nixsyntax.parse("c", CALLER.encode()))}
    assert before == {
        "callPackage:fetchFromGitHub", "import:fetchFromGitHub", "import:fetchgit", "import:runCommand",
        "readFile:crate",
    }  # fmt: skip
    pin = pins.Pin("https://example.org/t.tar.gz", parse_sha256("1" * 52))
    report = rewrite.rewrite(root, pins.Origin(root, (tmp_path / "none",)), pin)
    assert not report.errors, report.errors
    text = (root / "cargo_build_caller.nix").read_text()
    # the plain src is built at build time: no IFD, untouched
    assert 'plain = pkgs.fetchFromGitHub { owner = "o"; repo = "plain";' in text
    assert 'url = "https://github.com/o/lib/archive/r2.tar.gz";' in text
    assert 'url = "https://github.com/o/in/archive/r3.tar.gz";' in text
    assert "pkgs.fetchgit" in text  # no builtins twin with the same hash: reported instead
    verified = verify.verify(root, None, parse=False)
    found = sorted(str(f) for f in verified.ifd)
    # (the caller's `pkgs` became a parameter: two lines more above them)
    assert found == [
        "cargo_build_caller.nix:16: import of the output of fetchgit during evaluation",
        "cargo_build_caller.nix:19: import of a derivation's output (runCommand) during evaluation",
        "cargo_build_caller.nix:20: readFile of a derivation's output (crate) during evaluation",
    ]
    assert text.startswith("{\n  # the package set") and "\n  pkgs ? import ./pkgs.nix\n}:" in text
    assert not verified.errors  # the `home` in a crates.io URL is not a path


def test_old_generation_optional_dependencies_file(make_repo, shim, tmp_path: Path) -> None:
    """The build_parser generation reads the project's ../../../Cargo.dependencies.nix only under its own
    `builtins.pathExists` guard: a project without it releases (nix takes the else branch, no IFD), one
    with it has it read from the pinned tarball; an unguarded read of a missing path stays an error."""
    for with_file in (False, True):
        repo = make_repo(f"old{with_file}")
        shutil.copytree(REPO / "examples" / "hello", repo, dirs_exist_ok=True)
        if with_file:
            (repo / "Cargo.dependencies.nix").write_text("{ pkgs }: { deps = { }; envs = { }; }\n")
        commit_all(repo)
        git(repo, "tag", "v0.1.0")
        tarball = forge_tarball(repo, "v0.1.0", tmp_path / f"old{with_file}.tar.gz", prefix="hello-v0.1.0/")
        env = {**NIX_ENV, "CARGO_BACKEND": "nix", "FAKE_CARGO_MODE": "old"}
        fake = [str(REPO / "tests" / "fake_cargo_libnix.py"), "build", "--release", "write-nix-buildsystem"]
        subprocess.run(fake, cwd=repo, check=True, capture_output=True, env=env)
        written = (repo / "target/release/nix/cargo_build_caller.nix").read_text()
        assert "builtins.pathExists ../../../Cargo.dependencies.nix" in written
        proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--url", f"file://{tarball}",
                      "--from", "target/release/nix")  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        store(tarball)
        export = repo / "libnix-0.1.0+v0.1.0"
        attr = json.loads((repo / "libnix.json").read_text())["attributes"][0]
        out = nix_eval(f"({with_pkgs(export, shim)}).{attr}.drvPath")
        assert out.returncode == 0, out.stderr
        said = "Using Cargo.dependencies.nix" if with_file else "No Cargo.dependencies.nix found"
        assert f"trace: {said}" in out.stderr
    caller = repo / "target/release/nix/cargo_build_caller.nix"
    caller.write_text(
        written.replace("  pkgs = import", "  extra = import ../../../missing.nix;\n  pkgs = import", 1)
    )
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--url", f"file://{tarball}",
                  "--from", "target/release/nix", "--force")  # fmt: skip
    assert proc.returncode == 1 and "path 'missing.nix' does not exist in the tag's tree" in proc.stderr
