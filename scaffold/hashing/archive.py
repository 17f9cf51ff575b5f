"""Archive readers that feed a NarBuilder: tar streams (plain or compressed), zip files, directories.

Each reader gives the builder what nix keeps after unpacking: names as bytes, the owner-executable bit,
symlink targets, directories. Everything else in the archive (times, owners, other mode bits) is dropped,
as `builtins.fetchTarball` drops it.
"""

from __future__ import annotations

import io
import os
import stat
import sys
import zlib
from collections.abc import Callable, Iterator

from scaffold.errors import UserError
from scaffold.hashing.nar import NarBuilder
from scaffold.hashing.spool import CHUNK
from scaffold.hashing.tarstream import FILE_TYPES, iter_tar

TYPE_CHECKING = False
if TYPE_CHECKING:
    import zipfile
    from typing import IO, BinaryIO

_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gz"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\x28\xb5\x2f\xfd", "zst"),
    (b"\x5d\x00\x00", "lzma"),  # the legacy .lzma ("alone") format: properties 0x5d, a dictionary size
)

_CORRUPT = (EOFError, zlib.error, OSError, ValueError)


def _corrupt() -> tuple[type[BaseException], ...]:
    """What a damaged archive raises. lzma is imported by the xz and lzma readers only (it costs a
    tenth of nix-prefetch-url's run on a small tarball): its error counts once one of them ran."""
    lzma = sys.modules.get("lzma")
    return (*_CORRUPT, lzma.LZMAError) if lzma is not None else _CORRUPT


def _zip_errors() -> tuple[type[BaseException], ...]:
    return (zipfile.BadZipFile, zipfile.LargeZipFile, *_corrupt())


def sniff(head: bytes) -> str:
    """The archive kind from its first bytes (at least 262), not from a file name that may lie."""
    for magic, kind in _MAGICS:
        if head.startswith(magic):
            return kind
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    if len(head) >= 512 and _looks_like_v7_tar(head[:512]):
        return "tar"
    return "unknown"


def _looks_like_v7_tar(block: bytes) -> bool:
    try:
        stored = int(block[148:156].split(b"\0")[0].strip() or b"-1", 8)
    except ValueError:
        return False
    return stored == sum(block[:148]) + 256 + sum(block[156:512])


def split_path(name: bytes, what: str) -> tuple[bytes, ...]:
    """Normalise an archive member path as unpacking does: `./a//b/` is `a/b`, `/a` is `a` (nix extracts
    each entry below its own directory); refuse escapes."""
    parts = tuple(p for p in name.split(b"/") if p and p != b".")
    if b".." in parts:
        raise UserError(f"{what} has a member path with '..': {name.decode('utf-8', 'replace')!r}")
    return parts


def _decompressed(stream: BinaryIO) -> IO[bytes]:
    buffered = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream, CHUNK)  # type: ignore[type-var]  # any readable binary stream
    kind = sniff(buffered.peek(6)[:6])
    if kind == "gz":
        return io.BufferedReader(_GzipMembers(buffered), CHUNK)
    if kind == "bz2":
        import bz2  # each decompressor only for its own archives

        return bz2.BZ2File(buffered)
    if kind == "xz":
        return _Checked(io.BufferedReader(_XzStreams(buffered), CHUNK))  # type: ignore[return-value]  # read() alone is used
    if kind == "lzma":
        import lzma

        return lzma.LZMAFile(buffered, format=lzma.FORMAT_ALONE)
    if kind == "zst":
        import zstandard  # only for .tar.zst

        reader = zstandard.ZstdDecompressor().stream_reader(buffered, read_across_frames=True)
        return io.BufferedReader(reader, CHUNK)
    return buffered


_INPUT = 1 << 16


class _Members(io.RawIOBase):
    """A compressed file of several members (gzip) or streams (xz), decoded one after another as
    libarchive decodes them; a subclass says how the next piece of output comes (`_next`)."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._done = False

    def readable(self) -> bool:
        return True

    def _next(self, limit: int) -> bytes | None:
        """Up to `limit` bytes of output (b"" when a step gave none yet), None at the end."""
        raise NotImplementedError

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]  # io's Buffer: 3.12+
        while not self._done:
            out = self._next(len(buffer))
            if out is None:
                self._done = True
            elif out:
                buffer[: len(out)] = out
                return len(out)
        return 0


class _GzipMembers(_Members):
    """A .gz file as libarchive (and so nix) reads it: member after member, each checked (CRC, size),
    and bytes after a member that are no gzip member are ignored, not an error (Python's GzipFile
    refuses them)."""

    def __init__(self, source: BinaryIO) -> None:
        super().__init__(source)
        self._decoder = zlib.decompressobj(wbits=31)

    def _next(self, limit: int) -> bytes | None:
        if self._decoder.eof:
            rest = self._decoder.unused_data
            while len(rest) < 2:
                more = self._source.read(CHUNK)
                if not more:
                    break
                rest += more
            if not rest.startswith(b"\x1f\x8b"):
                return None  # the end, or bytes that are not gzip: libarchive stops here
            self._decoder = zlib.decompressobj(wbits=31)
            return self._decoder.decompress(rest, limit)
        if self._decoder.unconsumed_tail:
            return self._decoder.decompress(self._decoder.unconsumed_tail, limit)
        data = self._source.read(_INPUT)  # small pieces: an unconsumed tail is copied each call
        if not data:
            raise EOFError("the gzip stream ends before its end")
        return self._decoder.decompress(data, limit)


class _XzStreams(_Members):
    """An .xz file as xz and libarchive read it: streams one after another, with stream padding (null
    bytes, a multiple of four) between them. Python's LZMAFile stops at padding."""

    def __init__(self, source: BinaryIO) -> None:
        import lzma

        super().__init__(source)
        self._decoder = lzma.LZMADecompressor(lzma.FORMAT_XZ)
        self._pending = b""  # input not given to the decoder yet

    def _next(self, limit: int) -> bytes | None:
        import lzma  # imported by __init__ already: a dictionary lookup

        if self._decoder.eof:
            rest = self._decoder.unused_data + self._pending
            self._pending = b""
            while not rest.strip(b"\0"):  # padding only so far: what follows decides
                more = self._source.read(CHUNK)
                if not more:
                    if len(rest) % 4:
                        raise lzma.LZMAError("stream padding is not a multiple of four bytes")
                    return None
                rest += more
            padding = len(rest) - len(rest.lstrip(b"\0"))
            if padding % 4:
                raise lzma.LZMAError("stream padding is not a multiple of four bytes")
            self._decoder = lzma.LZMADecompressor(lzma.FORMAT_XZ)
            self._pending = rest[padding:]
        data = b""
        if self._decoder.needs_input:  # else it still holds input: bounded memory
            data = self._pending or self._source.read(_INPUT)
            self._pending = b""
            if not data:
                raise EOFError("the xz stream ends before its footer")
        return self._decoder.decompress(data, limit)


class _Checked:
    """An xz stream read to its very end once the tar inside is complete: a truncated file lacks the
    stream footer (and its check), and nix refuses it, though every tar member arrived."""

    def __init__(self, inner: BinaryIO) -> None:
        self.read = inner.read

    def finish(self) -> None:
        while self.read(CHUNK):
            pass


def feed_tar_stream(builder: NarBuilder, stream: BinaryIO, what: str) -> None:
    """Read a tar stream (plain, gzip, bzip2 or xz) entry by entry, never seeking."""
    try:
        source = _decompressed(stream)
        for member, body in iter_tar(source.read):
            parts = split_path(member.name, what)
            if not parts:
                continue  # the archive's "./" itself
            kind = member.kind
            if kind in FILE_TYPES:
                builder.add_file(parts, member.size, bool(member.mode & 0o100), body)
            elif kind in (b"5", b"D"):
                builder.add_dir(parts)
            elif kind == b"2":
                builder.add_symlink(parts, member.linkname)
            elif kind == b"1" and member.size:
                # a pax hard link with data: written through the link, so the file both names share
                # holds the link's data and mode (libarchive)
                builder.add_file(parts, member.size, bool(member.mode & 0o100), body)
                builder.add_hardlink(split_path(member.linkname, what), parts)
            elif kind == b"1":
                builder.add_hardlink(parts, split_path(member.linkname, what))
            elif kind == b"V":
                continue  # a volume label
            else:
                shown = member.name.decode("utf-8", "replace")
                what_kind = "a device or fifo" if kind in (b"3", b"4", b"6") else f"tar type {kind!r}"
                raise UserError(f"{what} has {shown!r}, {what_kind}, which nix cannot store")
        if isinstance(source, _Checked):
            source.finish()
    except _corrupt() as exc:
        raise UserError(f"{what} is corrupt or truncated: {_reason(exc)}") from None


def _zip_name(info: zipfile.ZipInfo) -> bytes:
    """The name's bytes as stored. Python decodes a name without the UTF-8 flag as cp437; Info-ZIP
    writes UTF-8 names without the flag, and nix keeps the stored bytes: encoding back to cp437 gives
    them exactly. A name with `\\` and no `/` was written on Windows: libarchive reads its `\\` as `/`
    (a name with a `/` keeps its backslashes as characters)."""
    if info.flag_bits & 0x800:
        raw = info.filename.encode("utf-8", "surrogateescape")
    else:
        raw = info.filename.encode("cp437")
    return raw if b"/" in raw else raw.replace(b"\\", b"/")


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0]


def feed_zip(builder: NarBuilder, path: str, what: str) -> None:
    """A zip's central directory is in no particular order, but it can be read at random: feed it in
    NAR order, which sorting path tuples gives."""
    import zipfile  # zips only

    try:
        with zipfile.ZipFile(path) as zf:
            members = []
            for info in zf.infolist():
                parts = split_path(_zip_name(info), what)
                if parts:
                    members.append((parts, info))
            members.sort(key=lambda item: item[0])
            for parts, info in members:
                # unix mode bits count only in a zip made on unix; MS-DOS/Windows ones (creator
                # system 0) carry none, as libarchive reads them
                dos = info.create_system == 0
                mode = 0 if dos else info.external_attr >> 16
                if info.is_dir() or stat.S_ISDIR(mode) or (dos and info.external_attr & 0x10):
                    builder.add_dir(parts)
                elif stat.S_ISLNK(mode):
                    builder.add_symlink(parts, zf.read(info))
                else:
                    with zf.open(info) as reader:
                        builder.add_file(parts, info.file_size, bool(mode & 0o100), reader)
    except _zip_errors() as exc:
        raise UserError(f"{what} is corrupt or truncated: {_reason(exc)}") from None


def feed_directory(builder: NarBuilder, root: str) -> None:
    """Walk a directory in NAR order, like `nix-hash --type sha256 DIR`, one file open at a time."""
    root_b = os.fsencode(root)

    def entries(path: bytes) -> Iterator[os.DirEntry[bytes]]:
        with os.scandir(path) as it:
            return iter(sorted(it, key=lambda e: e.name))

    # depth first in NAR order, with a stack of its own: a tree 100,000 directories deep is fine
    stack: list[tuple[tuple[bytes, ...], Iterator[os.DirEntry[bytes]]]] = []
    try:
        stack.append(((), entries(root_b)))
        while stack:
            parts, it = stack[-1]
            entry = next(it, None)
            if entry is None:
                stack.pop()
                continue
            child = (*parts, entry.name)
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                builder.add_symlink(child, os.readlink(entry.path))
            elif stat.S_ISDIR(st.st_mode):
                builder.add_dir(child)
                stack.append((child, entries(entry.path)))
            elif stat.S_ISREG(st.st_mode):
                with open(entry.path, "rb") as reader:
                    builder.add_file(child, st.st_size, bool(st.st_mode & stat.S_IXUSR), reader)
            else:
                shown = os.fsdecode(entry.path)
                raise UserError(f"{shown} is a device, fifo or socket, which nix cannot store")
    except PermissionError as exc:
        raise UserError(f"cannot read {exc.filename}: permission denied") from None


Feeder = Callable[[NarBuilder], None]


def tarball_feeder(path: str) -> Feeder:
    """The right reader for the archive at `path`, chosen by its magic bytes."""
    what = f"tarball {path}"
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    kind = sniff(head)
    if kind == "unknown":
        import zipfile

        if zipfile.is_zipfile(path):
            kind = "zip"  # a self-extracting zip: a program first, the zip after it (found from its end)
    if kind == "zip":
        return lambda builder: feed_zip(builder, path, what)
    if kind == "unknown":
        raise UserError(f"{what} is not a supported archive (tar, tar.gz/.bz2/.xz/.zst/.lzma, or zip)")

    def feed(builder: NarBuilder) -> None:
        with open(path, "rb") as fh:
            feed_tar_stream(builder, fh, what)

    return feed
