"""Where files that arrive before their turn in the NAR wait: memory first, one temporary file past
SPOOL_MEMORY, so memory stays bounded whatever the archive.
"""

from __future__ import annotations

from collections.abc import Callable

from scaffold.errors import UserError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, BinaryIO

CHUNK = 1 << 20
SPOOL_MEMORY = 32 << 20


class Spool:
    """One append-only store for early files: memory first, a temporary file past SPOOL_MEMORY."""

    def __init__(self) -> None:
        self._file: BinaryIO | None = None  # made by the first early file: most archives have none
        self._end = 0

    def put(self, reader: IO[bytes], size: int) -> int:
        if self._file is None:
            import tempfile

            self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # type: ignore[assignment]  # noqa: SIM115 (closed in close())
        assert self._file is not None
        offset = self._end
        self._file.seek(offset)
        left = size
        while left:
            chunk = reader.read(min(CHUNK, left))
            if not chunk:
                raise UserError("archive is truncated: a file ends before its declared size")
            self._file.write(chunk)
            left -= len(chunk)
        self._end += size
        return offset

    def copy(self, offset: int, size: int, update: Callable[[bytes], object]) -> None:
        assert self._file is not None
        self._file.seek(offset)
        left = size
        while left:
            chunk = self._file.read(min(CHUNK, left))
            update(chunk)
            left -= len(chunk)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
