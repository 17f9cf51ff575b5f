"""What libnix needs to know of a Rust project, read with tomllib: never by running cargo."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UserError


def read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib says "... (at line 3, column 7)": keep that, it is what the user needs
        raise UserError(f"{path}: malformed TOML: {exc}") from None


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    version: str | None
    is_workspace: bool
    members: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)  # [*.metadata.libnix]


def read_project(root: Path) -> Project:
    manifest = root / "Cargo.toml"
    if not manifest.is_file():
        raise UserError(f"no Cargo.toml in {root}: libnix works on a Rust crate or workspace")
    doc = read_toml(manifest)
    package = doc.get("package") or {}
    workspace = doc.get("workspace") or {}
    version = package.get("version")
    if isinstance(version, dict) and version.get("workspace"):
        version = (workspace.get("package") or {}).get("version")
    if version is None and not package:
        version = (workspace.get("package") or {}).get("version")
    name = package.get("name") or root.name
    metadata = {
        **((workspace.get("metadata") or {}).get("libnix") or {}),
        **((package.get("metadata") or {}).get("libnix") or {}),
    }
    return Project(
        root=root,
        name=str(name),
        version=str(version) if version is not None else None,
        is_workspace=bool(workspace),
        members=[str(m) for m in workspace.get("members", [])],
        metadata=metadata,
    )
