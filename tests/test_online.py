"""`libnix check --online` and `release --verify-remote` against a real HTTP server on 127.0.0.1 that
answers as crates.io does (403 on its API download endpoint to a `curl/` agent, which nixpkgs' fetchurl
and nix send; 200 on static.crates.io), reached through LIBNIX_INSTEAD_OF (as git's insteadOf), plus
paths that fail with 5xx and recover, fail for good, or refuse HEAD. The export is a release of
examples/hello by the cargo (libnix) stand-in (tests/fake_cargo_libnix.py)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from helpers import REPO, libnix, need_shared, registry_file, tagged_hello

FAKE = str(REPO / "tests" / "fake_cargo_libnix.py")
TAG_URL = "https://github.com/acme/hello/archive/refs/tags/v0.1.0.tar.gz"
FENIX = "https://github.com/nix-community/fenix/"
NIXPKGS = "https://github.com/NixOS/nixpkgs/"


def released(make_repo, tmp_path: Path) -> tuple[Path, Path]:
    repo, tarball = tagged_hello(make_repo, tmp_path)
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--cargo", FAKE)
    assert proc.returncode == 0, proc.stderr
    return repo / "libnix-0.1.0+v0.1.0", tarball


def check(export: Path, registry, *args: str, instead: str = ""):
    env = {"LIBNIX_INSTEAD_OF": f"{registry.instead_of()} {instead}".strip()}
    proc = libnix("check", str(export), *args, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_check_online_asks_every_url_as_nix_fetches_it(make_repo, tmp_path, registry) -> None:
    export, _ = released(make_repo, tmp_path)
    # fenix's tarball fails twice with 503, then comes; nixpkgs' host refuses HEAD
    instead = f"{registry.base}/flaky/github.com/nix-community/fenix/={FENIX}"
    instead += f" {registry.base}/nohead/github.com/NixOS/nixpkgs/={NIXPKGS}"
    proc = check(export, registry, "--online", instead=instead)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # 4 crate sources of 2 crates, the tag's tarball, nixpkgs, fenix, build-rs-libnix's GitHub source
    assert "online: 6 URLs asked as nix fetches them: 6 reachable, 0 not" in proc.stdout
    seen = {(m, p): a for m, p, a in registry.seen}
    itoa = "/https/static.crates.io/crates/itoa/itoa-1.0.14.crate"
    assert re.fullmatch(r"curl/\S+ Nixpkgs/\S+", seen["HEAD", itoa])  # pkgs.fetchurl's agent
    fenix = next(p for m, p in seen if p.startswith("/flaky/"))
    assert registry.hits[fenix] == 3 and re.fullmatch(r"curl/\S+ Nix/\S+", seen["HEAD", fenix])  # builtins'
    nixpkgs = next(p for m, p in seen if p.startswith("/nohead/"))
    assert ("HEAD", nixpkgs) in seen and ("GET", nixpkgs) in seen  # HEAD refused: the first byte

    # a crate left on crates.io's API endpoint: refused to nix's agent, in one line with the reason
    crate = next((export / "derivations" / "deps").glob("itoa-*.nix"))
    crate.write_text(crate.read_text().replace(
        "https://static.crates.io/crates/itoa/itoa-1.0.14.crate", "https://crates.io/api/v1/crates/itoa/1.0.14/download"
    ))  # fmt: skip
    proc = check(export, registry, "--online", instead=instead)
    assert proc.returncode == 1
    rel = crate.relative_to(export).as_posix()
    api = "https://crates.io/api/v1/crates/itoa/1.0.14/download"
    assert re.search(
        rf"error: \(online\): HTTP 403: 1 URL\(s\) refused \({re.escape(api)}; "
        rf"first in {re.escape(rel)}:\d+\): crates.io refuses its API download endpoint \(403\) to nix",
        proc.stdout,
    ), proc.stdout
    # and the static check says the same without a network
    assert "1 crate(s) fetched from crates.io's API endpoint (itoa-1.0.14 first)" in proc.stdout
    doc = json.loads(check(export, registry, "--online", "--json", instead=instead).stdout)
    refused = [a for a in doc["online"] if a["status"] == 403]
    assert [a["url"] for a in refused] == ["https://crates.io/api/v1/crates/itoa/1.0.14/download"]
    assert refused[0]["asked"] == f"{registry.base}/https/crates.io/api/v1/crates/itoa/1.0.14/download"


def test_a_host_that_stays_down_is_a_network_failure(make_repo, tmp_path, registry) -> None:
    export, _ = released(make_repo, tmp_path)
    proc = check(export, registry, "--online", instead=f"{registry.base}/down/={TAG_URL}")
    assert proc.returncode == 3, proc.stdout
    assert (
        f"HTTP 502 after 3 tries: 1 URL(s) unreachable ({TAG_URL}; first in cargo_build_caller.nix:"
        in proc.stdout
    )
    assert sum(1 for _m, p, _a in registry.seen if p.startswith("/down/")) == 3  # retried, then given up
    proc = check(export, registry, "--online", instead=f"http://127.0.0.1:9/={TAG_URL}")
    assert proc.returncode == 3 and "1 URL(s) unreachable: " in proc.stdout


def test_online_download_hashes_each_file_as_nix_checks_it(make_repo, tmp_path, registry) -> None:
    """--online=download: the registry's real crates (flat sha256), the tag's tarball and fenix (NAR
    hash of the unpacked tree) are verified; a nixpkgs tarball that is not the pinned one is named."""
    export, tarball = released(make_repo, tmp_path)
    for name, version in (("anyhow", "1.0.96"), ("itoa", "1.0.14")):
        path = f"static.crates.io/crates/{name}/{name}-{version}.crate"
        registry.files[path] = registry_file(name, version).read_bytes()
    registry.files["github.com/acme/hello/archive/refs/tags/v0.1.0.tar.gz"] = tarball.read_bytes()
    fenix = need_shared("nix-eval", "fenix-6ed03ef4.tar.gz").read_bytes()
    registry.files[
        "github.com/nix-community/fenix/archive/6ed03ef4c8ec36d193c18e06b9ecddde78fb7e42.tar.gz"
    ] = fenix
    registry.files["github.com/NixOS/nixpkgs/archive/25.11.tar.gz"] = tarball.read_bytes()  # not nixpkgs
    build_rs = "github.com/nixcloud/build-rs-libnix/archive/8b5b8adad644a842429ca8fe060325630789ea5a.tar.gz"
    registry.files[build_rs] = tarball.read_bytes()  # not it either
    proc = check(export, registry, "--online=download")
    assert proc.returncode == 1, proc.stdout
    doc = {
        a["url"]: a
        for a in json.loads(check(export, registry, "--online=download", "--json").stdout)["online"]
    }
    verified = sorted(u for u, a in doc.items() if a["verified"])
    assert verified == sorted([
        "https://static.crates.io/crates/anyhow/anyhow-1.0.96.crate",
        "https://static.crates.io/crates/itoa/itoa-1.0.14.crate",
        TAG_URL,
        f"{FENIX}archive/6ed03ef4c8ec36d193c18e06b9ecddde78fb7e42.tar.gz",
    ])  # fmt: skip
    wrong = doc[f"{NIXPKGS}archive/25.11.tar.gz"]
    assert wrong["verified"] is False and wrong["error"].startswith(
        "hash mismatch: pinned sha256:1zn1lsafn62s"
    )
    assert "hash mismatch: pinned sha256:1zn1lsafn62s" in proc.stdout


def test_release_verify_remote_asks_for_the_crates(make_repo, tmp_path, registry) -> None:
    """--verify-remote checks what a consumer's build downloads first: the tag's tarball, and every crate."""
    repo, tarball = tagged_hello(make_repo, tmp_path)
    registry.files["github.com/acme/hello/archive/refs/tags/v0.1.0.tar.gz"] = tarball.read_bytes()
    env = {"LIBNIX_INSTEAD_OF": registry.instead_of()}
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--cargo", FAKE, "--verify-remote", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "crates verified: 2 .crate files reachable as nix's fetchurl asks" in proc.stderr
    assert ("HEAD", "/https/static.crates.io/crates/itoa/itoa-1.0.14.crate") in {
        (m, p) for m, p, _a in registry.seen
    }
    # the same release with a crate the registry refuses: nothing is written
    shutil.rmtree(repo / "libnix-0.1.0+v0.1.0")
    for leftover in repo.glob("libnix-0.1.0+v0.1.0.*"):
        leftover.unlink()
    (repo / "libnix.json").unlink()
    env["LIBNIX_INSTEAD_OF"] += f" {registry.base}/down/=https://static.crates.io/crates/itoa/"
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--cargo", FAKE, "--verify-remote", env=env)
    assert proc.returncode == 3, proc.stderr
    crate = "https://static.crates.io/crates/itoa/itoa-1.0.14.crate"
    assert proc.stderr.splitlines()[-1] == f"libnix: error: a consumer's build cannot fetch {crate}: HTTP 502"
    assert not (repo / "libnix-0.1.0+v0.1.0").exists()
