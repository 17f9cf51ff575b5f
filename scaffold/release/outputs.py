"""The files a release writes, named once: the export directory, its asset packed as a byte-for-byte
reproducible `.tar.bz2`, the release manifest and the consumer snippets; moved into place, each in one
rename, only once everything passed.
"""

from __future__ import annotations

import os
import tarfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Outputs:
    export: Path  # libnix-VERSION+TAG/
    asset: Path  # libnix-VERSION+TAG.tar.bz2
    release_json: Path  # libnix-VERSION+TAG.release.json
    snippets: Path  # libnix-VERSION+TAG.snippets.md

    @classmethod
    def of(cls, project: Path, out_dir: str | None, tag: str, version: str) -> Outputs:
        name = f"libnix-{version}+{tag}".replace("/", "-")
        export = Path(out_dir).resolve() if out_dir else project / name
        base = export.name
        return cls(
            export,
            export.with_name(base + ".tar.bz2"),
            export.with_name(base + ".release.json"),
            export.with_name(base + ".snippets.md"),
        )

    @property
    def all(self) -> tuple[Path, Path, Path, Path]:
        return (self.export, self.asset, self.release_json, self.snippets)


def pack(directory: Path, dest: Path, mtime: int) -> None:
    """A byte-for-byte reproducible .tar.bz2: sorted entries, one mtime, root-owned, one top directory."""

    def info(path: Path, arcname: str) -> tarfile.TarInfo:
        st = path.lstat()
        ti = tarfile.TarInfo(arcname)
        ti.mtime = mtime
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = ""
        if path.is_symlink():
            ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, os.readlink(path), 0o777
        elif path.is_dir():
            ti.type, ti.mode = tarfile.DIRTYPE, 0o755
        else:
            ti.size = st.st_size
            ti.mode = 0o755 if st.st_mode & 0o100 else 0o644
        return ti

    top = directory.name
    with open(dest, "wb") as raw, tarfile.open(fileobj=raw, mode="w:bz2", format=tarfile.GNU_FORMAT) as tar:
        tar.addfile(info(directory, top))
        for path in sorted(directory.rglob("*"), key=lambda p: p.relative_to(directory).parts):
            ti = info(path, f"{top}/{path.relative_to(directory).as_posix()}")
            if ti.isreg():
                with open(path, "rb") as fh:
                    tar.addfile(ti, fh)
            else:
                tar.addfile(ti)


def move_into_place(staging: Path, outputs: Outputs) -> None:
    """Each output replaces its old self in one rename; an old export directory goes only afterwards."""
    for dest in outputs.all:
        src = staging / dest.name
        if dest.is_dir() and not dest.is_symlink():
            old = staging / (dest.name + ".old")
            os.replace(dest, old)
        os.replace(src, dest)
