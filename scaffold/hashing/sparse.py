"""GNU tar's sparse files, expanded as nix (libarchive) unpacks them: the holes become zeros.

GNU tar stores only the data regions of a sparse file, with a map of (offset, length) regions and the
file's real size, in one of four ways (`tar --sparse --sparse-version=…`, GNU tar's manual, "Storing
Sparse Files"):
- old GNU format: type `S`, four map entries in the header, more in extension blocks after it;
- pax 0.0: repeated `GNU.sparse.offset`/`GNU.sparse.numbytes` records, `GNU.sparse.size`;
- pax 0.1: `GNU.sparse.map` ("offset,length,…"), `GNU.sparse.name`, `GNU.sparse.size`;
- pax 1.0: `GNU.sparse.major=1`, `GNU.sparse.name`, `GNU.sparse.realsize`, and the map at the start of the
  member's data (decimal numbers, one a line, padded to a 512-byte block).
"""

from __future__ import annotations

from collections.abc import Callable

Read = Callable[[int], bytes]
Map = list[tuple[int, int]]


def _octal(field: bytes) -> int:
    text = field.split(b"\0", 1)[0].strip(b" ")
    return int(text, 8) if text else 0


def old_gnu(block: bytes, read: Read) -> tuple[Map, int]:
    """The map and real size of a type `S` header, reading its extension blocks."""
    regions = _entries(block[386:482], 4)
    extended = block[482]
    while extended:
        more = read(512)
        if len(more) < 512:
            raise EOFError("tar archive ends inside a sparse map")
        regions += _entries(more[:504], 21)
        extended = more[504]
    return regions, _octal(block[483:495])


def _entries(data: bytes, count: int) -> Map:
    out = []
    for i in range(count):
        offset, length = data[i * 24 : i * 24 + 12], data[i * 24 + 12 : i * 24 + 24]
        if offset.strip(b"\0 ") or length.strip(b"\0 "):
            out.append((_octal(offset), _octal(length)))
    return out


def from_pax(records: list[tuple[bytes, bytes]]) -> tuple[Map, int, bytes | None, bool] | None:
    """(map, real size, real name, map stored in the data) of a pax-format sparse file, or None."""
    keys = dict(records)
    if keys.get(b"GNU.sparse.major") == b"1":
        size = int(keys.get(b"GNU.sparse.realsize", b"0"))
        return [], size, keys.get(b"GNU.sparse.name"), True
    if b"GNU.sparse.map" in keys:  # 0.1
        numbers = [int(n) for n in keys[b"GNU.sparse.map"].split(b",") if n]
        regions = list(zip(numbers[::2], numbers[1::2], strict=True))
        return regions, int(keys.get(b"GNU.sparse.size", b"0")), keys.get(b"GNU.sparse.name"), False
    offsets = [int(v) for k, v in records if k == b"GNU.sparse.offset"]
    if offsets:  # 0.0: the pairs in the order they came
        lengths = [int(v) for k, v in records if k == b"GNU.sparse.numbytes"]
        regions = list(zip(offsets, lengths, strict=True))
        return regions, int(keys.get(b"GNU.sparse.size", b"0")), keys.get(b"GNU.sparse.name"), False
    return None


def map_in_data(read: Read) -> tuple[Map, int]:
    """Format 1.0: the map at the start of the data; returns it and how many stored bytes it took."""
    taken = 0
    buffer = b""

    def number() -> int:
        nonlocal buffer, taken
        while b"\n" not in buffer:
            chunk = read(512)
            if not chunk:
                raise EOFError("tar archive ends inside a sparse map")
            taken += len(chunk)
            buffer += chunk
        line, _, buffer = buffer.partition(b"\n")
        return int(line)

    count = number()
    regions = [(number(), number()) for _ in range(count)]
    return regions, taken


class Expanded:
    """The file as unpacked: the stored regions at their offsets, zeros between them, `size` bytes."""

    __slots__ = ("_pos", "_read", "_regions", "_size")

    def __init__(self, read: Read, regions: Map, size: int) -> None:
        self._read, self._regions, self._size, self._pos = read, sorted(regions), size, 0

    def read(self, n: int = -1) -> bytes:
        n = self._size - self._pos if n < 0 else min(n, self._size - self._pos)
        out = bytearray()
        while n > 0:
            region = next(((o, ln) for o, ln in self._regions if o + ln > self._pos), None)
            if region is None or region[0] > self._pos:  # a hole up to the next region (or the end)
                end = min(region[0] if region else self._size, self._pos + n)
                out += bytes(end - self._pos)
            else:
                end = min(region[0] + region[1], self._pos + n)
                data = self._read(end - self._pos)
                if len(data) < end - self._pos:
                    raise EOFError("tar member ends inside a sparse region")
                out += data
            n -= end - self._pos
            self._pos = end
        return bytes(out)
