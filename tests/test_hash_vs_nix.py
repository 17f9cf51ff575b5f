"""`libnix hash` must agree with nix byte for byte. Every case builds a real tree, tarball or git repo and
asks nix itself (`nix-hash`, `nix-prefetch-url --unpack`, `builtins.fetchTarball`) for the answer."""

from __future__ import annotations

import functools
import gzip
import http.server
import io
import json
import lzma
import os
import random
import shutil
import subprocess
import tarfile
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import NIX_ENV, commit_all, forge_tarball, git, libnix

from scaffold.hashing.sources import HashOptions, compute

Builder = Callable[[Path], None]


def _write(path: Path, data: bytes | str = b"x", mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    path.chmod(mode)


def exec_bits(root: Path) -> None:
    _write(root / "run.sh", "#!/bin/sh\necho hi\n", 0o755)
    _write(root / "data.txt", "plain\n", 0o644)
    _write(root / "group-exec-only", "g\n", 0o654)  # only the owner bit counts in a NAR


def symlinks(root: Path) -> None:
    _write(root / "target.txt", "t\n")
    (root / "dir").mkdir()
    _write(root / "dir" / "inner", "i\n")
    (root / "to-file").symlink_to("target.txt")
    (root / "to-dir").symlink_to("dir")
    (root / "dangling").symlink_to("does/not/exist")
    (root / "absolute").symlink_to("/etc/hostname")


def empty_file(root: Path) -> None:
    _write(root / "empty", b"")
    _write(root / "seven", b"1234567")  # padding to 8
    _write(root / "eight", b"12345678")


def deep(root: Path) -> None:
    path = root
    for i in range(40):
        path = path / f"d{i}"
    _write(path / "leaf", "deep\n")


def names(root: Path) -> None:
    # byte-wise order differs from case-insensitive and from UTF-16 order (U+E000 vs U+1D538)
    for name in [
        "Zebra",
        "apple",
        "B",
        "_under",
        "-dash",
        ".hidden",
        "a.b.c",
        "mañana",
        "日本語",
        "\ue000",
        "\U0001d538",
        "x y",
        "a+b",
    ]:
        _write(root / name, name)


def git_order_clash(root: Path) -> None:
    # git sorts the directory `foo` as `foo/`: after `foo.txt` and `foo-bar`; NAR sorts it before
    _write(root / "foo.txt", "1")
    _write(root / "foo-bar", "2")
    _write(root / "foo" / "x", "3")
    _write(root / "foo" / "y.rs", "4")
    _write(root / "foo!" / "z", "5")
    _write(root / "crates" / "my-core" / "src" / "lib.rs", "6")
    _write(root / "crates" / "my" / "lib.rs", "7")
    _write(root / "crates" / "my.rs", "8")


def long_paths(root: Path) -> None:
    long_dir = "/".join(["a-rather-long-directory-name-" + str(i) for i in range(6)])
    _write(root / long_dir / ("file-" + "n" * 150 + ".txt"), "long\n")
    _write(root / ("x" * 200), "wide\n")


def large_file(root: Path) -> None:
    rng = random.Random(7)
    _write(root / "big.bin", rng.randbytes(9 * 1024 * 1024 + 3))
    _write(root / "after", "after\n")


TREES: dict[str, Builder] = {
    "exec-bits": exec_bits,
    "symlinks": symlinks,
    "empty-file": empty_file,
    "deep": deep,
    "names": names,
    "git-order-clash": git_order_clash,
    "long-paths": long_paths,
    "large-file": large_file,
}


@pytest.fixture(params=sorted(TREES))
def tree(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    TREES[request.param](root)
    return root


def test_directory_matches_nix_hash(tree: Path, nix) -> None:
    assert compute(HashOptions(source=str(tree))).sha256.nix32 == nix.hash_dir(tree)


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
@pytest.mark.parametrize("compression", ["gz", "bz2", "xz", ""])
def test_tarball_matches_prefetch_unpack(tree: Path, tmp_path: Path, nix, fmt: int, compression: str) -> None:
    ext = f".tar.{compression}" if compression else ".tar"
    tarball = tmp_path / f"t{ext}"
    with tarfile.open(tarball, f"w:{compression}", format=fmt) as tar:
        tar.add(tree, arcname="project-1.0")
    ours = compute(HashOptions(source=str(tarball))).sha256.nix32
    assert ours == nix.prefetch_unpack(tarball) == nix.hash_dir(tree)


def test_git_tag_matches_forge_tarball(tree: Path, make_repo, tmp_path: Path, nix) -> None:
    repo = make_repo()
    shutil.copytree(tree, repo, symlinks=True, dirs_exist_ok=True)
    commit_all(repo)
    git(repo, "tag", "-a", "v1.0", "-m", "v1.0")
    tarball = forge_tarball(repo, "v1.0", tmp_path / "forge.tar.gz")
    result = compute(HashOptions(tag="v1.0", repo=str(repo)))
    assert result.sha256.nix32 == nix.prefetch_unpack(tarball)
    assert result.commit == git(repo, "rev-parse", "HEAD")


def test_fetch_tarball_accepts_our_hash(tmp_path: Path, make_repo, nix) -> None:
    repo = make_repo()
    git_order_clash(repo)
    symlinks(repo)
    commit_all(repo)
    git(repo, "tag", "v2")  # lightweight
    tarball = forge_tarball(repo, "v2", tmp_path / "v2.tar.gz")
    ours = compute(HashOptions(tag="v2", repo=str(repo))).sha256
    ok = nix.fetch_tarball(f"file://{tarball}", ours.prefixed)
    assert ok.returncode == 0, ok.stderr
    wrong = nix.fetch_tarball(f"file://{tarball}", "sha256:" + "0" * 52)
    assert wrong.returncode != 0 and ours.nix32 in wrong.stderr


def _tar_with(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode, format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return path


def _info(name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o644, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.linkname = link
    info.mtime = 1_700_000_000
    return info


def test_empty_directory_and_hard_links_in_tarball(tmp_path: Path, nix) -> None:
    tarball = _tar_with(
        tmp_path / "t.tar.gz",
        [
            (_info("p/", tarfile.DIRTYPE, 0o755), None),
            (_info("p/empty-dir/", tarfile.DIRTYPE, 0o755), None),
            (_info("p/orig", mode=0o755), b"shared content\n"),
            (_info("p/z/hard", tarfile.LNKTYPE, link="p/orig"), None),
            (_info("p/a-hard", tarfile.LNKTYPE, link="p/orig"), None),
        ],
    )
    assert compute(HashOptions(source=str(tarball))).sha256.nix32 == nix.prefetch_unpack(tarball)


def test_hard_link_to_a_file_already_hashed(tmp_path: Path, nix) -> None:
    # `a` streams straight into the hash before the link to it arrives: the builder must re-read
    tarball = _tar_with(
        tmp_path / "t.tar.xz",
        [
            (_info("p/a"), b"A" * 100_000),
            (_info("p/b", tarfile.LNKTYPE, link="p/a"), None),
        ],
        "w:xz",
    )
    assert compute(HashOptions(source=str(tarball))).sha256.nix32 == nix.prefetch_unpack(tarball)


def test_unsorted_tarball_with_implicit_dirs_and_duplicates(tmp_path: Path, nix) -> None:
    tarball = _tar_with(
        tmp_path / "t.tar",
        [
            (_info("./p/zz/last"), b"z"),
            (_info("./p/b.txt"), b"b"),
            (_info("./p/a/deep/file", mode=0o700), b"a"),
            (_info("./p/b"), b"dir-named-file"),
            (_info("./p/zz/first"), b"f"),
            (_info("./p/b.txt"), b"later wins"),
        ],
        "w",
    )
    assert compute(HashOptions(source=str(tarball))).sha256.nix32 == nix.prefetch_unpack(tarball)


def test_single_top_level_file(tmp_path: Path, nix) -> None:
    tarball = _tar_with(tmp_path / "one.tar.gz", [(_info("only-file", mode=0o755), b"#!/bin/sh\n")])
    ours = compute(HashOptions(source=str(tarball))).sha256
    assert ours.nix32 == nix.prefetch_unpack(tarball)
    assert nix.fetch_tarball(f"file://{tarball}", ours.prefixed).returncode == 0


def test_several_top_level_entries_are_refused_like_fetch_tarball(tmp_path: Path, nix) -> None:
    tarball = _tar_with(tmp_path / "two.tar.gz", [(_info("a"), b"a"), (_info("b/c"), b"c")])
    refused = nix.fetch_tarball(f"file://{tarball}", "sha256:" + "0" * 52)
    assert "unexpected number of top-level files" in refused.stderr
    proc = libnix("hash", str(tarball))
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0
    assert "top-level" in proc.stderr and "fetchTarball" in proc.stderr


def test_zip_in_reverse_order(tmp_path: Path, tree: Path, nix) -> None:
    if any(not p.name.isascii() for p in tree.rglob("*")):
        # nix 2.8 (Debian's) refuses any zip member name that is not ASCII: no referee for this tree
        return
    path = tmp_path / "t.zip"
    entries = sorted(tree.rglob("*"), reverse=True)  # a zip's order is arbitrary: make it hostile
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for full in entries:
            name = str(Path("project-1.0") / full.relative_to(tree))
            st = full.lstat()
            if full.is_symlink():
                info = zipfile.ZipInfo(name)
                info.external_attr = 0o120777 << 16
                zf.writestr(info, os.readlink(full))
            elif full.is_dir():
                zf.writestr(zipfile.ZipInfo(name + "/"), b"")
            else:
                info = zipfile.ZipInfo(name)
                info.external_attr = (0o100000 | (st.st_mode & 0o777)) << 16
                zf.writestr(info, full.read_bytes())
    assert compute(HashOptions(source=str(path))).sha256.nix32 == nix.prefetch_unpack(path)


def test_submodule_is_an_empty_directory(make_repo, tmp_path: Path, nix) -> None:
    sub = make_repo("sub")
    _write(sub / "lib.rs", "pub fn f() {}\n")
    commit_all(sub)
    repo = make_repo("super")
    _write(repo / "Cargo.toml", "[package]\nname = 'x'\n")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "vendor/sub")
    commit_all(repo)
    git(repo, "tag", "-a", "v1", "-m", "v1")
    tarball = forge_tarball(repo, "v1", tmp_path / "v1.tar.gz")
    assert compute(HashOptions(tag="v1", repo=str(repo))).sha256.nix32 == nix.prefetch_unpack(tarball)


def test_export_ignore_and_export_subst(make_repo, tmp_path: Path, nix) -> None:
    repo = make_repo()
    _write(repo / ".gitattributes", "/secret export-ignore\nversion.txt export-subst\n*.md export-ignore\n")
    _write(repo / "secret" / "key", "k")
    _write(repo / "README.md", "r")
    _write(repo / "version.txt", "commit $Format:%H$ at $Format:%ci$\n")
    _write(repo / "src" / "main.rs", "fn main() {}\n")
    head = commit_all(repo)
    git(repo, "tag", "-a", "v3", "-m", "v3")
    tarball = forge_tarball(repo, "v3", tmp_path / "v3.tar.gz")
    result = compute(HashOptions(tag="v3", repo=str(repo)))
    assert result.sha256.nix32 == nix.prefetch_unpack(tarball)
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
        version = tar.extractfile("project-1.0/version.txt").read().decode()  # type: ignore[union-attr]
    assert not any("secret" in n or n.endswith(".md") for n in names)
    assert head in version


def test_autocrlf_in_user_config_does_not_change_the_hash(make_repo, tmp_path: Path, nix) -> None:
    repo = make_repo()
    _write(repo / "a.txt", "line1\nline2\n")
    commit_all(repo)
    git(repo, "tag", "v1")
    tarball = forge_tarball(repo, "v1", tmp_path / "v1.tar.gz")
    git(repo, "config", "core.autocrlf", "true")
    assert compute(HashOptions(tag="v1", repo=str(repo))).sha256.nix32 == nix.prefetch_unpack(tarball)


def test_revision_and_empty_tree(make_repo, tmp_path: Path, nix) -> None:
    repo = make_repo()
    commit_all(repo, "empty")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert compute(HashOptions(rev="HEAD", repo=str(repo))).sha256.nix32 == nix.hash_dir(empty)


def test_url_download_matches(tmp_path: Path, http_dir, make_repo, nix) -> None:
    base, www = http_dir
    repo = make_repo()
    git_order_clash(repo)
    commit_all(repo)
    git(repo, "tag", "v1.0+build")
    forge_tarball(repo, "v1.0+build", www / "v1.0+build.tar.gz")
    proc = libnix("hash", f"{base}/v1.0%2Bbuild.tar.gz", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["nix32"] == nix.prefetch_unpack(www / "v1.0+build.tar.gz")
    assert doc["kind"] == "url" and doc["files"] == 8


def test_repeated_hash_never_fails_on_gits_trailing_padding(make_repo, tmp_path: Path, nix) -> None:
    """Issue 11's random `git archive … failed: -13`. git ends a tar with zero records and, when its
    10 KiB block had room for only one, writes a second block of zeros; a reader that stopped at the
    first zero record and closed the pipe killed git with SIGPIPE whenever that second write came
    later. This tree puts the end exactly there (1 KiB pax header + 512 header + 8 KiB = 9.5 KiB), and is
    hashed many times, as is a larger tree shaped like a real project."""
    edge = make_repo("edge")
    _write(edge / "f.rs", random.Random(1).randbytes(8192))
    commit_all(edge)
    git(edge, "tag", "v1")
    archive = subprocess.run(["git", "-C", str(edge), "archive", "--format=tar", "v1"], capture_output=True)
    assert len(archive.stdout) == 20480 and archive.stdout[9728:] == bytes(20480 - 9728)  # two blocks
    expected = nix.prefetch_unpack(forge_tarball(edge, "v1", tmp_path / "edge.tar.gz"))
    for _ in range(150):
        assert compute(HashOptions(tag="v1", repo=str(edge))).sha256.nix32 == expected

    repo = make_repo("large")
    rng = random.Random(11)
    for i in range(1500):
        size = rng.choice((0, 7, 100, 511, 512, 513, 4096, 10_000, 65_536))
        _write(
            repo / f"crates/c{i % 30}/src/m{i // 30}/f{i}.rs", rng.randbytes(size), rng.choice((0o644, 0o755))
        )
    commit_all(repo)
    git(repo, "tag", "v1")
    expected = nix.prefetch_unpack(forge_tarball(repo, "v1", tmp_path / "v1.tar.gz"))
    for _ in range(10):
        assert compute(HashOptions(tag="v1", repo=str(repo))).sha256.nix32 == expected


def test_a_missing_git_object_is_reported_in_gits_words(make_repo) -> None:
    repo = make_repo()
    _write(repo / "a.txt", "a\n")
    _write(repo / "b.txt", "lost\n")
    commit_all(repo)
    git(repo, "tag", "v1")
    blob = git(repo, "rev-parse", "HEAD:b.txt")
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    proc = libnix("hash", "--tag", "v1", "-C", str(repo))
    assert proc.returncode == 3 and proc.stderr.count("\n") == 1
    assert f"git archive v1 failed: error: cannot read '{blob}'" in proc.stderr


NO_MACHINE = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_NO_REPLACE_OBJECTS": "1"}


def _forge_hash(repo: Path, tmp_path: Path, nix) -> str:
    """What the forge serves: `git archive` in a bare clone of what was pushed (no local config, no
    info/attributes, no replace refs, no worktree), by a git with no user config."""
    bare = tmp_path / "forge.git"
    if not bare.exists():
        subprocess.run(
            ["git", "clone", "-q", "--bare", str(repo), str(bare)],
            check=True,
            env={**os.environ, **NO_MACHINE},
        )
    tarball = tmp_path / "forge.tar.gz"
    with open(tarball, "wb") as fh:
        subprocess.run(["git", "-C", str(bare), "archive", "--format=tar.gz", "--prefix=p/", "v1"],
                       check=True, stdout=fh, env={**os.environ, **NO_MACHINE})  # fmt: skip
    return nix.prefetch_unpack(tarball)


def _local_hash(repo: Path, tmp_path: Path, nix, env: dict[str, str] | None = None) -> str:
    """What a plain `git archive` in the checkout makes, with this machine's settings."""
    tarball = tmp_path / "local.tar.gz"
    with open(tarball, "wb") as fh:
        subprocess.run(["git", "-C", str(repo), "archive", "--format=tar.gz", "--prefix=p/", "v1"],
                       check=True, stdout=fh, env={**os.environ, **(env or {})})  # fmt: skip
    return nix.prefetch_unpack(tarball)


@pytest.mark.parametrize(
    "setting",
    ["smudge filter", "info/attributes", "core.attributesFile", "replace object", "uncommitted mailmap",
     "config in the environment"],
)  # fmt: skip
def test_this_machines_git_settings_do_not_change_the_hash(
    setting: str, make_repo, tmp_path: Path, nix
) -> None:
    """The forge's tarball is `git archive` of the pushed tree with only its own .gitattributes: none of
    this machine's git settings may reach libnix's hash (each one does reach a plain local git archive)."""
    repo = make_repo()
    _write(repo / "notes.txt", "hello world\n")
    _write(repo / "README.md", "# readme\n")
    _write(repo / "VERSION", "$Format:%aN$\n")
    _write(repo / ".gitattributes", "*.txt filter=rot13\nVERSION export-subst\n")
    commit_all(repo)
    git(repo, "tag", "v1")
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    if setting == "smudge filter":
        git(repo, "config", "filter.rot13.smudge", "tr a-z n-za-m")
    elif setting == "info/attributes":
        _write(repo / ".git" / "info" / "attributes", "README.md export-ignore\n")
    elif setting == "core.attributesFile":
        _write(home / "attrs", "*.md export-ignore\n")
        _write(home / ".gitconfig", f"[core]\n\tattributesFile = {home / 'attrs'}\n")
    elif setting == "replace object":
        other = subprocess.run(["git", "-C", str(repo), "hash-object", "-w", "--stdin"], input=b"replaced\n",
                               capture_output=True, check=True).stdout.decode().strip()  # fmt: skip
        git(repo, "replace", git(repo, "rev-parse", "HEAD:README.md"), other)
    elif setting == "uncommitted mailmap":
        _write(repo / ".mailmap", "Someone Else <test@example.invalid>\n")
    elif setting == "config in the environment":  # as a parent `git -c mailmap.file=…` passes it on
        _write(home / "mailmap", "Someone Else <test@example.invalid>\n")
        env |= {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": "mailmap.file",
            "GIT_CONFIG_VALUE_0": str(home / "mailmap"),
        }
    forge = _forge_hash(repo, tmp_path, nix)
    assert _local_hash(repo, tmp_path, nix, env) != forge  # the setting matters to git archive here
    proc = libnix("hash", "--tag", "v1", "-C", str(repo), env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == forge


def test_a_sha256_repository(tmp_path: Path, nix) -> None:
    """A repository of SHA-256 objects (Forgejo and Gitea host them): git archive needs a view of that
    format; the work tree's lookup and a bare repository's both find it."""
    repo = tmp_path / "s256"
    git(tmp_path, "init", "-q", "--object-format=sha256", "-b", "main", str(repo))
    _write(repo / "src" / "main.rs", "fn main() {}\n")
    _write(repo / "Cargo.toml", '[package]\nname = "s"\n')
    commit_all(repo)
    git(repo, "tag", "v1")
    assert len(git(repo, "rev-parse", "v1")) == 64
    expected = nix.prefetch_unpack(forge_tarball(repo, "v1", tmp_path / "v1.tar.gz"))
    for where in (repo, repo / ".git"):
        proc = libnix("hash", "--tag", "v1", "-C", str(where))
        assert proc.returncode == 0 and proc.stdout.strip() == expected, proc.stderr


def test_bare_repositories_tags_of_trees_and_other_owners(make_repo, tmp_path: Path, nix) -> None:
    repo = make_repo()
    _write(repo / "a.txt", "a\n")
    commit_all(repo)
    git(repo, "tag", "v1")
    git(repo, "tag", "of-a-tree", "HEAD^{tree}")
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    expected = nix.prefetch_unpack(forge_tarball(repo, "v1", tmp_path / "v1.tar.gz"))
    shared = tmp_path / "shared"  # objects borrowed from the original through alternates
    git(tmp_path, "clone", "-q", "--shared", str(repo), str(shared))
    for where in (bare, repo / ".git", shared):  # a bare repository, a .git directory, a --shared clone
        proc = libnix("hash", "--tag", "v1", "-C", str(where))
        assert proc.returncode == 0 and proc.stdout.strip() == expected, proc.stderr
    tree = libnix("hash", "--tag", "of-a-tree", "-C", str(repo))
    assert tree.returncode == 1 and "points to a tree, not a commit" in tree.stderr
    # a repository owned by another user: git's own reason, not "not inside a git repository"
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_TEST_ASSUME_DIFFERENT_OWNER": "1"}
    other = libnix("hash", "--tag", "v1", "-C", str(repo), env=env)
    assert other.returncode == 1 and "dubious ownership" in other.stderr and "safe.directory" in other.stderr


class _Encoded(http.server.SimpleHTTPRequestHandler):
    """Serves FILE.tar as `Content-Encoding: gzip` (Content-Length counts the encoded bytes)."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = Path(self.directory) / self.path.lstrip("/")
        body = gzip.compress(path.read_bytes()) if path.suffix == ".tar" else path.read_bytes()
        self.send_response(200)
        if path.suffix == ".tar":
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Type", "text/html" if path.suffix == ".html" else "application/x-tar")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_urls_with_content_encoding_and_web_pages(tree: Path, tmp_path: Path, nix) -> None:
    www = tmp_path / "www"
    www.mkdir()
    with tarfile.open(www / "src.tar", "w") as tar:
        tar.add(tree, arcname="src")
    (www / "login.html").write_text("<!DOCTYPE html><html><body>Sign in</body></html>\n")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Encoded, directory=str(www))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        proc = libnix("hash", f"{base}/src.tar")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == nix.prefetch_unpack(www / "src.tar")
        page = libnix("hash", f"{base}/login.html")
        assert page.returncode == 1 and f"{base}/login.html is a web page" in page.stderr
        assert "libnix-download-" not in page.stderr
    finally:
        server.shutdown()
        server.server_close()


def test_a_very_deep_tree_and_names_that_break_lines(tmp_path: Path, nix) -> None:
    deep = tmp_path / "deep"
    deep.mkdir()
    fd = os.open(deep, os.O_RDONLY)
    for _ in range(1100):  # relative to a directory descriptor: no path grows past PATH_MAX here
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    leaf = os.open("leaf", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(leaf, b"deep\n")
    os.close(leaf)
    os.close(fd)
    try:
        proc = libnix("hash", str(deep))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == nix.hash_dir(deep)
    finally:  # pytest's own clean-up of old runs recurses: leave no tree that deep behind
        subprocess.run(["rm", "-rf", str(deep)], check=True)
    odd = tmp_path / "odd.tar"
    with tarfile.open(odd, "w") as tar:
        info = tarfile.TarInfo("top/a\nb\x1b[31m")
        info.type = tarfile.CHRTYPE
        tar.addfile(info)
    bad = libnix("hash", str(odd))
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    assert "a\\nb\\x1b[31m" in bad.stderr and "\x1b" not in bad.stderr


def test_zstd_and_legacy_lzma_tarballs_and_a_truncated_xz(tree: Path, tmp_path: Path, nix) -> None:
    """.tar.zst and .tar.lzma, which nix (libarchive) unpacks, hash as nix hashes them; a .tar.xz cut
    short after its last tar block (the stream footer missing) is refused, as nix refuses it."""
    import zstandard

    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w") as tar:
        tar.add(tree, arcname="src")
    data = plain.getvalue()
    for name, packed in (
        ("src.tar.zst", zstandard.ZstdCompressor().compress(data)),
        ("src.tar.lzma", lzma.compress(data, format=lzma.FORMAT_ALONE)),
    ):
        path = tmp_path / name
        path.write_bytes(packed)
        proc = libnix("hash", str(path))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == nix.prefetch_unpack(path), name
    # a small tar.xz without its 12-byte stream footer: nix's libarchive decodes it whole, meets the cut
    # and refuses it (on a large one it may stop reading at the tar's end and not notice); libnix
    # always reads an xz stream to its footer
    small = io.BytesIO()
    with tarfile.open(fileobj=small, mode="w") as tar:
        info = tarfile.TarInfo("top/a.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"a\n\n"))
    cut = tmp_path / "cut.tar.xz"
    cut.write_bytes(lzma.compress(small.getvalue())[:-12])
    refused = subprocess.run(["nix-prefetch-url", "--unpack", f"file://{cut}"], capture_output=True)
    assert refused.returncode != 0  # nix's verdict
    proc = libnix("hash", str(cut))
    assert proc.returncode == 1 and "corrupt or truncated" in proc.stderr


def test_zips_from_info_zip_and_from_windows(tmp_path: Path, nix) -> None:
    """Info-ZIP's zip stores UTF-8 names without the UTF-8 flag (Python reads them as cp437); a zip made
    on MS-DOS/Windows (creator system 0) has no unix mode bits: libarchive, and so nix, keeps the stored
    name bytes and makes no file executable there."""
    src = tmp_path / "src"
    (src / "top").mkdir(parents=True)
    (src / "top" / "café.txt").write_text("x\n")
    (src / "top" / "run.sh").write_text("#!/bin/sh\n")
    (src / "top" / "run.sh").chmod(0o755)
    infozip = tmp_path / "infozip.zip"
    subprocess.run(
        ["zip", "-qr", str(infozip), "top"], cwd=src, check=True, env={**os.environ, "LC_ALL": "C.UTF-8"}
    )
    assert not zipfile.ZipFile(infozip).getinfo("top/run.sh").flag_bits & 0x800
    dos = tmp_path / "dos.zip"
    with zipfile.ZipFile(dos, "w") as zf:
        for name, data, mode in (
            ("top/run.sh", b"#!/bin/sh\n", 0o100755),
            ("top/dir\\file.txt", b"x\n", 0o100644),
        ):
            info = zipfile.ZipInfo(name)
            info.create_system = 0
            info.external_attr = mode << 16
            zf.writestr(info, data)
    for archive in (infozip, dos):
        proc = libnix("hash", str(archive))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == nix.prefetch_unpack(archive), archive.name


def _tar_of(path: Path, entries: list[tuple[str, bytes, bytes, str]]) -> Path:
    """A tar of (name, type, data, link) entries, written as they come (Python's tarfile, GNU format)."""
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tar:
        for name, kind, data, link in entries:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.size = kind, link, len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return path


EDGE_TARS = {  # nix's verdict, then what the tar holds
    "absolute member paths": ("accepts", [("/top/a", tarfile.REGTYPE, b"a\n", "")]),
    "a hard link to a symlink": ("accepts", [("top/s", tarfile.SYMTYPE, b"", "target"),
                                             ("top/h", tarfile.LNKTYPE, b"", "top/s")]),
    "an empty directory replaced by a file": ("accepts", [("top/d", tarfile.DIRTYPE, b"", ""),
                                                           ("top/d", tarfile.REGTYPE, b"f", "")]),
    # in the streaming pass top/d is emitted (empty) before top/e arrives: still only an empty directory
    "an emitted empty directory replaced by a file": ("accepts", [("top/d", tarfile.DIRTYPE, b"", ""),
                                                                   ("top/e", tarfile.REGTYPE, b"e", ""),
                                                                   ("top/d", tarfile.REGTYPE, b"f", "")]),
    "a directory with entries replaced by a file": ("refuses", [("top/d", tarfile.DIRTYPE, b"", ""),
                                                                 ("top/d/x", tarfile.REGTYPE, b"x", ""),
                                                                 ("top/d", tarfile.REGTYPE, b"f", "")]),
    "an entry through a symlink": ("refuses", [("top/d", tarfile.DIRTYPE, b"", ""),
                                               ("top/l", tarfile.SYMTYPE, b"", "/etc"),
                                               ("top/l/x", tarfile.REGTYPE, b"x", "")]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(EDGE_TARS))
def test_tars_nix_accepts_or_refuses(case: str, tmp_path: Path, nix) -> None:
    verdict, entries = EDGE_TARS[case]
    tar = _tar_of(tmp_path / "edge.tar", entries)
    by_nix = subprocess.run(["nix-prefetch-url", "--unpack", f"file://{tar}"], capture_output=True, text=True)
    assert (by_nix.returncode == 0) == (verdict == "accepts"), by_nix.stderr
    proc = libnix("hash", str(tar))
    if verdict == "accepts":
        assert proc.returncode == 0 and proc.stdout.strip() == by_nix.stdout.strip(), proc.stderr
    else:
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "nix refuses" in proc.stderr


def _rechecksum(header: bytearray, signed: bool) -> None:
    header[148:156] = b" " * 8
    total = sum((b - 256 if signed and b > 127 else b) for b in header[:512])
    header[148:156] = b"%06o\0 " % total


def test_old_tar_dialects_and_self_extracting_zips(tmp_path: Path, nix) -> None:
    """Checksums over signed bytes (old tars), Solaris' `X` extended header, a zip behind a program:
    nix unpacks each, and libnix hashes each as nix does."""
    signed = io.BytesIO()
    with tarfile.open(fileobj=signed, mode="w", format=tarfile.USTAR_FORMAT, encoding="latin-1") as tar:
        info = tarfile.TarInfo("top/caf\xe9")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"a\n"))
    data = bytearray(signed.getvalue())
    _rechecksum(data, signed=True)
    (tmp_path / "signed.tar").write_bytes(bytes(data))
    solaris = io.BytesIO()
    with tarfile.open(fileobj=solaris, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("top/" + "long" * 40)
        info.size = 2
        tar.addfile(info, io.BytesIO(b"a\n"))
    data = bytearray(solaris.getvalue())
    assert data[156:157] == b"x"
    data[156:157] = b"X"
    _rechecksum(data, signed=False)
    (tmp_path / "solaris.tar").write_bytes(bytes(data))
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("top/a.txt", b"a\n")
    (tmp_path / "sfx.zip").write_bytes(b"#!/bin/sh\necho self-extracting\nexit 0\n" + inner.getvalue())
    for name in ("signed.tar", "solaris.tar", "sfx.zip"):
        proc = libnix("hash", str(tmp_path / name))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == nix.prefetch_unpack(tmp_path / name), name


def test_a_symlink_to_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f").write_text("x\n")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    proc = libnix("hash", str(tmp_path / "link"))
    assert (
        proc.returncode == 1
        and "symlink to a directory" in proc.stderr
        and str(tmp_path / "real") in proc.stderr
    )


@pytest.mark.parametrize(
    "flags", [["--format=gnu"], *(["--format=pax", f"--sparse-version={v}"] for v in ("0.0", "0.1", "1.0"))]
)
def test_gnu_sparse_files_expand_as_nix_expands_them(flags: list[str], tmp_path: Path, nix) -> None:
    """GNU tar --sparse stores only a sparse file's data regions (old GNU `S` headers, pax formats 0.0,
    0.1 and 1.0): nix writes the holes as zeros, and so the hash holds them."""
    top = tmp_path / "src" / "top"
    top.mkdir(parents=True)
    with open(top / "sparse.bin", "wb") as fh:
        for offset in (0, 70_000, 300_000, 1_000_000):
            fh.seek(offset)
            fh.write(b"data@%d\n" % offset * 50)
        fh.truncate(1_500_000)
    (top / "small.txt").write_text("small\n")
    tar = tmp_path / "sparse.tar"
    subprocess.run(["tar", "--sparse", *flags, "-cf", str(tar), "top"], cwd=tmp_path / "src", check=True)
    assert tar.stat().st_size < 100_000  # stored sparse, not expanded
    proc = libnix("hash", str(tar))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == nix.prefetch_unpack(tar) == nix.hash_dir(top)


def _raw_header(name: bytes, kind: bytes, size: int, mode: int, link: bytes = b"") -> bytes:
    """A ustar header as any size says (Python's tarfile writes no data for a hard link)."""
    h = bytearray(512)
    h[0 : len(name)] = name
    h[100:108] = b"%07o\0" % mode
    h[108:116] = h[116:124] = b"%07o\0" % 0
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"%011o\0" % 0
    h[156:157] = kind
    h[157 : 157 + len(link)] = link
    h[257:265] = b"ustar\x0000"
    _rechecksum(h, signed=False)
    return bytes(h)


def _raw_pax(path: bytes) -> bytes:
    record = b" path=%s\n" % path
    record = str(len(record) + 2).encode() + record
    return _raw_header(b"PaxHeader/x", b"x", len(record), 0o644) + record.ljust(512, b"\0")


def test_hard_links_with_a_size(tmp_path: Path, nix) -> None:
    """A pax hard link may carry data: libarchive writes it through the link, so the file both names
    share holds that data and the link entry's mode. An old ustar hard link may carry the target's size
    with no data after it: nothing to read."""
    link = _raw_header(b"top/h", b"1", 1, 0o755, b"top/f")
    pax = (_raw_pax(b"top/f") + _raw_header(b"top/f", b"0", 1, 0o644) + b"A".ljust(512, b"\0")
           + _raw_pax(b"top/h") + link + b"B".ljust(512, b"\0"))  # fmt: skip
    ustar = (_raw_header(b"top/f", b"0", 1, 0o644) + b"A".ljust(512, b"\0")
             + _raw_header(b"top/h", b"1", 5, 0o644, b"top/f"))  # fmt: skip
    for name, data in (("pax.tar", pax), ("ustar.tar", ustar)):
        tar = tmp_path / name
        tar.write_bytes(data + bytes(1024))
        proc = libnix("hash", str(tar))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == nix.prefetch_unpack(tar), name


@pytest.mark.parametrize(
    "options",
    [["--format", "pax", "-z"], ["--format", "ustar", "-j"], ["--format", "gnutar", "-J"],
     ["--format", "zip"], ["--format", "pax", "--zstd"]],
)  # fmt: skip
def test_bsdtar_archives(options: list[str], tree: Path, tmp_path: Path, nix) -> None:
    """Archives made by libarchive's own bsdtar (Debian's libarchive-tools), as nix's unpacker reads."""
    out = tmp_path / "out.archive"
    proc = subprocess.run(["bsdtar", "-c", *options, "-f", str(out), "-C", str(tree.parent), tree.name],
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0 and options[1] == "ustar":
        assert "ustar" in proc.stderr or "too long" in proc.stderr  # a name ustar cannot hold
        return
    assert proc.returncode == 0, proc.stderr
    mine = libnix("hash", str(out))
    assert mine.returncode == 0, mine.stderr
    flagged = options[1] == "zip" and any(not p.name.isascii() for p in tree.rglob("*"))
    if flagged:
        # bsdtar marks non-ASCII zip names UTF-8; nix 2.8 (the referee here) then fails in any locale
        # ("Pathname cannot be converted from UTF-8 to current locale"): libnix hashes the stored names
        cmd = ["nix-prefetch-url", "--unpack", f"file://{out}"]
        referee = subprocess.run(cmd, capture_output=True, text=True, env=NIX_ENV)  # LC_ALL=C.UTF-8
        assert referee.returncode != 0 and "converted from UTF-8" in referee.stderr
        return
    assert mine.stdout.strip() == nix.prefetch_unpack(out)


def test_xz_of_several_streams_and_gzip_with_trailing_bytes(tmp_path: Path, nix) -> None:
    """Archives libarchive reads and Python's own readers refuse: an .xz of two streams with stream padding
    between them; a gzip whose tar has no end blocks and is followed by bytes that are not gzip. Each
    hashes as nix unpacks it; a padding that is not a multiple of four, and a truncated stream, are refused
    as nix refuses them."""
    top = tmp_path / "src" / "top"
    top.mkdir(parents=True)
    (top / "a.rs").write_text("a\n")
    (top / "b.rs").write_text("b\n" * 3000)
    plain = tmp_path / "full.tar"
    subprocess.run(["tar", "cf", str(plain), "-C", str(tmp_path / "src"), "top"], check=True)
    data = plain.read_bytes()
    with tarfile.open(plain) as tar:
        tar.getmembers()
        end = tar.offset  # where the end-of-archive blocks begin
    members = data[:end]
    cases = {
        "padded.tar.xz": lzma.compress(data[:1024]) + b"\0" * 8 + lzma.compress(data[1024:]),
        "trailing.tar.gz": gzip.compress(members) + b"not gzip, just bytes after the member\n" * 4,
    }
    for name, blob in cases.items():
        path = tmp_path / name
        path.write_bytes(blob)
        proc = libnix("hash", str(path))
        assert proc.returncode == 0, (name, proc.stderr)
        assert proc.stdout.strip() == nix.prefetch_unpack(path), name
    refused = {
        "odd-padding.tar.xz": lzma.compress(data[:1024]) + b"\0" * 3 + lzma.compress(data[1024:]),
        "cut.tar.xz": lzma.compress(data)[:-20],
    }
    for name, blob in refused.items():
        path = tmp_path / name
        path.write_bytes(blob)
        by_nix = subprocess.run(
            ["nix-prefetch-url", "--unpack", f"file://{path}"], capture_output=True, text=True
        )
        assert by_nix.returncode != 0, name
        proc = libnix("hash", str(path))
        assert proc.returncode == 1 and proc.stderr.count("\n") == 1, (name, proc.stderr)


@pytest.mark.parametrize("made_on", [0, 3], ids=["ms-dos", "unix"])
def test_zip_names_with_backslashes_are_paths(tmp_path: Path, nix, made_on: int) -> None:
    """A zip written on Windows names `top\\sub\\b.txt`: libarchive, and so nix, reads `\\` as `/` in a
    name that has no `/`; `top/x\\y.txt` keeps its backslash as a character."""
    path = tmp_path / "windows.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in (("top\\a.txt", b"a\n"), ("top\\sub\\b.txt", b"b\n"), ("top/x\\y.txt", b"y\n")):
            info = zipfile.ZipInfo(name)
            info.create_system = made_on
            zf.writestr(info, data)
    proc = libnix("hash", str(path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == nix.prefetch_unpack(path)


def test_export_subst_follows_the_default_branchs_mailmap(make_repo, tmp_path: Path, nix) -> None:
    """`$Format:%aN <%aE>$` with a committed .mailmap: the forge runs git archive in its bare repository,
    where git reads HEAD:.mailmap, the default branch's file, which a later commit changed. libnix, in a
    clone of it (origin/HEAD known), hashes what the forge serves."""
    repo = make_repo()
    _write(repo / ".gitattributes", "VERSION export-subst\n")
    _write(repo / "VERSION", "$Format:%aN <%aE>$\n")
    _write(repo / ".mailmap", "Tagged Name <tagged@example.invalid> <test@example.invalid>\n")
    commit_all(repo)
    git(repo, "tag", "v1")
    _write(repo / ".mailmap", "Later Name <later@example.invalid> <test@example.invalid>\n")
    commit_all(repo, "a newer mailmap on the default branch")
    forge = tmp_path / "forge.git"  # the forge's bare repository: HEAD is the default branch
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(forge))
    served = tmp_path / "served.tar.gz"
    with open(served, "wb") as fh:
        subprocess.run(["git", "-C", str(forge), "archive", "--format=tar.gz", "--prefix=p-v1/", "v1"],
                       check=True, stdout=fh)  # fmt: skip
    listing = subprocess.run(["tar", "xzOf", str(served), "p-v1/VERSION"], capture_output=True, text=True)
    assert listing.stdout == "Later Name <later@example.invalid>\n"  # the forge's mailmap is HEAD's
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(forge), str(clone))
    proc = libnix("hash", "--tag", "v1", "-C", str(clone))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == nix.prefetch_unpack(served)
    # the default branch drops its .mailmap: the forge maps no name, though the tag's commit has one
    git(repo, "rm", "-q", ".mailmap")
    commit_all(repo, "no mailmap")
    git(repo, "push", "-q", str(forge), "HEAD:main")
    with open(served, "wb") as fh:
        subprocess.run(["git", "-C", str(forge), "archive", "--format=tar.gz", "--prefix=p-v1/", "v1"],
                       check=True, stdout=fh)  # fmt: skip
    listing = subprocess.run(["tar", "xzOf", str(served), "p-v1/VERSION"], capture_output=True, text=True)
    assert listing.stdout == "Test <test@example.invalid>\n"
    git(clone, "fetch", "-q", "origin")
    proc = libnix("hash", "--tag", "v1", "-C", str(clone))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == nix.prefetch_unpack(served)
