"""A generated build system: find it, pin its local sources to the release tarball, and verify it.

cargo (libnix) points at the project's sources in three ways: `project_root = ../.;` in
`cargo_build_caller.nix` (relative to where the files were generated), `src = builtins.filterSource (…)
/absolute/checkout;` in root-crate files of older versions, and `builtins.fetchTarball { url; sha256; }`
when `write-nix-buildsystem --url --hash` already pinned them. The first two become the pinned tarball,
the third is checked against it. `pkgs.fetchFromGitHub` imported at evaluation time (fenix) becomes
`builtins.fetchTarball` of the same archive: the same content hash, and no import-from-derivation.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import nixlex, nixtool
from .errors import UserError
from .nixhash import Sha256, parse_sha256

CALLER = "cargo_build_caller.nix"
DEPENDENCIES = "Cargo.dependencies.nix"


@dataclass(frozen=True)
class Pin:
    """The tag's tarball: where consumers fetch the sources, and its fetchTarball hash."""

    url: str
    sha256: Sha256

    def fetch(self) -> str:
        return f'builtins.fetchTarball {{ url = {nix_string(self.url)}; sha256 = "{self.sha256.prefixed}"; }}'

    def path_expr(self, sub: str) -> str:
        # a path value, not a string: `lib.fileset.toSource { root = project_root; }` refuses strings
        expr = f"/. + builtins.unsafeDiscardStringContext ({self.fetch()})"
        return f'({expr} + "/{sub}")' if sub else f"({expr})"

    def string_expr(self, sub: str) -> str:
        return f'"${{{self.fetch()}}}/{sub}"' if sub else self.fetch()


@dataclass(frozen=True)
class Origin:
    """Where the files were generated (relative literals resolve from there) and the trees whose
    contents the tarball holds (the repository, or the worktree of the tag)."""

    generated_at: Path
    source_roots: tuple[Path, ...]


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class Report:
    rewritten: list[Finding] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)
    ifd: list[Finding] = field(default_factory=list)
    parsed: str = "not checked"  # "ok", "not checked (nix-instantiate not found)", or nix's error
    attributes: list[str] = field(default_factory=list)
    files: int = 0

    def as_json(self) -> dict[str, object]:
        return {
            "files": self.files,
            "attributes": self.attributes,
            "rewritten": [str(f) for f in self.rewritten],
            "errors": [str(f) for f in self.errors],
            "ifd": [str(f) for f in self.ifd],
            "parsed": self.parsed,
        }


def nix_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
    return f'"{escaped}"'


def validate_layout(root: Path) -> None:
    if not root.is_dir():
        raise UserError(f"{root}: no such directory")
    missing = [p for p in (CALLER, "derivations") if not (root / p).exists()]
    if missing:
        raise UserError(
            f"{root} is not a generated build system (no {' and no '.join(missing)}): give the output "
            "directory of write-nix-buildsystem, e.g. target/release/nix"
        )


def nix_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.nix") if p.is_file())


# -- rewriting ---------------------------------------------------------------------------------------

# patterns start with a literal: Python's re then jumps between candidates instead of trying every offset
_FILTER_SOURCE = re.compile(r"src\s*=\s*builtins\.filterSource\s*\(")
_FETCH_GITHUB = re.compile(r"fetchFromGitHub\s*\{([^{}]*)\}")
_FETCH_TARBALL = re.compile(r"builtins\.fetchTarball\s*\{([^{}]*)\}")
_ATTR = re.compile(r'([A-Za-z_][\w-]*)\s*=\s*"([^"\\$]*)"\s*;')


def _attrs(body: str) -> dict[str, str] | None:
    """The attributes of a `{ k = "v"; … }` body when all are plain strings, else None."""
    found = dict(_ATTR.findall(body))
    rest = _ATTR.sub("", body).strip()
    return found if not rest else None


def _balanced_end(text: str, open_paren: int) -> int:
    depth = 0
    for i in range(open_paren, len(text)):
        c = text[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
    raise nixlex.LexError("unbalanced parentheses")


def _resolve(literal: str, rel_file: Path, origin: Origin) -> Path:
    if literal.startswith("/"):
        return Path(os.path.normpath(literal))
    base = origin.generated_at / rel_file.parent
    return Path(os.path.normpath(base / literal))


def _inside(path: Path, root: Path) -> str | None:
    try:
        rel = path.relative_to(root)
    except ValueError:
        return None
    return "" if str(rel) == "." else rel.as_posix()


def _source_sub(path: Path, origin: Origin) -> str | None:
    for root in origin.source_roots:
        sub = _inside(path, root)
        if sub is not None:
            return sub
    return None


def rewrite_text(text: str, rel_file: Path, origin: Origin, pin: Pin, report: Report) -> str:
    """Pin every local source in one file; record what changed and what cannot be pinned."""
    shown = rel_file.as_posix()
    edits: list[tuple[int, int, str]] = []

    # older cargo (libnix): src = builtins.filterSource (path: type: …) /abs/checkout[/member];
    for m in _FILTER_SOURCE.finditer(text) if "filterSource" in text else ():
        end = _balanced_end(text, m.end() - 1)
        lit = re.match(r"\s*(/[A-Za-z0-9._\-+/]+)", text[end:])
        if not lit:
            continue
        sub = _source_sub(Path(os.path.normpath(lit.group(1))), origin)
        if sub is None:
            continue  # reported below as an unpinnable path
        stop = end + lit.end()
        edits.append((m.start(), stop, f"src = {pin.string_expr(sub)}"))
        report.rewritten.append(Finding(shown, nixlex.line_of(text, m.start()), f"src {lit.group(1)} pinned"))

    taken = [(a, b) for a, b, _ in edits]
    for lit in nixlex.path_literals(text):
        if any(a <= lit.start < b for a, b in taken):
            continue
        line = nixlex.line_of(text, lit.start)
        if lit.kind == "search":
            report.errors.append(Finding(shown, line, f"impure search path {lit.text} (not pinned)"))
            continue
        if lit.text.startswith("~"):
            report.errors.append(Finding(shown, line, f"home path {lit.text} cannot be pinned"))
            continue
        resolved = _resolve(lit.text, rel_file, origin)
        if not lit.text.startswith("/") and _inside(resolved, origin.generated_at) is not None:
            continue  # a file of the build system itself
        sub = _source_sub(resolved, origin)
        if sub is None:
            report.errors.append(
                Finding(shown, line, f"local path {lit.text} ({resolved}) is outside the project")
            )
            continue
        edits.append((lit.start, lit.end, pin.path_expr(sub)))
        report.rewritten.append(Finding(shown, line, f"{lit.text} pinned to the tag's tarball"))

    # import (pkgs.fetchFromGitHub {…}) is import-from-derivation; fetchTarball of the archive is not
    for m in _FETCH_GITHUB.finditer(text) if "fetchFromGitHub" in text else ():
        attrs = _attrs(m.group(1))
        if attrs is None or not {"owner", "repo", "rev"} <= attrs.keys():
            continue
        if not set(attrs) <= {"owner", "repo", "rev", "sha256", "hash", "name"}:
            continue  # fetchSubmodules and friends change the content: leave it, the IFD report shows it
        digest = attrs.get("sha256") or attrs.get("hash")
        if not digest:
            continue
        url = f"https://github.com/{attrs['owner']}/{attrs['repo']}/archive/{attrs['rev']}.tar.gz"
        body = f"    url = {nix_string(url)};\n    sha256 = {nix_string(digest)};\n"
        new = f"builtins.fetchTarball {{\n{body}  }}"
        start = m.start() - 5 if text.endswith("pkgs.", 0, m.start()) else m.start()
        edits.append((start, m.end(), new))
        line = nixlex.line_of(text, m.start())
        report.rewritten.append(
            Finding(shown, line, f"fetchFromGitHub {attrs['owner']}/{attrs['repo']} -> builtins.fetchTarball")
        )

    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def rewrite(root: Path, origin: Origin, pin: Pin) -> Report:
    """Rewrite every `.nix` file under `root` in place (a staging copy); `verify` checks the result."""
    report = Report()
    for path in nix_files(root):
        rel = path.relative_to(root)
        text = path.read_text(encoding="utf-8")
        try:
            new = rewrite_text(text, rel, origin, pin, report)
        except nixlex.LexError as exc:
            report.errors.append(Finding(rel.as_posix(), 1, f"cannot read as nix: {exc}"))
            continue
        if new != text:
            path.write_text(new, encoding="utf-8")
    return report


# -- verification ------------------------------------------------------------------------------------

_LEAK_PATTERNS = (
    re.compile(r"/home/[^/\s\"';}]+"),
    re.compile(r"/Users/[^/\s\"';}]+"),
    re.compile(r"/nix/store/[0-9a-df-np-sv-z]{32}-[^\s\"';}]*"),
)
_IFD_READ = re.compile(r"builtins\.(readFile|pathExists|readDir)\s*\(?\s*\"\$\{")
_IFD_IMPORT_FETCH = re.compile(r"import\s*\(\s*(?:pkgs\.)?(fetch\w+)")
_FETCHER_CALL = re.compile(r"(fetch\w+)\s*\{")
_BOUND_TO = re.compile(r"([A-Za-z_][\w'-]*)\s*=\s*(?:pkgs\.)?$")
_NAME = re.compile(r'^\s*name\s*=\s*"([^"]+)"\s*;', re.M)


def _needles(source_roots: tuple[Path, ...], extra: tuple[Path, ...]) -> list[tuple[str, re.Pattern[str]]]:
    out = {str(p) for p in (*source_roots, *extra) if str(p) not in ("/", "")}
    home = os.path.expanduser("~")
    if home not in ("/", "~", ""):
        out.add(home)
    return [(n, re.compile(re.escape(n) + r"(?=[/\s\"';}]|$)")) for n in sorted(out, key=len, reverse=True)]


def verify(
    root: Path,
    pin: Pin | None,
    source_roots: tuple[Path, ...] = (),
    *,
    report: Report | None = None,
    parse: bool = True,
) -> Report:
    """Check an exported build system: pins, local paths, IFD, and that nix parses every file."""
    report = report or Report()
    files = nix_files(root)
    report.files = len(files)
    waiter = nixtool.start_parse(files) if parse and nixtool.available() else None
    needles = _needles(source_roots, (root.resolve(),))
    for path in files:
        rel = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8")
        _check_paths(text, rel, needles, report)
        if pin is not None:
            _check_pins(text, rel, pin, report)
        _check_ifd(text, rel, report)
        if rel.startswith("derivations/") and rel != "derivations/default.nix" and "project_root" in text:
            names = _NAME.findall(text)
            if names:
                report.attributes.append(names[0])
    report.attributes.sort()
    if waiter is not None:
        error = waiter()
        report.parsed = "ok" if error is None else error
        if error is not None:
            report.errors.append(Finding("(nix-instantiate --parse)", 0, error))
    elif parse:
        report.parsed = "not checked (nix-instantiate not found)"
    return report


def _check_paths(text: str, rel: str, needles: list[tuple[str, re.Pattern[str]]], report: Report) -> None:
    for needle, pattern in needles:
        if needle not in text:
            continue
        for m in pattern.finditer(text):
            line = nixlex.line_of(text, m.start())
            report.errors.append(Finding(rel, line, f"absolute path of the build machine: {needle}"))
    for pattern in _LEAK_PATTERNS:
        for m in pattern.finditer(text):
            line = nixlex.line_of(text, m.start())
            report.errors.append(Finding(rel, line, f"absolute path of the build machine: {m.group()}"))
    try:
        literals = list(nixlex.path_literals(text))
    except nixlex.LexError as exc:
        report.errors.append(Finding(rel, 1, f"cannot read as nix: {exc}"))
        return
    for lit in literals:
        line = nixlex.line_of(text, lit.start)
        if lit.kind == "search":
            report.errors.append(Finding(rel, line, f"impure search path {lit.text} (not pinned)"))
        elif lit.text == "/.":
            continue  # the file-system root: only ever used to turn a fetched store path into a path
        elif lit.text.startswith(("/", "~")):
            report.errors.append(Finding(rel, line, f"absolute path literal {lit.text}"))
        else:
            depth = len(Path(rel).parent.parts)
            ups = 0
            for part in Path(lit.text).parts:
                ups = ups + 1 if part == ".." else ups - (part not in (".",))
                if ups > depth:
                    report.errors.append(Finding(rel, line, f"{lit.text} points outside the build system"))
                    break


def _check_pins(text: str, rel: str, pin: Pin, report: Report) -> None:
    for m in _FETCH_TARBALL.finditer(text) if "fetchTarball" in text else ():
        attrs = _attrs(m.group(1)) or {}
        if attrs.get("url") != pin.url:
            continue
        line = nixlex.line_of(text, m.start())
        try:
            pinned = parse_sha256(attrs.get("sha256", ""))
        except UserError:
            report.errors.append(Finding(rel, line, f"malformed sha256 for {pin.url}"))
            continue
        if pinned != pin.sha256:
            report.errors.append(
                Finding(
                    rel, line, f"{pin.url} pinned to {pinned.prefixed}, but its hash is {pin.sha256.prefixed}"
                )
            )


def _check_ifd(text: str, rel: str, report: Report) -> None:
    for m in _IFD_READ.finditer(text) if "builtins.read" in text or "builtins.pathExists" in text else ():
        line = nixlex.line_of(text, m.start())
        report.ifd.append(
            Finding(rel, line, f"builtins.{m.group(1)} on a derivation's output during evaluation")
        )
    if "import" not in text:
        return
    for m in _IFD_IMPORT_FETCH.finditer(text):
        line = nixlex.line_of(text, m.start())
        report.ifd.append(Finding(rel, line, f"import of {m.group(1)}'s output during evaluation"))
    for m in _FETCHER_CALL.finditer(text):
        # anchored on the rare `fetchX {`, then the binding `name = [pkgs.]` just before it
        bound = _BOUND_TO.search(text, max(0, m.start() - 120), m.start())
        if not bound:
            continue
        name, fetcher = bound.group(1), m.group(1)
        imp = re.search(r"\bimport\s*\(?\s*" + re.escape(name) + r"\b", text)
        if imp:
            line = nixlex.line_of(text, imp.start())
            report.ifd.append(Finding(rel, line, f"import of {name} ({fetcher}) during evaluation"))
