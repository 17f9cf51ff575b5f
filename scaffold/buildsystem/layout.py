"""A generated build system: find its layout, pin its local sources to the release tarball, verify it.

The rules that rewrite (one module each, see `rules/`) and the checks that verify both read nix as a
syntax tree (`nixsyntax`), so a path literal is never confused with the same characters in a URL or a
build phase. `rewrite` works on a staging copy; `verify` is what `libnix check` runs, and what release
runs on its own output before anything is moved into place.

Its types live in modules of their own (`pins`, `findings`), which the rules share: imports run downward.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scaffold.buildsystem import crates_io, ifd
from scaffold.buildsystem.findings import Finding, Report
from scaffold.buildsystem.pins import CALLER, DEPENDENCIES, Origin, Pin
from scaffold.buildsystem.rules import Context, FileJob, build_time_arguments, rules
from scaffold.buildsystem.rules.pinned_src import TARBALL, fetch_calls, hash_problem
from scaffold.errors import UserError
from scaffold.nix import syntax as ns
from scaffold.nix import tool as nixtool


@dataclass(frozen=True)
class Layout:
    """A build system's entry points, read from its caller's imports rather than assumed: generations
    keep `default.nix` in `derivations/` or beside the caller."""

    root: Path
    entry: str  # the default.nix the caller imports, relative to root


def nix_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.nix") if p.is_file())


_PARSED: dict[tuple[str, bytes], ns.Source] = {}


def _parse(rel: str, data: bytes) -> ns.Source:
    """The rewrite and the verification read the same unchanged files: parse each once."""
    key = (rel, data)
    if key not in _PARSED:
        if len(_PARSED) > 4096:
            _PARSED.clear()
        _PARSED[key] = ns.parse(rel, data)
    return _PARSED[key]


def _syntax_error(src: ns.Source) -> Finding | None:
    bad = ns.first_error(src)
    if bad is None:
        return None
    return Finding(src.rel, src.line(bad), "cannot read as nix (syntax error)")


# -- layout ------------------------------------------------------------------------------------------


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
    src = _parse(CALLER, caller.read_bytes())
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
        rank = prefer.index(binary) if binary in prefer else len(prefer)
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
    src = _parse(layout.entry, entry.read_bytes())
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


# -- rewriting ---------------------------------------------------------------------------------------


def rewrite(
    root: Path,
    origin: Origin,
    pin: Pin,
    tag_paths: frozenset[str] | None = None,
    project_sub: str = "",
    *,
    keep_ifd: bool = False,
    why_missing: Callable[[str], str] | None = None,
    nixpkgs: Pin | None = None,
) -> Report:
    """Rewrite every `.nix` file under `root` in place (a staging copy); `verify` checks the result.
    `tag_paths`: what the tag's tarball holds; `why_missing` says why a path is not there."""
    report = Report()
    export_files = frozenset(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    ctx = Context(
        pin, origin, report, export_files, tag_paths, project_sub, why_missing=why_missing, nixpkgs=nixpkgs
    )
    steps = rules()
    sources = []
    for path in nix_files(root):
        src = _parse(path.relative_to(root).as_posix(), path.read_bytes())
        bad = _syntax_error(src)
        if bad is not None:
            report.errors.append(bad)
        else:
            sources.append((path, src))
    if not keep_ifd:
        why = build_time_arguments.survey([src for _, src in sources])
        ctx.build_time_arguments = why is None
        if why is not None:
            report.notes.append(Finding("(release)", 0, f"build-script arguments read at evaluation: {why}"))
    for path, src in sources:
        job = FileJob(src)
        for step in steps:
            step(ctx, job)
        if job.edits:
            path.write_bytes(job.result())
    return report


# -- verification ------------------------------------------------------------------------------------

_BOUNDARY = rb"(?<![\w.\-~%+/:@])"
_LEAKS = re.compile(
    _BOUNDARY + rb"(?:/home/[^/\s\"';}]+|/Users/[^/\s\"';}]+|/nix/store/[0-9a-df-np-sv-z]{32}-[^\s\"';}]*)"
)
_READ_BY_NIX = {"import", "readFile", "pathExists", "readDir", "filterSource", "path", "scopedImport"}
_READ_BINDINGS = {"src", "root", "project_root"}


def _needles(source_roots: tuple[Path, ...], extra: tuple[Path, ...]) -> list[tuple[str, re.Pattern[bytes]]]:
    out = {str(p) for p in (*source_roots, *extra) if str(p) not in ("/", "")}
    home = os.path.expanduser("~")
    if home not in ("/", "~", ""):
        out.add(home)
    return [
        (n, re.compile(_BOUNDARY + re.escape(n.encode()) + rb"(?=[/\s\"';}]|$)"))
        for n in sorted(out, key=len, reverse=True)
    ]


def verify(
    root: Path,
    pin: Pin | None,
    source_roots: tuple[Path, ...] = (),
    *,
    report: Report | None = None,
    parse: bool = True,
) -> Report:
    """Check an exported build system: pins, local paths, IFD, its crates, and that nix parses it."""
    layout = validate_layout(root)
    report = report or Report()
    files = nix_files(root)
    report.files = len(files)
    report.entry = layout.entry
    waiter = nixtool.start_parse(files) if parse and nixtool.available() else None
    needles = _needles(source_roots, (root.resolve(),))
    on_api: list[Finding] = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        src = _parse(rel, path.read_bytes())
        bad = _syntax_error(src)
        if bad is not None:
            report.errors.append(bad)
            continue
        _check_leaks(src, needles, report)
        _check_paths(src, report)
        _check_git_pins(src, report)
        on_api += _crates_on_api(src)
        if pin is not None:
            _check_pins(src, pin, report)
        for site in ifd.find(src):
            report.ifd.append(Finding(rel, src.line(site.sink), ifd.describe(site)))
    _check_symlinks(root, report)
    if on_api:
        first = on_api[0]
        report.errors.append(
            Finding(
                first.file,
                first.line,
                f"{len(on_api)} crate(s) fetched from crates.io's API endpoint ({first.message} first): "
                f"{crates_io.WHY}; libnix release points them at static.crates.io",
            )
        )
    if not report.attributes:  # the release gives them, in its order (the project's binaries first)
        report.attributes = root_attributes(layout)
    if waiter is not None:
        error = waiter()
        report.parsed = "ok" if error is None else error
        if error is not None:
            report.errors.append(Finding("(nix-instantiate --parse)", 0, error))
    elif parse:
        report.parsed = "not checked (nix-instantiate not found)"
    return report


def _check_leaks(src: ns.Source, needles: list[tuple[str, re.Pattern[bytes]]], report: Report) -> None:
    for needle, pattern in needles:
        if needle.encode() not in src.data:
            continue
        for m in pattern.finditer(src.data):
            report.errors.append(
                Finding(src.rel, src.line_at(m.start()), f"absolute path of the build machine: {needle}")
            )
    if not any(w in src.data for w in (b"/home/", b"/Users/", b"/nix/store/")):
        return
    for m in _LEAKS.finditer(src.data):
        shown = m.group().decode("utf-8", "replace")
        report.errors.append(
            Finding(src.rel, src.line_at(m.start()), f"absolute path of the build machine: {shown}")
        )


def _check_paths(src: ns.Source, report: Report) -> None:
    rel = src.rel
    for node in src.paths():
        text, line = src.text(node), src.line(node)
        if node.type == "spath_expression":
            report.errors.append(Finding(rel, line, f"impure search path {text} (not pinned)"))
        elif node.type == "hpath_expression":
            report.errors.append(Finding(rel, line, f"home path {text} nix would read"))
        elif text == "/." or (text.startswith("/") and node.named_child_count > 1):
            continue  # `/. + …` makes a path of a fetched store path; interpolated: not a local file
        elif text.startswith("/"):
            report.errors.append(Finding(rel, line, f"absolute path literal {text}"))
        else:
            depth = len(Path(rel).parent.parts)
            ups = 0
            for part in Path(text).parts:
                ups = ups + 1 if part == ".." else ups - (part not in (".",))
                if ups > depth:
                    report.errors.append(Finding(rel, line, f"{text} points outside the build system"))
                    break
    # strings nix would read as paths: `import "/abs"`, `src = "/abs/checkout";`
    for node in src.applications():
        name, args = ns.call(src, node)
        if ns.last_name(name) in _READ_BY_NIX and args:
            value = ns.string_value(src, args[-1] if ns.last_name(name) == "filterSource" else args[0])
            if value and value.startswith("/"):
                report.errors.append(Finding(rel, src.line(node), f"absolute path {value} nix would read"))
    if b'"/' not in src.data:
        return
    for binding in src.bindings():
        name = ns.binding_name(src, binding)
        value = binding.child_by_field_name("expression")
        text = ns.string_value(src, value) if name in _READ_BINDINGS else None
        if text and text.startswith("/"):
            report.errors.append(
                Finding(rel, src.line(binding), f"{name} = absolute path {text} nix would read")
            )


def _check_symlinks(root: Path, report: Report) -> None:
    """A symlink that leaves the build system names a path of the generating machine, and dangles on
    every other one (`home -> /root`, `notes.txt -> /tmp/…/secret`): refused, like any other such path.
    One that stays inside it travels with the export."""
    top = root.resolve()
    for path in sorted(root.rglob("*")):
        if not path.is_symlink():
            continue
        target = os.readlink(path)
        where = Path(os.path.normpath(path.parent.resolve() / target)) if not os.path.isabs(target) else None
        if where is None or not where.is_relative_to(top):
            rel = path.relative_to(root).as_posix()
            report.errors.append(
                Finding(
                    rel, 0, f"a symlink to {target}, outside the build system: copy the file in, or drop it"
                )
            )


def _crates_on_api(src: ns.Source) -> list[Finding]:
    """Each fetch of a crate from the endpoint crates.io refuses to nix: every consumer's build fails."""
    if crates_io.API_PREFIX.encode() not in src.data:
        return []
    out = []
    for node, args in ns.calls(src, "fetchurl", 1):
        attrs = ns.unparen(args[0])
        for name, _b, value in ns.bindings(src, attrs) if attrs is not None else ():
            crate = crates_io.api_crate(ns.string_value(src, value) or "") if name == "url" else None
            if crate is not None:
                out.append(Finding(src.rel, src.line(node), "-".join(crate)))
    return out


def crates_on_api(root: Path) -> int:
    """How many crate sources of a build system crates.io's API endpoint still serves them from."""
    return sum(
        len(_crates_on_api(_parse(p.relative_to(root).as_posix(), p.read_bytes()))) for p in nix_files(root)
    )


_COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")


def _check_git_pins(src: ns.Source, report: Report) -> None:
    """A git dependency (`pkgs.fetchgit { url; rev; sha256; }`, what cargo (libnix) writes for a
    `git = …` source) is pinned when its rev is a full commit id and its output has a hash: a branch or
    tag name moves, and a fetch without a hash is refused by a pure evaluation or fails the build."""
    if b"fetchgit" not in src.data:
        return
    for node, args in ns.calls(src, "fetchgit", 1):
        attrset = ns.unparen(args[0])
        if attrset is None or attrset.type != "attrset_expression":
            continue
        values = {n: ns.string_value(src, v) for n, _b, v in ns.bindings(src, attrset)}
        url = values.get("url") or "a git repository"
        rev, digest = values.get("rev"), values.get("sha256") or values.get("hash")
        if "rev" not in values:
            problem = "no rev: fetchgit would take the branch the remote has now"
        elif rev is not None and not _COMMIT.match(rev):
            problem = f"rev {rev!r} is not a commit id (a branch or tag moves): pin the full commit"
        elif not digest and not ("sha256" in values or "hash" in values):
            problem = "no hash: the fetch is not pinned"
        elif digest == "" or (digest is not None and not digest.strip()):
            problem = "an empty hash: the fetch is not pinned"
        else:
            continue
        report.errors.append(Finding(src.rel, src.line(node), f"git dependency {url}: {problem}"))


def _check_pins(src: ns.Source, pin: Pin, report: Report) -> None:
    for node, attrs in fetch_calls(src, (*TARBALL, "pkgs.fetchurl", "fetchurl")):
        if attrs.get("url") != pin.url:
            continue
        line = src.line(node)
        name, _ = ns.call(src, node)
        if name not in TARBALL:
            report.errors.append(
                Finding(
                    src.rel,
                    line,
                    f"{name} of {pin.url} checks the tarball file's hash: pin the unpacked tree",
                )
            )
            continue
        problem = hash_problem(attrs, pin)
        if problem is not None:
            report.errors.append(Finding(src.rel, line, problem))


def source_pins(root: Path, layout: Layout) -> list[tuple[str, str]]:
    """(url, sha256) the project's sources are pinned to: `project_root` in the caller, else the
    `src` of the root crates (generations without project_root)."""
    caller = _parse(CALLER, (root / CALLER).read_bytes())
    bound = [
        (attrs["url"], attrs.get("sha256", ""))
        for node, attrs in fetch_calls(caller, TARBALL)
        if ns.bound_name(caller, node) == "project_root"
    ]
    if bound:
        return bound
    out: list[tuple[str, str]] = []
    for path in root_crates(layout).values():
        src = _parse(path.relative_to(root).as_posix(), path.read_bytes())
        out += [
            (a["url"], a.get("sha256", ""))
            for n, a in fetch_calls(src, TARBALL)
            if ns.bound_name(src, n) == "src"
        ]
    return sorted(set(out))
