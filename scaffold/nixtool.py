"""Optional calls to nix binaries, for verification only: libnix computes everything itself."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .errors import ExternalError

# libarchive and the parser print through the locale: keep it UTF-8
_ENV = {**os.environ, "LC_ALL": "C.UTF-8"}
_BATCH = 200


def available(tool: str = "nix-instantiate") -> bool:
    return shutil.which(tool) is not None


def parse_errors(files: list[Path]) -> str | None:
    """None when every file parses; else nix's first error, on one line. One process per 200 files."""
    for i in range(0, len(files), _BATCH):
        batch = [str(f) for f in files[i : i + _BATCH]]
        try:
            proc = subprocess.run(
                ["nix-instantiate", "--parse", *batch], capture_output=True, text=True, env=_ENV
            )
        except OSError as exc:
            raise ExternalError(f"cannot run nix-instantiate: {exc.strerror}") from None
        if proc.returncode != 0:
            lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
            where = next((ln for ln in lines if ln.startswith("at ")), "")
            first = lines[0] if lines else f"exit {proc.returncode}"
            return f"{first.removeprefix('error: ')} {where}".strip()
    return None
