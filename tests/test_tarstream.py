"""scaffold/hashing/tarstream.py on its own: tar headers as GNU tar, pax and old formats write them,
read member by member from a stream that is never sought. Archives made here with Python's tarfile;
the hashes of real producers' archives are test_hash_vs_nix's."""

from __future__ import annotations

import io
import tarfile

import pytest

from scaffold.hashing.tarstream import iter_tar


def make(fmt: int, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def info(
    name: str, kind: bytes = tarfile.REGTYPE, size: int = 0, mode: int = 0o644, link: str = ""
) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type, ti.size, ti.mode, ti.linkname = kind, size, mode, link
    return ti


def read_all(data: bytes) -> list[tuple[bytes, bytes, int, bytes, bytes]]:
    stream = io.BytesIO(data)
    return [(m.name, m.kind, m.mode & 0o777, m.linkname, body.read() if m.kind in (b"0", b"\0") else b"")
            for m, body in iter_tar(stream.read)]  # fmt: skip


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_members_kinds_modes_and_bodies(fmt: int) -> None:
    data = make(fmt, [
        (info("top/", tarfile.DIRTYPE, mode=0o755), None),
        (info("top/run.sh", size=3, mode=0o755), b"#!\n"),
        (info("top/link", tarfile.SYMTYPE, link="run.sh"), None),
        (info("top/hard", tarfile.LNKTYPE, link="top/run.sh"), None),
    ])  # fmt: skip
    assert read_all(data) == [
        (b"top/", b"5", 0o755, b"", b""),  # as stored: archive.split_path normalises
        (b"top/run.sh", b"0", 0o755, b"", b"#!\n"),
        (b"top/link", b"2", 0o644, b"run.sh", b""),
        (b"top/hard", b"1", 0o644, b"top/run.sh", b""),
    ]


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_long_and_non_ascii_names(fmt: int) -> None:
    long = "top/" + "d" * 120 + "/" + "f" * 120
    data = make(fmt, [(info(long, size=1), b"x"), (info("top/caf\u00e9", size=1), b"y")])
    assert [(n, body) for n, _k, _m, _l, body in read_all(data)] == [
        (long.encode(), b"x"),
        ("top/caf\u00e9".encode(), b"y"),
    ]


def test_an_unread_body_is_skipped_for_the_next_member() -> None:
    data = make(tarfile.GNU_FORMAT, [(info("a", size=700), b"a" * 700), (info("b", size=2), b"bb")])
    stream = io.BytesIO(data)
    names = [m.name for m, _body in iter_tar(stream.read)]  # bodies never read
    assert names == [b"a", b"b"]


def test_truncated_header_and_bad_checksum() -> None:
    data = make(tarfile.GNU_FORMAT, [(info("a", size=1), b"a")])
    with pytest.raises(EOFError):
        list(iter_tar(io.BytesIO(data[:300]).read))
    broken = bytearray(data)
    broken[0] ^= 0x01  # the name changes, the stored checksum does not
    with pytest.raises(Exception, match="checksum"):
        list(iter_tar(io.BytesIO(bytes(broken)).read))
