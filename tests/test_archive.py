"""scaffold/hashing/archive.py on its own: which kind an archive is (by its bytes, not its name), how a
member path is normalised, and what a tar stream or a zip feeds into the NAR builder, through a builder
that records the calls. Nix's verdict on whole archives is test_hash_vs_nix's."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
from pathlib import Path

import pytest

from scaffold.errors import UserError
from scaffold.hashing.archive import feed_tar_stream, feed_zip, sniff, split_path


class Recorder:
    """Stands where a NarBuilder stands (the same four calls) and writes down what arrives."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, ...]] = []

    def add_dir(self, parts: tuple[bytes, ...]) -> None:
        self.calls.append(("dir", b"/".join(parts)))

    def add_symlink(self, parts: tuple[bytes, ...], target: bytes) -> None:
        self.calls.append(("link", b"/".join(parts), target))

    def add_file(
        self, parts: tuple[bytes, ...], size: int, executable: bool, reader: io.BufferedIOBase
    ) -> None:
        self.calls.append(("file", b"/".join(parts), executable, reader.read(size)))

    def add_hardlink(self, parts: tuple[bytes, ...], target: tuple[bytes, ...]) -> None:
        self.calls.append(("hard", b"/".join(parts), b"/".join(target)))


def tar_bytes() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, data, mode, link in (
            ("./top/", tarfile.DIRTYPE, None, 0o755, ""),
            ("./top//bin/run", tarfile.REGTYPE, b"#!\n", 0o755, ""),
            ("top/README", tarfile.REGTYPE, b"hi\n", 0o644, ""),
            ("top/r", tarfile.SYMTYPE, None, 0o777, "README"),
        ):
            ti = tarfile.TarInfo(name)
            ti.type, ti.mode, ti.linkname, ti.size = kind, mode, link, len(data or b"")
            tar.addfile(ti, io.BytesIO(data) if data else None)
    return out.getvalue()


EXPECTED = [
    ("dir", b"top"),
    ("file", b"top/bin/run", True, b"#!\n"),
    ("file", b"top/README", False, b"hi\n"),
    ("link", b"top/r", b"README"),
]


@pytest.mark.parametrize("compress", ["plain", "gz", "bz2", "xz"])
def test_a_tar_stream_of_every_compression_feeds_the_same_members(compress: str) -> None:
    raw = tar_bytes()
    packed = {"plain": raw, "gz": gzip.compress(raw), "bz2": bz2.compress(raw), "xz": lzma.compress(raw)}[
        compress
    ]
    assert sniff(packed[:512]) == ("tar" if compress == "plain" else compress)
    builder = Recorder()
    feed_tar_stream(builder, io.BytesIO(packed), "test.tar")  # type: ignore[arg-type]
    assert builder.calls == EXPECTED


def test_a_cut_stream_is_refused_in_one_line() -> None:
    packed = lzma.compress(tar_bytes())
    with pytest.raises(UserError, match=r"test\.tar\.xz is corrupt or truncated"):
        feed_tar_stream(Recorder(), io.BytesIO(packed[:-20]), "test.tar.xz")  # type: ignore[arg-type]


def test_member_paths_are_normalised_and_escapes_refused() -> None:
    assert split_path(b"./a//b/", "t") == (b"a", b"b")
    assert split_path(b"/abs/x", "t") == (b"abs", b"x")
    assert split_path(b"./", "t") == ()
    with pytest.raises(UserError, match="'\\.\\.'"):
        split_path(b"a/../../etc/passwd", "t")


def test_sniff_reads_bytes_not_names() -> None:
    assert sniff(b"PK\x03\x04" + b"\0" * 300) == "zip"
    assert sniff(b"\x28\xb5\x2f\xfd" + b"\0" * 300) == "zst"
    assert sniff(b"<!doctype html>" + b" " * 600) == "unknown"


def test_a_zip_feeds_its_members_with_their_modes(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        run = zipfile.ZipInfo("top/run")
        run.external_attr = 0o100755 << 16
        zf.writestr(run, b"#!\n")
        zf.writestr("top/doc.txt", b"doc")
    builder = Recorder()
    feed_zip(builder, str(path), "a.zip")  # type: ignore[arg-type]
    assert ("file", b"top/run", True, b"#!\n") in builder.calls
    assert ("file", b"top/doc.txt", False, b"doc") in builder.calls
