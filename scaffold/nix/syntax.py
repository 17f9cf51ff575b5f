"""Nix source as a syntax tree (tree-sitter-nix): what the rewrite rules and the checks read.

A tree tells a path literal from the same characters inside a URL or a build phase, and lets a rule follow
a `let` name to the expression it stands for. Offsets are byte offsets into the file's UTF-8 bytes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Language, Node, Parser, Query, Tree

PATHS = ("path_expression", "hpath_expression", "spath_expression")
STRINGS = ("string_expression", "indented_string_expression")
_SCOPES = ("let_expression", "rec_attrset_expression", "let_attrset_expression")
_KINDS = (
    "(apply_expression) @apply (binding) @binding "
    "[(path_expression) (hpath_expression) (spath_expression)] @path"
)


@functools.cache
def _language() -> Language:
    import tree_sitter_nix
    from tree_sitter import Language

    return Language(tree_sitter_nix.language())


@functools.cache
def _parser() -> Parser:
    from tree_sitter import Parser

    return Parser(_language())


@functools.cache
def query(source: str) -> Query:
    from tree_sitter import Query

    return Query(_language(), source)


def captures(q: str, node: Node) -> dict[str, list[Node]]:
    from tree_sitter import QueryCursor

    return QueryCursor(query(q)).captures(node)


@dataclass
class Source:
    """One file: its bytes and its tree."""

    rel: str
    data: bytes
    tree: Tree
    _nodes: dict[str, list[Node]] | None = None

    @property
    def root(self) -> Node:
        return self.tree.root_node

    def text(self, node: Node | None) -> str:
        """The source of a node; "" for a part the tree does not have (a recovered syntax error)."""
        if node is None:
            return ""
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "replace")

    @staticmethod
    def line(node: Node) -> int:
        return node.start_point[0] + 1

    def line_at(self, offset: int) -> int:
        return self.data.count(b"\n", 0, offset) + 1

    def line_before(self, offset: int) -> str:
        """The text of offset's line up to it: its indentation, or what stands before a node there."""
        return self.data[self.data.rfind(b"\n", 0, offset) + 1 : offset].decode("utf-8", "replace")

    def node_at(self, start: int, end: int) -> Node | None:
        return self.root.descendant_for_byte_range(start, end)

    def _all(self, kind: str) -> list[Node]:
        """One query per file (in C), shared by every rule and check that reads the same kind."""
        if self._nodes is None:
            self._nodes = captures(_KINDS, self.root)
        return self._nodes.get(kind, [])

    def applications(self) -> list[Node]:
        """Every `f a` in the file."""
        return self._all("apply")

    def paths(self) -> list[Node]:
        """Every path literal: relative or absolute, `~/…`, `<…>`."""
        return self._all("path")

    def bindings(self) -> list[Node]:
        """Every `name = value;`, at any depth."""
        return self._all("binding")


def parse(rel: str, data: bytes) -> Source:
    return Source(rel, data, _parser().parse(data))


def first_error(src: Source) -> Node | None:
    if not src.root.has_error:
        return None
    stack = [src.root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            return node
        stack.extend(c for c in reversed(node.children) if c.has_error or c.is_missing or c.is_error)
    return src.root


def unparen(node: Node | None) -> Node | None:
    while node is not None and node.type == "parenthesized_expression":
        node = node.child_by_field_name("expression")
    return node


def dotted(src: Source, node: Node | None) -> str | None:
    """`import`, `pkgs.fetchFromGitHub`, `builtins.fetchTarball`: the name an expression calls, if plain."""
    node = unparen(node)
    if node is None:
        return None
    if node.type == "variable_expression":
        return src.text(node)
    if node.type == "select_expression" and node.child_by_field_name("default") is None:
        base = dotted(src, node.child_by_field_name("expression"))
        path = node.child_by_field_name("attrpath")
        if base is None or path is None or any(c.type != "identifier" for c in path.named_children):
            return None
        return f"{base}.{src.text(path)}"
    return None


def call(src: Source, node: Node | None) -> tuple[str | None, list[Node]]:
    """An application `f a b` as (dotted name of f, [a, b]); (None, []) for anything else."""
    node = unparen(node)
    args: list[Node] = []
    while node is not None and node.type == "apply_expression":
        argument = node.child_by_field_name("argument")
        if argument is None:  # a syntax error tree-sitter recovered from
            return None, []
        args.append(argument)
        node = unparen(node.child_by_field_name("function"))
    if not args:
        return None, []
    return dotted(src, node), list(reversed(args))


def last_name(name: str | None) -> str:
    return (name or "").rsplit(".", 1)[-1]


def calls(src: Source, function: str, arity: int) -> Iterator[tuple[Node, list[Node]]]:
    """Every application of `function` (by its last name: `f`, `builtins.f`, `lib.f`) to exactly
    `arity` arguments, with them."""
    for node in src.applications():
        name, args = call(src, node)
        if last_name(name) == function and len(args) == arity:
            yield node, args


def binding_name(src: Source, binding: Node) -> str:
    path = binding.child_by_field_name("attrpath")
    return src.text(path) if path is not None else ""


def bindings(src: Source, attrset: Node) -> Iterator[tuple[str, Node, Node]]:
    """(name, binding node, value node) of an attribute set's or a let's plain bindings."""
    for child in attrset.named_children:
        if child.type != "binding_set":
            continue
        for b in child.named_children:
            if b.type == "binding":
                value = b.child_by_field_name("expression")
                if value is not None:
                    yield binding_name(src, b), b, value


def string_value(src: Source, node: Node | None) -> str | None:
    """The value of a string with no interpolation (escapes resolved), else None."""
    node = unparen(node)
    if node is None or node.type not in STRINGS:
        return None
    out = []
    for child in node.named_children:
        if child.type == "string_fragment":
            out.append(src.text(child))
        elif child.type in ("escape_sequence", "dollar_escape"):
            raw = src.text(child)
            out.append({"\\n": "\n", "\\t": "\t", "\\r": "\r"}.get(raw, raw[-1]))
        else:
            return None
    return "".join(out)


def plain_attrs(src: Source, node: Node | None) -> dict[str, str] | None:
    """`{ k = "v"; … }` as a dict when every binding is a plain string, else None."""
    node = unparen(node)
    if node is None or node.type != "attrset_expression":
        return None
    out: dict[str, str] = {}
    for child in node.named_children:
        if child.type != "binding_set":
            continue
        for b in child.named_children:
            value = string_value(src, b.child_by_field_name("expression")) if b.type == "binding" else None
            if value is None:
                return None
            out[binding_name(src, b)] = value
    return out


def bound_name(src: Source, node: Node) -> str | None:
    """The name of the nearest binding whose value holds `node` (None inside an attribute set value)."""
    parent = node.parent
    while parent is not None and parent.type not in ("binding", "source_code"):
        if parent.type == "attrset_expression":
            return None
        parent = parent.parent
    return binding_name(src, parent) if parent is not None and parent.type == "binding" else None


def _operator(src: Source, node: Node) -> str | None:
    operator = node.child_by_field_name("operator")
    return src.text(operator) if operator is not None else None


def top_expression(src: Source) -> Node | None:
    """The file's expression, past comments and parentheses (a caller's function, a default.nix's)."""
    return unparen(next((c for c in src.root.named_children if c.type != "comment"), None))


def is_parameter(src: Source, func: Node, name: str) -> bool:
    universal = func.child_by_field_name("universal")
    if universal is not None and src.text(universal) == name:
        return True
    formals = func.child_by_field_name("formals")
    if formals is None:
        return False
    names = (f.child_by_field_name("name") for f in formals.named_children if f.type == "formal")
    return any(n is not None and src.text(n) == name for n in names)


def resolve(src: Source, var: Node) -> Node | None:
    """The expression a `let`/`rec` name stands for, following names to names; None for a function
    parameter or a name defined elsewhere."""
    seen = 0
    node: Node | None = unparen(var)
    while node is not None and node.type == "variable_expression" and seen < 16:
        name = src.text(node)
        found = None
        scope = node.parent
        while scope is not None and found is None:
            if scope.type == "function_expression" and is_parameter(src, scope, name):
                return None
            if scope.type in _SCOPES:
                found = next((v for n, _b, v in bindings(src, scope) if n == name), None)
            scope = scope.parent
        if found is None:
            return None
        node = unparen(found)
        seen += 1
    return node


def source_of(src: Source, node: Node | None) -> Node | None:
    """What a read or an import takes its file from: `x + "/sub"` reads from x, `"${x}/sub"` too."""
    for _ in range(16):
        node = unparen(node)
        if node is None:
            return None
        if node.type == "variable_expression":
            target = resolve(src, node)
            if target is None:
                return node
            node = target
        elif node.type == "binary_expression" and _operator(src, node) == "+":
            node = node.child_by_field_name("left")
        elif node.type in STRINGS:
            first = next((c for c in node.named_children), None)
            if first is None or first.type != "interpolation":
                return node
            node = first.child_by_field_name("expression")
        else:
            return node
    return node
