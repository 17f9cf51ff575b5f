"""Run cargo (libnix)'s `write-nix-buildsystem`, streaming its output and keeping the tail for errors."""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from scaffold.environ import child_env
from scaffold.errors import ExternalError, UserError

TAIL = 12


def find_cargo(explicit: str | None) -> str:
    """`--cargo PATH`, then `$LIBNIX_CARGO`, then `cargo` on PATH."""
    candidate = explicit or os.environ.get("LIBNIX_CARGO") or "cargo"
    found = shutil.which(candidate) if os.sep not in candidate else candidate
    if not found or not os.path.exists(found):
        raise UserError(
            f"cargo (libnix) not found ({candidate}): run inside `nix develop` (the dev shell from "
            "`libnix init` provides it), pass --cargo PATH, or give a generated build system with --from DIR"
        )
    return found


# what cargo without the nix backend says (rustup's, Debian's): `error: unexpected argument
# 'write-nix-buildsystem' found`, then usage and "For more information, try '--help'."
_NOT_LIBNIX = "unexpected argument 'write-nix-buildsystem'"


def not_cargo_libnix(cargo: str) -> str:
    real = os.path.realpath(cargo)
    which = " (rustup's cargo)" if os.path.basename(real).startswith("rustup") else ""
    return (
        f"{cargo} is not cargo (libnix){which}: it has no write-nix-buildsystem. Run inside `nix develop` "
        "(the dev shell from `libnix init` puts cargo (libnix) first on PATH), pass --cargo PATH, set "
        "LIBNIX_CARGO, or give a generated build system with --from DIR"
    )


def write_buildsystem(
    cargo: str,
    project: Path,
    out_dir: Path,
    on_line: Callable[[str], None] | None,
    package: str | None = None,
) -> None:
    """Without `--url/--hash`: upstream pins with `pkgs.fetchurl` and a hash of the tarball file, which
    its local crates never unpack; libnix pins the sources itself, with the unpacked tree's hash. With
    `package` (a per-crate tag), only that workspace member (`cargo build -p`)."""
    selected = ["-p", package] if package else []
    cmd = [cargo, "build", "--release", *selected, "write-nix-buildsystem", "--out-dir", str(out_dir)]
    env = child_env(CARGO_BACKEND="nix")
    tail: collections.deque[str] = collections.deque(maxlen=TAIL)
    try:
        proc = subprocess.Popen(
            cmd, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            errors="replace",
        )  # fmt: skip
    except OSError as exc:
        raise UserError(f"cannot run cargo (libnix) {cargo}: {exc.strerror}") from None
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            if on_line:
                on_line(line)
        code = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if code != 0:
        if any(_NOT_LIBNIX in line or "no such command" in line for line in tail):
            raise UserError(not_cargo_libnix(cargo))
        last = next((ln for ln in reversed(tail) if ln.strip()), "")
        raise ExternalError(f"cargo (libnix) write-nix-buildsystem failed (exit {code}): {last}")
    if not out_dir.exists() or not any(out_dir.iterdir()):
        raise ExternalError(f"cargo (libnix) exited 0 but wrote nothing to {out_dir}")
