"""The command as a user runs it: exit codes, one-line errors, JSON, nothing written on failure."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from helpers import REPO, commit_all, git, libnix


def _one_line_error(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("libnix: error: ")
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    for needle in needles:
        assert needle in lines[0]


def test_help_and_version_do_not_import_heavy_modules() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from scaffold.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    for args in (['--help'], ['hash', '--help'], ['--version']):\n"
        "        try: main(args)\n"
        "        except SystemExit: pass\n"
        "heavy = [m for m in ('copier', 'git', 'requests', 'jinja2') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_version() -> None:
    proc = libnix("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("libnix ")


def test_usage_error_exits_2() -> None:
    assert libnix("hash", "--format", "hex", ".").returncode == 2
    assert libnix("hash", "--tag", "a", "--rev", "b").returncode == 2


@pytest.fixture
def tagged(make_repo) -> Path:
    repo = make_repo()
    (repo / "src").mkdir()
    (repo / "src" / "main.rs").write_text("fn main() {}\n")
    commit_all(repo)
    git(repo, "tag", "-a", "v1", "-m", "v1")
    return repo


def test_hash_tag_pays_only_for_what_it_uses(tagged: Path, tmp_path: Path, nix) -> None:
    """The fixed cost of `hash --tag` (benchmarks/hash.py times it against nix-prefetch-url; timing has
    no place in a test) rests on what it imports: none of these modules, each a few milliseconds of a
    run that nix finishes in about 30, and git started three times (archive and ls-tree side by side).
    The hash stays nix's."""
    code = (
        "import os, sys\n"
        "before = set(sys.modules)\n"
        "spawned = []\n"
        "real = os.posix_spawnp\n"
        "os.posix_spawnp = lambda *a, **k: spawned.append(a[1]) or real(*a, **k)\n"
        "from scaffold.cli import main\n"
        "code = main(['hash', '--tag', 'v1', '-C', sys.argv[1]])\n"
        "costly = ('dataclasses', 'inspect', 'typing', 'subprocess', 'threading', 'tempfile', 'shutil',\n"
        "          'random', 'hashlib', '_hashlib', 'lzma', 'bz2', 'zipfile', 'json', 'urllib')\n"
        "print([m for m in costly if m in sys.modules and m not in before], file=sys.stderr)\n"
        "import json\n"
        "print(json.dumps(spawned), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tagged)], cwd=REPO, capture_output=True, text=True, check=True
    )
    imported, spawned = proc.stderr.strip().splitlines()
    assert imported == "[]"
    commands = [
        next(a for a in argv if a in ("rev-parse", "archive", "ls-tree")) for argv in json.loads(spawned)
    ]
    assert commands == ["rev-parse", "archive", "ls-tree"]
    tarball = tmp_path / "v1.tar"
    git(tagged, "archive", "--prefix=v1/", "-o", str(tarball), "v1")
    assert proc.stdout.strip() == nix.prefetch_unpack(tarball)


def test_formats_and_json_agree(tagged: Path, tmp_path: Path, nix) -> None:
    doc = json.loads(libnix("hash", "--tag", "v1", "-C", str(tagged), "--json").stdout)
    for fmt in ("nix32", "sri", "base16", "prefixed"):
        proc = libnix("hash", "--tag", "v1", "-C", str(tagged), "--format", fmt)
        assert proc.returncode == 0 and proc.stdout.strip() == doc[fmt]
    assert doc["commit"] == git(tagged, "rev-parse", "v1^{commit}")
    assert doc["files"] == 1 and doc["kind"] == "git"


def test_expect(tagged: Path) -> None:
    good = libnix("hash", "--tag", "v1", "-C", str(tagged), "--format", "sri").stdout.strip()
    assert libnix("hash", "--tag", "v1", "-C", str(tagged), "--expect", good).returncode == 0
    other = "sha256:" + "1" * 52
    proc = libnix("hash", "--tag", "v1", "-C", str(tagged), "--expect", other)
    _one_line_error(proc, 1, "mismatch", other)
    _one_line_error(libnix("hash", "--tag", "v1", "-C", str(tagged), "--expect", "nope"), 1, "malformed")


def test_not_a_git_repo(tmp_path: Path) -> None:
    _one_line_error(libnix("hash", "--tag", "v1", "-C", str(tmp_path)), 1, "not inside a git repository")


def test_unknown_tag_and_rev(tagged: Path) -> None:
    _one_line_error(libnix("hash", "--tag", "v9", "-C", str(tagged)), 1, "no tag 'v9'")
    _one_line_error(libnix("hash", "--rev", "deadbeef", "-C", str(tagged)), 1, "no commit")


def test_missing_path(tmp_path: Path) -> None:
    _one_line_error(libnix("hash", str(tmp_path / "nope.tar.gz")), 1, "no such file")


def test_corrupt_and_truncated_tarballs(tmp_path: Path, tagged: Path) -> None:
    good = tmp_path / "good.tar.gz"
    with open(good, "wb") as fh:
        subprocess.run(["git", "archive", "--format=tar.gz", "--prefix=p/", "v1"], cwd=tagged, stdout=fh)
    data = good.read_bytes()
    (tmp_path / "trunc.tar.gz").write_bytes(data[: len(data) // 2])
    _one_line_error(libnix("hash", str(tmp_path / "trunc.tar.gz")), 1, "corrupt or truncated")
    raw = bytearray(gzip.decompress(data))
    raw[1024 + 3] ^= 0xFF  # blocks 0-1: the pax global header; block 2: the first member header
    (tmp_path / "bad.tar").write_bytes(bytes(raw))
    _one_line_error(libnix("hash", str(tmp_path / "bad.tar")), 1, "corrupt")


def test_unsupported_archive(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n" * 200)
    _one_line_error(libnix("hash", str(tmp_path / "notes.txt")), 1, "not a supported archive")


def test_device_entry_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dev.tar"
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("p/fifo")
        info.type = tarfile.FIFOTYPE
        tar.addfile(info)
    _one_line_error(libnix("hash", str(path)), 1, "fifo")


def test_http_errors_and_unreachable(http_dir) -> None:
    base, _ = http_dir
    _one_line_error(libnix("hash", f"{base}/missing.tar.gz"), 1, "HTTP 404")
    # a port nobody listens on: the server above is gone once this socket is closed
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _one_line_error(libnix("hash", f"http://127.0.0.1:{port}/x.tar.gz"), 3, "cannot reach")
    _one_line_error(libnix("hash", "ftp://example.invalid/x.tar.gz"), 1, "unsupported URL scheme")


def test_progress_bar_draws_only_on_a_terminal() -> None:
    import io

    from scaffold.progress import Bar

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = Bar("downloading", stream)
        bar(5 << 20, 10 << 20)
        bar(10 << 20, 10 << 20)
        bar.close()
    assert "10.0 MiB/10.0 MiB" in tty.getvalue() and "#" * 30 in tty.getvalue()
    assert pipe.getvalue() == ""
