"""What libnix needs to know of a Rust project, read with tomllib: never by running cargo."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffold.errors import UserError


def read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None
    return parse_toml(text, str(path))


def parse_toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib says "... (at line 3, column 7)": keep that, it is what the user needs
        raise UserError(f"{where}: malformed TOML: {exc}") from None


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    version: str | None
    is_workspace: bool
    members: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)  # [*.metadata.libnix]
    edition: str = "2021"
    rust_version: str = ""
    binaries: list[str] = field(default_factory=list)
    default_members: list[str] = field(default_factory=list)


def read_project(root: Path) -> Project:
    manifest = root / "Cargo.toml"
    if not manifest.is_file():
        raise UserError(f"no Cargo.toml in {root}: libnix works on a Rust crate or workspace")
    return project_from(root, read_toml(manifest))


def project_from(root: Path, doc: dict[str, Any]) -> Project:
    """The project a root Cargo.toml describes (members and binaries looked up under root)."""
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
    ws_package = workspace.get("package") or {}

    def inherited(key: str, default: str) -> str:
        value = package.get(key, ws_package.get(key, default))
        if isinstance(value, dict):  # `key.workspace = true`
            value = ws_package.get(key, default)
        return str(value)

    members: list[str] = []
    default_members: list[str] = []
    if workspace:
        exclude = {str(e).rstrip("/") for e in workspace.get("exclude", [])}
        listed = expand_members(root, [str(m) for m in workspace.get("members", [])])
        members = with_path_dependencies(root, doc, [m for m in listed if m not in exclude], exclude)
        default_members = expand_members(root, [str(m) for m in workspace.get("default-members", [])])
    return Project(
        root=root,
        name=str(name),
        version=str(version) if version is not None else None,
        is_workspace=bool(workspace),
        members=members,
        metadata=metadata,
        edition=inherited("edition", "2021"),
        rust_version=inherited("rust-version", ""),
        binaries=workspace_binaries(root, doc, members, default_members),
        default_members=default_members,
    )


_DEPENDENCY_TABLES = ("dependencies", "dev-dependencies", "build-dependencies")


def _path_dependencies(doc: dict[str, Any]) -> list[str]:
    tables = [doc.get(t) or {} for t in _DEPENDENCY_TABLES]
    tables += [(doc.get("workspace") or {}).get("dependencies") or {}]
    for target in (doc.get("target") or {}).values():
        tables += [(target or {}).get(t) or {} for t in _DEPENDENCY_TABLES]
    return [str(d["path"]) for table in tables for d in table.values() if isinstance(d, dict) and "path" in d]


def with_path_dependencies(
    root: Path, doc: dict[str, Any], members: list[str], exclude: set[str]
) -> list[str]:
    """cargo makes every path dependency inside the workspace a member too (nushell's nu-glob, nu-path
    are members only that way)."""
    found = list(members)
    queue = [(root, doc)] + [(root / m, _manifest(root / m)) for m in members]
    while queue:
        base, manifest = queue.pop(0)
        for dep in _path_dependencies(manifest):
            path = (base / dep).resolve()
            try:
                rel = path.relative_to(root.resolve()).as_posix()
            except ValueError:
                continue  # outside the workspace: a dependency, not a member
            if rel in found or rel in exclude or rel == "." or not (path / "Cargo.toml").is_file():
                continue
            found.append(rel)
            queue.append((path, _manifest(path)))
    return found


def _manifest(directory: Path) -> dict[str, Any]:
    try:
        return read_toml(directory / "Cargo.toml")
    except UserError:
        return {}


def workspace_binaries(root: Path, doc: dict[str, Any], members: list[str], first: list[str]) -> list[str]:
    """The binary targets of the root package and of every member, default-members' first."""
    names = binaries(root, doc)
    for member in sorted(members, key=lambda m: m not in first):
        names += [n for n in binaries(root / member, _manifest(root / member)) if n not in names]
    return names


@dataclass(frozen=True)
class Toolchain:
    channel: str  # stable, beta, nightly (fenix's current), or "version": pinned by its manifest's hash
    version: str = ""  # with "version": 1.87.0, 1.87 (its latest patch), nightly-2025-01-01, beta-2025-01-01
    components: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    profile: str | None = None


_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")
_DATED = re.compile(r"^(stable|beta|nightly)-(\d{4}-\d{2}-\d{2})$")
RUST_DIST = "https://static.rust-lang.org/dist"


def parse_channel(channel: str, where: str) -> tuple[str, str]:
    """A rustup channel as the template's (channel, version): a release or a dated channel is pinned
    ("version"), so `nightly-2025-01-01` stays that nightly instead of becoming today's."""
    if channel in ("stable", "beta", "nightly"):
        return channel, ""
    if _VERSION.match(channel) or _DATED.match(channel):
        return "version", channel
    raise UserError(
        f"{where}: unknown toolchain channel {channel!r} (stable, beta, nightly, 1.x.y or CHANNEL-YYYY-MM-DD)"
    )


def version_from_tag(tag: str) -> str:
    """The version a release tag names: v1.2.3 and cargo-1.2.3 name 1.2.3, 2026-08-17 itself."""
    m = re.match(r"^(?:.*/|[A-Za-z][\w.]*?[-_])?v?(\d[\w.+-]*)$", tag)
    return m.group(1) if m else tag


def manifest_url(version: str, dist: str = RUST_DIST) -> str:
    """Where rustup finds the channel manifest of a pinned toolchain (the template builds the same URL)."""
    dated = _DATED.match(version)
    if dated:
        return f"{dist}/{dated.group(2)}/channel-rust-{dated.group(1)}.toml"
    return f"{dist}/channel-rust-{version}.toml"


def read_toolchain(root: Path) -> Toolchain | None:
    """rust-toolchain.toml, or the legacy rust-toolchain (one line, or TOML as well)."""
    for name in ("rust-toolchain.toml", "rust-toolchain"):
        path = root / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if name == "rust-toolchain" and "[toolchain]" not in text:
            lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
            if len(lines) != 1:
                raise UserError(f"{path}: expected one line naming the channel")
            channel, version = parse_channel(lines[0], str(path))
            return Toolchain(channel, version)
        doc = read_toml(path)
        table = doc.get("toolchain")
        if not isinstance(table, dict) or "channel" not in table:
            raise UserError(f"{path}: no [toolchain] channel")
        channel, version = parse_channel(str(table["channel"]), str(path))
        return Toolchain(
            channel,
            version,
            tuple(str(c) for c in table.get("components", [])),
            tuple(str(t) for t in table.get("targets", [])),
            table.get("profile"),
        )
    return None


_ARCHES = (
    "x86_64", "i686", "i586", "aarch64", "arm", "armv5te", "armv7", "armv7a", "armv7r", "thumbv6m",
    "thumbv7em", "thumbv7m", "thumbv8m.main", "riscv32imac", "riscv32imc", "riscv64gc", "powerpc",
    "powerpc64", "powerpc64le", "s390x", "mips", "mipsel", "mips64", "loongarch64", "sparc64",
    "wasm32", "wasm64", "nvptx64", "bpfel", "bpfeb", "x86_64h", "arm64e", "armebv7r", "armv7s",
)  # fmt: skip
_TRIPLE = re.compile(r"^([a-z0-9_.]+)-([a-z0-9_]+)(-[a-z0-9_]+){0,2}$")


def validate_target(target: str) -> str:
    m = _TRIPLE.match(target)
    if not m or m.group(1) not in _ARCHES:
        raise UserError(f"unknown target triple {target!r} (e.g. x86_64-unknown-linux-musl)")
    return target


def expand_members(root: Path, patterns: list[str]) -> list[str]:
    """Workspace member globs as cargo expands them: directories holding a Cargo.toml."""
    found: list[str] = []
    for pattern in patterns:
        matches = sorted(root.glob(pattern)) if any(c in pattern for c in "*?[") else [root / pattern]
        for path in matches:
            if (path / "Cargo.toml").is_file():
                rel = path.relative_to(root).as_posix()
                if rel not in found:
                    found.append(rel)
    return found


def binaries(root: Path, doc: dict[str, Any]) -> list[str]:
    package = doc.get("package") or {}
    names = [str(b["name"]) for b in doc.get("bin", []) if isinstance(b, dict) and "name" in b]
    if not names and package.get("name") and (root / "src" / "main.rs").is_file():
        names.append(str(package["name"]))
    names += [p.stem for p in sorted((root / "src" / "bin").glob("*.rs")) if p.stem not in names]
    return names


_CRATE_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def crate_name_for(directory: Path) -> str:
    name = _CRATE_NAME.sub("-", directory.name.lower()).strip("-_") or "app"
    return name if name[0].isalpha() else f"app-{name}"


def write_minimal_crate(root: Path, name: str) -> list[str]:
    """A binary crate, as `cargo new` writes it, without needing cargo."""
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "Cargo.toml").write_text(
        f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n'
    )
    (root / "src" / "main.rs").write_text('fn main() {\n    println!("Hello, world!");\n}\n')
    return ["Cargo.toml", "src/main.rs"]
