"""Build-script arguments read at build time, not evaluation time: the export's last import from derivation.

cargo (libnix)'s `derivations/default.nix` (every generation with build-rs-libnix) defines

    rustc_arguments = rust_crate_parent: …
      lib.replaceStrings ["\\n"] [""] (builtins.concatStringsSep " " (map (crate:
        if builtins.pathExists "${crate}/nix/rustc-arguments" then
          builtins.readFile "${crate}/nix/rustc-arguments" else "") rust_crate_parent));

(and `rustc_propagated_arguments` over `allCollectedInputs rust_crate_libraries`) and splices the text
into each crate's rustc command: evaluating any crate builds its build script first. This rule replaces
that read by `build_time_arguments.nix`, which names the same files in the string (the dependency stays)
and lets bash expand their words when the crate is built, handing them to rustc as an `@argfile`.

It only applies when every use of the two helpers, in every file, is a word of a build phase's rustc
command (`${RUSTC} \\ … ${fn.rustc_arguments …} \\`): there an argfile is exactly the words the splice
gave. Anywhere else (inside quotes, in another helper, in a non-rustc command) the read stays, and the
release says why. `libnix release --keep-ifd` keeps it too.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

from scaffold.buildsystem import ifd
from scaffold.buildsystem.findings import Finding
from scaffold.buildsystem.rules import Context, FileJob
from scaffold.nix import syntax as ns

if TYPE_CHECKING:
    from tree_sitter import Node

HELPERS = ("rustc_arguments", "rustc_propagated_arguments")
_NAME = re.compile(rb"\b(" + b"|".join(h.encode() for h in HELPERS) + rb")\b")
_RUSTC = re.compile(r"(\$\{RUSTC\}|\$RUSTC|\$\{rustc\}/bin/rustc|rustc)\s")
_PHASE = re.compile(r"(\w*Phase|buildCommand)$")


@functools.cache
def reader() -> str:
    """The nix function that replaces the read (kept as nix, beside this module)."""
    text = (Path(__file__).with_suffix(".nix")).read_text()
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return body.strip()


def survey(sources: list[ns.Source]) -> str | None:
    """Why the helpers cannot be read at build time (file:line and what), or None when they can."""
    for src in sources:
        if not any(h.encode() in src.data for h in HELPERS):
            continue
        for m in _NAME.finditer(src.data):
            node = src.node_at(m.start(), m.end())
            if node is None or node.type != "identifier":
                continue  # a comment, a string
            problem = _use_problem(src, node)
            if problem is not None:
                return f"{src.rel}:{src.line(node)}: {m.group().decode()} {problem}"
    return None


def _use_problem(src: ns.Source, ident: Node) -> str | None:
    path = ident.parent
    if path is not None and path.type == "attrpath" and path.parent is not None:
        if path.parent.type == "binding":
            return None  # the definition itself
        use = path.parent  # fn.rustc_arguments
        if use.type != "select_expression":
            return "is used outside a rustc command"
    elif path is not None and path.type == "variable_expression":
        use = path
    else:
        return "is used outside a rustc command"
    apply = use.parent
    if apply is None or apply.type != "apply_expression" or apply.child_by_field_name("function") != use:
        return "is not applied where it is used"
    hole = apply.parent
    string = hole.parent if hole is not None else None
    if hole is None or hole.type != "interpolation" or string is None:
        return "is used outside a string"
    binding = string.parent
    phase = ns.binding_name(src, binding) if binding is not None and binding.type == "binding" else ""
    if string.type != "indented_string_expression" or not _PHASE.search(phase):
        return "is used outside a build phase"
    before = src.line_before(hole.start_byte)
    after = src.data[hole.end_byte : hole.end_byte + 1]
    alone_before = before.strip() == "" or before.endswith((" ", "\t"))
    if not alone_before or after not in (b" ", b"\n", b"\t"):
        return "is not a word of its own (quoted or glued to other text)"
    if not _RUSTC.match(_command_start(src.data, hole.start_byte).lstrip()):
        return "is used in a command that is not rustc's"
    return None


def _command_start(data: bytes, offset: int) -> str:
    """The first line of the shell command that spans `offset` (lines continued with a backslash)."""
    start = data.rfind(b"\n", 0, offset) + 1
    while start > 0:
        prev = data.rfind(b"\n", 0, start - 1) + 1
        if not data[prev : start - 1].rstrip().endswith(b"\\"):
            break
        start = prev
    end = data.find(b"\n", start)
    return data[start : end if end >= 0 else len(data)].decode("utf-8", "replace")


def _read_into_string(src: ns.Source, read: Node) -> tuple[Node, str] | None:
    """For the readFile in upstream's shape: the expression to replace and its build-time twin."""
    name, args = ns.call(src, read)
    path = ns.unparen(args[0]) if args else None
    branch = read.parent
    if ns.last_name(name) != "readFile" or path is None or branch is None or branch.type != "if_expression":
        return None
    condition = branch.child_by_field_name("condition")
    cond_name, cond_args = ns.call(src, condition)
    if (
        ns.last_name(cond_name) != "pathExists"
        or len(cond_args) != 1
        or src.text(ns.unparen(cond_args[0])) != src.text(path)
        or ns.string_value(src, branch.child_by_field_name("alternative")) != ""
    ):
        return None
    func = _up(branch, "function_expression")
    mapped = _up(func, "apply_expression")
    if func is None or mapped is None:
        return None
    map_name, map_args = ns.call(src, mapped)
    param = func.child_by_field_name("universal")
    if ns.last_name(map_name) != "map" or len(map_args) != 2 or param is None:
        return None
    joined = _up(mapped, "apply_expression")
    join_name, join_args = ns.call(src, joined)
    if ns.last_name(join_name) != "concatStringsSep" or ns.string_value(src, join_args[0]) != " ":
        return None
    outer = _up(joined, "apply_expression")
    outer_name, outer_args = ns.call(src, outer)
    if outer is None or ns.last_name(outer_name) != "replaceStrings" or len(outer_args) != 3:
        return None
    if [src.text(a).replace(" ", "") for a in outer_args[:2]] != ['["\\n"]', '[""]']:
        return None
    files = f"(map ({src.text(param)}: {src.text(path)}) {src.text(map_args[1])})"
    line = src.line_before(outer.start_byte)
    indent = line[: len(line) - len(line.lstrip())]
    pad = indent + ("  " if line.strip() else "")
    body = reader().replace("\n", "\n" + pad + "  ")
    lead = f"\n{pad}" if line.strip() else ""
    return outer, f"{lead}({body})\n{pad}  {files}"


def _up(node: Node | None, kind: str) -> Node | None:
    """The nearest enclosing `kind`, through parentheses; None if anything else is in between."""
    parent = node.parent if node is not None else None
    while parent is not None and parent.type == "parenthesized_expression":
        parent = parent.parent
    if parent is None or parent.type != kind:
        return None
    if kind == "apply_expression":
        if node is not None and parent.child_by_field_name("function") == node:
            return None  # `f x` where node is f: not an argument
        while (
            parent.parent is not None
            and parent.parent.type == "apply_expression"
            and (parent.parent.child_by_field_name("function") == parent)
        ):
            parent = parent.parent  # `map f xs`: the whole application
    return parent


def apply(ctx: Context, job: FileJob) -> None:
    src = job.src
    if not any(h.encode() in src.data for h in HELPERS) or b"readFile" not in src.data:
        return
    for site in ifd.find(src):
        helper = ns.bound_name(src, site.sink)
        if site.kind != "output" or site.sink_name != "readFile" or helper not in HELPERS:
            continue
        if not ctx.build_time_arguments:
            continue  # kept (--keep-ifd, or a use outside rustc's command): verify reports the read
        found = _read_into_string(src, site.sink)
        if found is None or job.taken(found[0]):
            continue
        node, text = found
        job.replace(node, text)
        ctx.report.rewritten.append(
            Finding(src.rel, src.line(node), f"{helper}: build-script arguments read at build time (was IFD)")
        )
