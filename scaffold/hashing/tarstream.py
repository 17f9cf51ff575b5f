"""A minimal, fast tar reader that never seeks: ustar, pax (`x`, `g`), GNU long names, base-256 sizes,
GNU sparse files (expanded by `sparse.py`).

Python's tarfile costs several times more per member, which shows on trees of tens of thousands of
files, and it refuses a valid archive that holds only a pax global header: what `git archive` writes
for an empty tree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from scaffold.hashing import sparse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

Read = Callable[[int], bytes]
BLOCK = 512
_ZERO = b"\0" * BLOCK
FILE_TYPES = (b"0", b"\0", b"7")


class Member:
    __slots__ = ("kind", "linkname", "mode", "name", "size")

    def __init__(self, name: bytes, kind: bytes, size: int, mode: int, linkname: bytes) -> None:
        self.name = name
        self.kind = kind  # the tar type flag, b"0" regular, b"5" directory, b"2" symlink, b"1" hard link
        self.size, self.mode, self.linkname = size, mode, linkname


class Body:
    """The bytes of one member, read straight from the archive stream."""

    __slots__ = ("_left", "_read")

    def __init__(self, read: Read, size: int) -> None:
        self._read, self._left = read, size

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        if not n:
            return b""
        data = self._read(n)
        self._left -= len(data)
        return data

    def drain(self) -> None:
        while self._left:
            if not self.read(1 << 20):
                raise EOFError("tar member ends before its declared size")


def _number(field: bytes) -> int:
    if field[:1] and field[0] & 0x80:  # GNU base-256, for values past the octal field
        return int.from_bytes(field, "big") & ~(0x80 << (8 * (len(field) - 1)))
    text = field.split(b"\0", 1)[0].strip(b" ")
    return int(text, 8) if text else 0


def _cstr(field: bytes) -> bytes:
    return field.split(b"\0", 1)[0]


def _pax(data: bytes) -> list[tuple[bytes, bytes]]:
    """The records in order (GNU's sparse format 0.0 repeats keys)."""
    records: list[tuple[bytes, bytes]] = []
    pos = 0
    while pos < len(data):
        if data[pos] == 0:
            break
        space = data.index(b" ", pos)
        length = int(data[pos:space])
        if length <= 0:
            raise ValueError("malformed pax header")
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        records.append((key, value))
        pos += length
    return records


def _signed_sum(block: bytes) -> int:
    """The header checksum as some old tars computed it: over signed bytes (libarchive accepts both)."""
    total = sum(b - 256 if b > 127 else b for b in block[:148]) + 256
    return total + sum(b - 256 if b > 127 else b for b in block[156:512])


def _skip_padding(read: Read, size: int) -> None:
    pad = -size % BLOCK
    if pad and len(read(pad)) < pad:
        raise EOFError("tar archive ends inside padding")


def iter_tar(read: Read) -> Iterator[tuple[Member, Any]]:
    """Members in archive order; each body must be read (or is drained) before the next member."""
    long_name: bytes | None = None
    long_link: bytes | None = None
    pax: dict[bytes, bytes] = {}
    records: list[tuple[bytes, bytes]] = []
    pax_archive = False  # a pax header seen: a hard link's size is data then, else it means nothing
    while True:
        block = read(BLOCK)
        if len(block) < BLOCK:
            if block:
                raise EOFError("tar archive ends inside a header")
            return  # no end-of-archive blocks: accepted, as libarchive accepts it
        if block == _ZERO:
            return
        stored = _number(block[148:156])
        if stored != sum(block) - sum(block[148:156]) + 256 and stored != _signed_sum(block):
            raise ValueError("bad tar header checksum")
        kind = block[156:157]
        size = _number(block[124:136])
        if b"size" in pax:
            size = int(pax[b"size"])
        if kind == b"1" and not pax_archive:
            size = 0  # old tars may put the target's size on a hard link: no data follows (libarchive)
        body = Body(read, size)
        if kind in (b"x", b"X", b"g", b"L", b"K"):
            pax_archive = pax_archive or kind in (b"x", b"X", b"g")
            data = body.read(size)
            if len(data) < size:
                raise EOFError("tar archive ends inside an extended header")
            _skip_padding(read, size)
            if kind in (b"x", b"X"):  # X: Solaris' extended header, before POSIX named it x
                records = _pax(data)
                pax = dict(records)
            elif kind == b"L":
                long_name = _cstr(data)
            elif kind == b"K":
                long_link = _cstr(data)
            continue  # "g": global records hold nothing that nix keeps
        name = _cstr(block[0:100])
        if block[257:263] == b"ustar\0" and block[345] != 0:
            name = _cstr(block[345:500]) + b"/" + name
        name = pax.get(b"path", long_name or name)
        link = pax.get(b"linkpath", long_link or _cstr(block[157:257]))
        if kind in FILE_TYPES and name.endswith(b"/"):
            kind = b"5"  # old tars mark directories by a trailing slash only
        mode = _number(block[100:108])
        found = sparse.from_pax(records) if kind in FILE_TYPES and records else None
        if kind == b"S":  # old GNU sparse file
            regions, real = sparse.old_gnu(block, read)
            yield Member(name, b"0", real, mode, link), sparse.Expanded(body.read, regions, real)
        elif found is not None:
            regions, real, real_name, in_data = found
            if in_data:
                regions, _ = sparse.map_in_data(body.read)
            name = real_name or name
            yield Member(name, kind, real, mode, link), sparse.Expanded(body.read, regions, real)
        else:
            yield Member(name, kind, size, mode, link), body
        body.drain()
        _skip_padding(read, size)
        long_name = long_link = None
        pax = {}
        records = []
