"""A one-line progress bar on stderr, drawn only on a terminal so logs and pipes stay clean."""

from __future__ import annotations

import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO


class Bar:
    def __init__(self, label: str, stream: TextIO | None = None, *, count: bool = False) -> None:
        self.label = label
        self.count = count  # things (URLs), not bytes
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and (total is None or done < total):
            return
        self._last = now
        if total:
            filled = int(min(done / total, 1.0) * 30)
            amount = f"{done}/{total}" if self.count else f"{_mib(done)}/{_mib(total)}"
            text = f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {amount}"
        else:
            text = f"{self.label} {_mib(done)}"
        self.stream.write("\r" + text + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _mib(n: int) -> str:
    return f"{n / 1048576:.1f} MiB"
