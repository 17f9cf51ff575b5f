"""Verify an exported build system, as `libnix check` does and as a release does on its own output before
anything is moved into place: the pins, absolute paths of the generating machine and paths nix would read,
git pins, crates on crates.io's refusing endpoint, symlinks out of it, import-from-derivation, and that nix
parses every file. Nix is read as a syntax tree, so a path is never confused with the same characters in
a URL or a build phase.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from scaffold.buildsystem import crates_io, ifd
from scaffold.buildsystem.findings import Finding, Report
from scaffold.buildsystem.layout import nix_files, root_attributes, syntax_error, validate_layout
from scaffold.buildsystem.layout import parse as read_nix
from scaffold.buildsystem.pins import Pin
from scaffold.buildsystem.rules.crate_sources import api_fetches
from scaffold.buildsystem.rules.pinned_src import TARBALL, fetch_calls, hash_problem
from scaffold.nix import syntax as ns
from scaffold.nix import tool as nixtool

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
        src = read_nix(rel, path.read_bytes())
        bad = syntax_error(src)
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
        bound = ns.binding_name(src, binding)
        expression = binding.child_by_field_name("expression")
        literal = ns.string_value(src, expression) if bound in _READ_BINDINGS else None
        if literal and literal.startswith("/"):
            report.errors.append(
                Finding(rel, src.line(binding), f"{bound} = absolute path {literal} nix would read")
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
    return [Finding(src.rel, src.line(node), "-".join(crate)) for node, _v, crate in api_fetches(src)]


def crates_on_api(root: Path) -> int:
    """How many crate sources of a build system crates.io's API endpoint still serves them from."""
    return sum(
        len(_crates_on_api(read_nix(p.relative_to(root).as_posix(), p.read_bytes()))) for p in nix_files(root)
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
