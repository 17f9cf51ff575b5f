"""Cargo.dependencies.nix filled in from Cargo.lock: the native inputs and build-time variables that crates'
build scripts need, from the data table `native_deps.toml` (crate -> nixpkgs attributes, with sources).

The file is the user's. libnix owns one binding in it, `generated = { deps = …; envs = …; };`, rewritten
on every `libnix init` and `libnix update` (the lock file changes); the user's `mine` entries win over it
(`generated.deps // mine.deps`). A Cargo.dependencies.nix written before libnix, without that binding, is
never touched: libnix says what it would add.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scaffold.errors import UserError
from scaffold.fsutil import atomic_write
from scaffold.names import DEPENDENCIES
from scaffold.nix import syntax as ns

if TYPE_CHECKING:
    from tree_sitter import Node

TABLE = Path(__file__).with_name("native_deps.toml")
FILE = DEPENDENCIES


@dataclass
class Need:
    deps: list[str] = field(default_factory=list)
    envs: dict[str, str] = field(default_factory=dict)
    why: list[str] = field(default_factory=list)

    def add(self, rule: dict[str, Any]) -> None:
        self.deps += [str(d) for d in rule.get("deps", []) if str(d) not in self.deps]
        self.envs.update({str(k): str(v) for k, v in rule.get("envs", {}).items()})
        self.why.append(f"{rule['why']} [{rule['source']}]")


@functools.cache
def table() -> dict[str, dict[str, dict[str, Any]]]:
    with open(TABLE, "rb") as fh:
        return tomllib.load(fh)


def locked_packages(root: Path) -> dict[str, set[str]]:
    """Cargo.lock's packages: name -> the names of what it depends on (every version together)."""
    path = root / "Cargo.lock"
    if not path.is_file():
        return {}
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: malformed lock file: {exc}") from None
    packages: dict[str, set[str]] = {}
    for package in doc.get("package", []):
        deps = {str(d).split(" ", 1)[0] for d in package.get("dependencies", [])}
        packages.setdefault(str(package.get("name", "")), set()).update(deps)
    return packages


def plan(packages: dict[str, set[str]]) -> dict[str, Need]:
    """Which locked crates need what, and why."""
    rules = table()
    needs: dict[str, Need] = {}
    for name in sorted(packages):
        if name in rules.get("crate", {}):
            needs.setdefault(name, Need()).add(rules["crate"][name])
        for tool in sorted(packages[name] & set(rules.get("tool", {}))):
            needs.setdefault(name, Need()).add(rules["tool"][tool])
    return needs


def render(needs: dict[str, Need], indent: str = "  ") -> str:
    """The value of the `generated` binding."""
    i1, i2, i3 = indent + "  ", indent + "    ", indent + "      "
    deps = [
        line
        for name, need in needs.items()
        if need.deps
        for line in [
            *(f"{i2}# {reason}" for reason in need.why),
            f'{i2}"{name}" = [ {" ".join(need.deps)} ];',
        ]
    ]
    envs = []
    for name, need in needs.items():
        if need.envs:
            envs += [] if need.deps else [f"{i2}# {reason}" for reason in need.why]
            envs.append(f'{i2}"{name}" = {{')
            envs += [f'{i3}{key} = "{value}";' for key, value in sorted(need.envs.items())]
            envs.append(f"{i2}}};")

    def block(key: str, lines: list[str]) -> list[str]:
        return [f"{i1}{key} = {{", *lines, f"{i1}}};"] if lines else [f"{i1}{key} = {{ }};"]

    return "\n".join(["{", *block("deps", deps), *block("envs", envs), f"{indent}}}"])


def summary(needs: dict[str, Need]) -> list[str]:
    """One line per crate, for the init and update output."""
    out = []
    for name, need in needs.items():
        parts = [*need.deps, *(f"{k}=…" for k in sorted(need.envs))]
        out.append(f"{name}: {', '.join(parts)}")
    return out


def refresh(root: Path) -> tuple[dict[str, Need], bool]:
    """Rewrite the `generated` binding of the project's Cargo.dependencies.nix from its Cargo.lock.
    Returns what is needed and whether the file holds the binding (False: the user's own format, left
    as it is)."""
    needs = plan(locked_packages(root))
    path = root / FILE
    if not path.is_file():
        return needs, False
    data = path.read_bytes()
    src = ns.parse(FILE, data)
    value = _generated(src)
    if value is None:
        return needs, False
    line = src.line_before(value.start_byte)
    indent = line[: len(line) - len(line.lstrip())]
    new = data[: value.start_byte] + render(needs, indent).encode() + data[value.end_byte :]
    if new != data:
        atomic_write(path, new)
    return needs, True


def _generated(src: ns.Source) -> Node | None:
    for binding in src.bindings():
        value = binding.child_by_field_name("expression")
        scope = binding.parent.parent if binding.parent is not None else None
        if (
            ns.binding_name(src, binding) == "generated"
            and value is not None
            and value.type == "attrset_expression"
            and scope is not None
            and scope.type == "let_expression"
        ):
            return value
    return None
