"""The caller takes the consumer's package set: `{ system ? …, pkgs ? <the pinned nixpkgs>, fenix ? … }`.

cargo (libnix)'s `cargo_build_caller.nix` (every generation) takes only `{ system }`; its `let` binds
`pkgs` to a nixpkgs it pins and `fenix = import fenixSrc {}`, and fenix, given no `pkgs`, evaluates the
nixpkgs locked in fenix's own flake.lock. A consumer on their own nixpkgs evaluates three, and the crates
build against a package set they did not choose, sharing nothing with their system or binary cache.

Both bindings become parameters whose defaults are exactly what the caller pinned (the `let` names they
read, `nixpkgsSrc`, `fenixSrc`, inlined; a fetcher whose output fenix is imported from becomes its
builtins twin, see `fetcher_imports`), and fenix is handed `pkgs`. So
`import "${asset}/cargo_build_caller.nix" { inherit pkgs; }` evaluates one nixpkgs, the consumer's, and
the export's flake hands over its own inputs the same way. A caller that takes `pkgs` already (an export
released again with `--from`) is left as it is.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from scaffold.buildsystem import ifd
from scaffold.buildsystem.findings import Finding
from scaffold.buildsystem.rules import Context, FileJob
from scaffold.buildsystem.rules.fetcher_imports import builtin_twin
from scaffold.buildsystem.rules.pinned_src import TARBALL
from scaffold.names import CALLER
from scaffold.nix import syntax as ns

if TYPE_CHECKING:
    from tree_sitter import Node

PKGS_NOTE = (
    "# the package set every crate is built with: yours (`{ inherit pkgs; }`), else the nixpkgs pinned here"
)
FENIX_NOTE = "# the toolchain's fenix, evaluated with that same package set"


def apply(ctx: Context, job: FileJob) -> None:
    src = job.src
    if src.rel != CALLER:
        return
    func = ns.top_expression(src)
    formals = func.child_by_field_name("formals") if func is not None else None
    body = ns.unparen(func.child_by_field_name("body")) if func is not None else None

    def note(why: str) -> None:
        ctx.report.notes.append(Finding(src.rel, src.line(func or src.root), f"consumer's pkgs: {why}"))

    if func is None or func.type != "function_expression" or formals is None:
        return note("the caller is not a function of an attribute set; it keeps its own nixpkgs")
    names = [src.text(f.child_by_field_name("name")) for f in _formals(formals)]
    if "pkgs" in names:
        return  # it takes the consumer's package set already
    if body is None or body.type != "let_expression":
        return note("the caller's body is not a `let`; it keeps its own nixpkgs")
    lets = {name: (binding, value) for name, binding, value in ns.bindings(src, body)}
    if "pkgs" not in lets:
        return note("the caller binds no `pkgs`; it keeps its own nixpkgs")
    moved = ["pkgs"]
    pinned = _project_nixpkgs(ctx, src, lets)
    default = _inline(src, lets, lets["pkgs"][1], {"pkgs"}, top=True, replace=pinned)
    params = [f"{PKGS_NOTE}\n  pkgs ? {default}"]
    fenix = lets.get("fenix")
    head, args = ns.call(src, fenix[1]) if fenix is not None else (None, [])
    if fenix is not None and "fenix" not in names and head == "import" and len(args) == 2:
        source = _inline(src, lets, args[0], {"fenix", "pkgs"})
        params.append(f"{FENIX_NOTE}\n  fenix ? import {source} {_with_pkgs(src, args[1])}")
        moved.append("fenix")
    spans = [_whole_lines(src, lets[name][0]) for name in moved]
    if any(job.taken_range(a, b) for a, b in spans) or job.taken(formals):
        return note("another rule rewrote the same lines; the caller keeps its own nixpkgs")
    # the let names only the moved bindings read (nixpkgsSrc, fenixSrc) go with them
    read = {src.text(v) for name in moved for v in _variables(lets[name][1])}
    for name, (binding, _value) in lets.items():
        if name in moved or name not in read or not _used_only_in(src, name, spans, binding):
            continue
        spans.append(_whole_lines(src, binding))
    for start, end in _merged(src, spans):
        job.replace_range(start, end, "")
    kept = [src.text(f) for f in _formals(formals)]
    ellipsis = b"..." in src.data[formals.start_byte : formals.end_byte]
    listed = ",\n  ".join([*kept, *params, *(["..."] if ellipsis else [])])
    job.replace(formals, "{\n  " + listed + "\n}")  # no trailing comma: tree-sitter-nix refuses one
    ctx.report.rewritten.append(
        Finding(src.rel, src.line(formals), f"the caller takes the consumer's {' and '.join(moved)}")
    )


def _project_nixpkgs(ctx: Context, src: ns.Source, lets: dict[str, tuple[Node, Node]]) -> dict[str, str]:
    """The nixpkgs the project's flake.lock pins, in place of the caller's own pin: the `let` names
    `pkgs` reads whose value is a `builtins.fetchTarball`."""
    if ctx.nixpkgs is None:
        return {}
    out = {}
    for var in _variables(lets["pkgs"][1]):
        name = src.text(var)
        head, _ = ns.call(src, lets[name][1]) if name in lets else (None, [])
        if head in TARBALL:
            out[name] = f"({ctx.nixpkgs.fetch()})"
    if not out:
        ctx.report.notes.append(
            Finding(src.rel, 1, "the caller's nixpkgs is no fetchTarball: it keeps it, not flake.lock's")
        )
    return out


def _formals(formals: Node) -> list[Node]:
    return [f for f in formals.named_children if f.type == "formal"]


def _inline(
    src: ns.Source,
    lets: dict[str, tuple[Node, Node]],
    node: Node,
    outer: set[str],
    *,
    top: bool = False,
    replace: dict[str, str] | None = None,
) -> str:
    """The text of `node` with the `let` names it reads replaced by their values (a fetcher whose
    output is imported by its builtins twin; a name in `replace` by that text), parenthesised inside
    another expression: it moves out of the `let`'s scope."""
    replace = replace or {}
    node_u = ns.unparen(node)
    if node_u is not None and node_u.type == "variable_expression":
        name = src.text(node_u)
        if name in replace and name not in outer:
            return replace[name]
        if name in lets and name not in outer:
            value = ns.unparen(lets[name][1])
            producer, _ = ns.call(src, value)
            if ns.last_name(producer) in ifd.FETCHERS and value is not None:
                twin = builtin_twin(src, value)
                if twin is not None:
                    return f"({twin})"
            return _inline(src, lets, lets[name][1], outer | {name}, replace=replace)
    start = node.start_byte
    text = src.data[start : node.end_byte]
    edits = []
    for var in _variables(node):
        name = src.text(var)
        if name in lets and name not in outer and not _shadowed(src, var, node):
            new = _inline(src, lets, var, outer, replace=replace)
            edits.append((var.start_byte - start, var.end_byte - start, new))
    for a, b, new in sorted(edits, reverse=True):
        text = text[:a] + new.encode() + text[b:]
    shown = text.decode("utf-8", "replace")
    simple = node.type in ("variable_expression", "parenthesized_expression", "attrset_expression")
    return shown if simple or top else f"({shown})"


def _variables(node: Node) -> list[Node]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        if n.type == "variable_expression":
            out.append(n)
        stack.extend(n.named_children)
    return out


def _shadowed(src: ns.Source, var: Node, top: Node) -> bool:
    """A name bound again between `var` and `top` (a function's parameter, an inner let) is not ours."""
    name = src.text(var)
    scope = var.parent
    while scope is not None and scope != top.parent:
        if scope.type == "function_expression" and ns.is_parameter(src, scope, name):
            return True
        if scope.type in ("let_expression", "rec_attrset_expression") and any(
            n == name for n, _b, _v in ns.bindings(src, scope)
        ):
            return True
        scope = scope.parent
    return False


def _with_pkgs(src: ns.Source, args: Node) -> str:
    """fenix's arguments with `inherit pkgs;` added (`{}` -> `{ inherit pkgs; }`)."""
    node = ns.unparen(args)
    if node is None or node.type != "attrset_expression":
        return f"({src.text(args)} // {{ inherit pkgs; }})"
    inner = src.data[node.start_byte + 1 : node.end_byte - 1].decode("utf-8", "replace").strip()
    return f"{{ inherit pkgs; {inner} }}" if inner else "{ inherit pkgs; }"


def _whole_lines(src: ns.Source, binding: Node) -> tuple[int, int]:
    """The binding with its indentation and line end, when it stands on lines of its own."""
    start, end = binding.start_byte, binding.end_byte
    line_start = src.data.rfind(b"\n", 0, start) + 1
    line_end = src.data.find(b"\n", end)
    line_end = len(src.data) if line_end < 0 else line_end + 1
    if src.data[line_start:start].strip() or src.data[end:line_end].strip():
        return start, end
    return line_start, line_end


def _merged(src: ns.Source, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Removed lines with only blank lines between them go as one, and leave one blank line, not two."""
    out: list[list[int]] = []
    for start, end in sorted(spans):
        if out and not src.data[out[-1][1] : start].strip():
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    for span in out:
        before = src.data[: span[0]]
        if before.endswith(b"\n\n") or before.rstrip(b" ").endswith(b"\n\n"):
            nxt = src.data.find(b"\n", span[1])
            if nxt >= 0 and not src.data[span[1] : nxt].strip():
                span[1] = nxt + 1
    return [(a, b) for a, b in out]


def _used_only_in(src: ns.Source, name: str, spans: list[tuple[int, int]], binding: Node) -> bool:
    """Whether every other mention of `name` lies inside the moved bindings."""
    word = re.compile(rb"(?<![\w'-])" + re.escape(name.encode()) + rb"(?![\w'-])")
    for m in word.finditer(src.data):
        at = m.start()
        if binding.start_byte <= at < binding.end_byte or any(a <= at < b for a, b in spans):
            continue
        node = src.node_at(m.start(), m.end())
        if node is not None and node.type == "comment":
            continue
        return False
    return True
