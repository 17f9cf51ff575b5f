"""Optional calls to nix binaries, for verification only: libnix computes everything itself.

Which nix: the tools on PATH, or those beside the `nix` that LIBNIX_NIX names (`libnix check --nix
PATH`): consumers run nix 2.2x and 2.3x, Lix or Determinate Nix, and a check should be able to ask theirs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from scaffold.environ import child_env
from scaffold.errors import ExternalError

# libarchive and the parser print through the locale: keep it UTF-8; no forge token reaches nix
ENV = child_env(LC_ALL="C.UTF-8")
_BATCH = 200


def tool(name: str) -> str:
    """The nix tool `name`: beside LIBNIX_NIX's `nix` (or in it, a directory), else from PATH."""
    chosen = os.environ.get("LIBNIX_NIX")
    if not chosen:
        return name
    where = Path(chosen)
    return str((where if where.is_dir() else where.parent) / name)


def version() -> str | None:
    """What the chosen nix says it is (`nix (Nix) 2.26.3`): reports name the nix that gave the verdict."""
    try:
        proc = subprocess.run([tool("nix"), "--version"], capture_output=True, text=True, env=ENV, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def available(name: str = "nix-instantiate") -> bool:
    return shutil.which(tool(name)) is not None


def start_parse(files: list[Path]) -> Callable[[], str | None]:
    """Start `nix-instantiate --parse` (one process per 200 files) and return a function that waits
    for them: None when every file parses, else nix's first error on one line. Starting early lets
    nix parse while libnix does its own checks."""
    procs = []
    for i in range(0, len(files), _BATCH):
        batch = [str(f) for f in files[i : i + _BATCH]]
        try:
            procs.append(
                subprocess.Popen(
                    [tool("nix-instantiate"), "--parse", *batch],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=ENV,
                )
            )
        except OSError as exc:
            raise ExternalError(f"cannot run nix-instantiate: {exc.strerror}") from None

    def wait() -> str | None:
        first_error = None
        for proc in procs:
            _, err = proc.communicate()
            if proc.returncode != 0 and first_error is None:
                lines = [ln.strip() for ln in err.splitlines() if ln.strip()]
                where = next((ln for ln in lines if ln.startswith("at ")), "")
                first = lines[0] if lines else f"exit {proc.returncode}"
                first_error = f"{first.removeprefix('error: ')} {where}".strip()
        return first_error

    return wait
