"""pytest's fixtures and hooks; the helpers they use, and the tests too, live in helpers.py. The referee for
every hash is the real nix (Debian's nix-bin); the forge is a real HTTP server on 127.0.0.1. In CI
`LIBNIX_REQUIRE_NIX=1` turns a missing nix into a failure, not a skip."""

from __future__ import annotations

import functools
import http.server
import importlib
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import (
    NIX28,
    REPO,
    Nix,
    QuietHandler,
    Referee,
    commit_all,
    forge_tarball,
    git,
    libnix,
    need_nix226,
    need_shared,
    need_tool,
    store,
)


@pytest.fixture(scope="session")
def nix() -> Nix:
    return Nix()


@pytest.fixture
def make_repo(tmp_path: Path):
    """A fresh git repository; returns its path."""
    counter = iter(range(1000))

    def make(name: str | None = None) -> Path:
        path = tmp_path / (name or f"repo{next(counter)}")
        path.mkdir()
        git(path, "init", "-q", "-b", "main")
        git(path, "config", "core.symlinks", "true")
        return path

    return make


@pytest.fixture
def http_dir(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 (fresh port) serving a directory: (base URL, directory)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def _serving(module: str) -> Iterator[object]:
    """A local server module's `start()`: its state while the test runs, then the server stopped."""
    server, state = importlib.import_module(module).start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def registry() -> Iterator[object]:
    """tests/registry_server.py: crates.io (403 to nix's agent), static.crates.io and other hosts."""
    yield from _serving("registry_server")


@pytest.fixture
def forge() -> Iterator[object]:
    """The local forge (tests/forge_server.py): GitHub, Gitea, GitLab and sourcehut on 127.0.0.1."""
    yield from _serving("forge_server")


@pytest.fixture(scope="session")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """../shared/nix-eval laid out (real lib with nix 2.8's polyfill, real fenix), the pinned fenix and
    build parser in the store, so that the callers' own fetchTarball pins resolve offline."""
    setup = need_shared("nix-eval", "setup.sh")
    dest = tmp_path_factory.mktemp("nix-eval")
    subprocess.run(["bash", str(setup), str(dest)], check=True, capture_output=True)
    for name in ("fenix-6ed03ef4.tar.gz", "build-parser-e2716ac2.tar.gz"):
        store(setup.parent / name)
    return dest


@pytest.fixture(scope="session")
def cargo_libnix_release(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A cargo (libnix) release made by libnix itself: the asset URL, its hash and root attribute."""
    base = tmp_path_factory.mktemp("cargo-libnix")
    repo = base / "cargo"
    shutil.copytree(REPO / "examples" / "hello", repo)
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo)
    git(repo, "tag", "v1")
    source = forge_tarball(repo, "v1", base / "cargo-v1.tar.gz", prefix="cargo-v1/")
    proc = libnix(
        "release", "-C", str(repo), "--tag", "v1", "--url", f"file://{source}", "--json",
        "--cargo", str(REPO / "tests" / "fake_cargo_libnix.py"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    return {
        "cargo_libnix_url": f"file://{repo / doc['asset']['name']}",
        "cargo_libnix_sha256": doc["asset"]["hash"]["nix32"],
        "cargo_libnix_attr": doc["attributes"][0],
    }


@pytest.fixture(params=["2.8", "2.26"], ids=["nix2.8", "nix2.26"])
def referee(request: pytest.FixtureRequest) -> Referee:
    if request.param == "2.8":
        need_tool("nix")
        return NIX28
    return need_nix226()


_SECOND: list[float] = []  # seconds spent in the tests of the second referee


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and ("nix2.26" in report.nodeid or "test_referees.py" in report.nodeid):
        _SECOND.append(report.duration)


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """What the second referee costs, printed at the end of every run (CI's budget is 15 minutes)."""
    if _SECOND:
        terminalreporter.write_line(
            f"second referee (nix 2.26): {len(_SECOND)} tests, {sum(_SECOND):.1f} s of test time"
        )


_SHIMS: dict[str, Path] = {}


@pytest.fixture
def referee_shim(referee: Referee, shim: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """../shared/nix-eval laid out for the referee: under nix 2.26 the REAL nixpkgs lib, without the
    readFileType polyfill nix 2.8 needs; the pinned fenix and build parser in that nix's store."""
    if referee.bin is None:
        return shim
    if referee.version not in _SHIMS:
        dest = tmp_path_factory.mktemp("nix-eval-226")
        shutil.copytree(shim, dest, dirs_exist_ok=True, symlinks=True)
        lib = dest / "nixpkgs-shim" / "lib"
        shutil.rmtree(lib)
        real = need_shared("nix-eval", "nixpkgs-lib.tar.gz")
        unpack = ["tar", "-xzf", str(real), "-C", str(dest / "nixpkgs-shim"), "--strip-components=1"]
        subprocess.run([*unpack, "nixpkgs-lib/lib"], check=True)
        assert "readFileType or" not in (lib / "filesystem.nix").read_text()
        for name in ("fenix-6ed03ef4.tar.gz", "build-parser-e2716ac2.tar.gz"):
            store(need_shared("nix-eval", name), referee)
        _SHIMS[referee.version] = dest
    return _SHIMS[referee.version]
