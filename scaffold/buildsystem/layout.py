"""A generated build system's layout, read from its files: where its entry point is (generations keep
`default.nix` in `derivations/` or beside the caller), its root crates and the binaries they install, and
where its sources are pinned. Every file is parsed once (`parse`), for the rewrite and the checks alike.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from scaffold.buildsystem.findings import Finding
from scaffold.buildsystem.rules.pinned_src import TARBALL, fetch_calls
from scaffold.errors import UserError
from scaffold.names import CALLER, DEPENDENCIES
from scaffold.nix import syntax as ns


@dataclass(frozen=True)
class Layout:
    """A build system's entry points, read from its caller's imports rather than assumed: generations
    keep `default.nix` in `derivations/` or beside the caller."""

    root: Path
    entry: str  # the default.nix the caller imports, relative to root


def nix_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.nix") if p.is_file())


_PARSED: dict[tuple[str, bytes], ns.Source] = {}


def parse(rel: str, data: bytes) -> ns.Source:
    """The rewrite and the verification read the same unchanged files: parse each once."""
    key = (rel, data)
    if key not in _PARSED:
        if len(_PARSED) > 4096:
            _PARSED.clear()
        _PARSED[key] = ns.parse(rel, data)
    return _PARSED[key]


def syntax_error(src: ns.Source) -> Finding | None:
    bad = ns.first_error(src)
    if bad is None:
        return None
    return Finding(src.rel, src.line(bad), "cannot read as nix (syntax error)")


def validate_layout(root: Path) -> Layout:
    if not root.is_dir():
        raise UserError(f"{root}: no such directory")
    hint = "give the output directory of write-nix-buildsystem, e.g. target/release/nix"
    caller = root / CALLER
    if not caller.is_file():
        raise UserError(f"{root} is not a generated build system (no {CALLER}): {hint}")
    entry = _entry(root, caller)
    if entry is None:
        raise UserError(f"{root} is not a generated build system ({CALLER} imports no default.nix): {hint}")
    return Layout(root, entry)


def _entry(root: Path, caller: Path) -> str | None:
    src = parse(CALLER, caller.read_bytes())
    found = []
    for node in src.applications():
        name, args = ns.call(src, node)
        target = ns.unparen(args[0]) if name == "import" and args else None
        if target is None or target.type != "path_expression" or target.named_child_count != 1:
            continue
        path = Path(os.path.normpath(caller.parent / src.text(target)))
        if path.is_file() and path.name != DEPENDENCIES and path.is_relative_to(root):
            found.append(path.relative_to(root).as_posix())
    return next((f for f in found if f.endswith("default.nix")), found[0] if found else None)


_BIN_NAME = re.compile(rb'CARGO_BIN_NAME = "([^"]+)";')


def root_attributes(layout: Layout, prefer: list[str] | tuple[str, ...] = ()) -> list[str]:
    """What a consumer builds. Binaries first, those named in `prefer` (the project's own, default
    members' first) before the others, so that the first one is the sensible default."""
    crates = root_crates(layout)
    names = binary_names(layout)

    def key(name: str) -> tuple[bool, int, str]:
        binary = names.get(name)
        rank = prefer.index(binary) if binary is not None and binary in prefer else len(prefer)
        return ("-bin-" not in name, rank, name)

    return sorted(crates, key=key)


def binary_names(layout: Layout) -> dict[str, str]:
    """Root crate -> the name of the binary it installs as `$out/bin/NAME` (bin crates only)."""
    out = {}
    for name, path in root_crates(layout).items():
        found = _BIN_NAME.search(path.read_bytes()) if "-bin-" in name else None
        if found:
            out[name] = found.group(1).decode()
    return out


def root_crates(layout: Layout) -> dict[str, Path]:
    """The top-level crates of the set default.nix returns (not `deps`, not helpers such as `target`),
    each with its file."""
    entry = layout.root / layout.entry
    src = parse(layout.entry, entry.read_bytes())
    node = ns.top_expression(src)
    for _ in range(8):
        node = ns.unparen(node)
        if node is None:
            return {}
        if node.type == "function_expression" or node.type in (
            "let_expression",
            "with_expression",
            "assert_expression",
        ):
            node = node.child_by_field_name("body")
        elif node.type == "variable_expression":
            node = ns.resolve(src, node)
        else:
            break
    if node is None or node.type not in ("attrset_expression", "rec_attrset_expression"):
        return {}
    crates = {}
    for name, _binding, value in ns.bindings(src, node):
        head, args = ns.call(src, value)
        target = ns.unparen(args[0]) if args else None
        if name == "deps" or ns.last_name(head) not in ("callPackage'", "callPackage", "import"):
            continue
        if target is None or target.type != "path_expression":
            continue
        path = entry.parent / src.text(target)
        if path.is_file() and b"cargo_crate_info" in path.read_bytes():
            crates[name] = path
    return crates


def source_pins(root: Path, layout: Layout) -> list[tuple[str, str]]:
    """(url, sha256) the project's sources are pinned to: `project_root` in the caller, else the
    `src` of the root crates (generations without project_root)."""
    caller = parse(CALLER, (root / CALLER).read_bytes())
    bound = [
        (attrs["url"], attrs.get("sha256", ""))
        for node, attrs in fetch_calls(caller, TARBALL)
        if ns.bound_name(caller, node) == "project_root"
    ]
    if bound:
        return bound
    out: list[tuple[str, str]] = []
    for path in root_crates(layout).values():
        src = parse(path.relative_to(root).as_posix(), path.read_bytes())
        out += [
            (a["url"], a.get("sha256", ""))
            for n, a in fetch_calls(src, TARBALL)
            if ns.bound_name(src, n) == "src"
        ]
    return sorted(set(out))
