"""`libnix check [DIR]`: verify an exported build system as a consumer would rely on it."""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scaffold import names
from scaffold.buildsystem import consumer_flake, crates_io, findings, layout, online, pins, verify
from scaffold.buildsystem.consumer_eval import Built, Evaluation, build, evaluate
from scaffold.buildsystem.online import Answer
from scaffold.errors import UserError
from scaffold.git import repo as gitrepo
from scaffold.hashing.download import Progress
from scaffold.hashing.nixhash import parse_sha256
from scaffold.hashing.sources import hash_tarball, hash_url
from scaffold.nix import tool as nixtool


@dataclass(frozen=True, kw_only=True)
class CheckOptions:
    directory: str = "."
    tarball: str | None = None
    verify_remote: bool = False
    strict: bool = False  # IFD counts as a failure
    eval: bool = False  # nix evaluates every consumer form (IFD disabled)
    nixpkgs: str | None = None  # with eval/build: this nixpkgs in place of the pinned one
    fenix: str | None = None  # with eval/build: this fenix in place of the pinned one
    build: bool = False  # nix builds every root crate of this system from the export's flake
    online: str | None = None  # "head": ask every URL as nix's fetchers do; "download": fetch and hash


@dataclass
class CheckResult:
    directory: Path
    report: findings.Report
    pins: list[dict[str, Any]] = field(default_factory=list)
    evaluated: list[Evaluation] = field(default_factory=list)
    built: list[Built] = field(default_factory=list)
    online: list[Answer] = field(default_factory=list)
    nix: str | None = None  # the nix that evaluated or built (`nix (Nix) 2.26.3`)

    @property
    def ok(self) -> bool:
        return not self.report.errors

    @property
    def exit_code(self) -> int:
        """1 for a problem of the export (a refusal included); 3 when the network alone failed."""
        if self.ok:
            return 0
        offline = [e for e in self.report.errors if e.file != ONLINE]
        unreachable = all(a.unreachable for a in self.online if a.error)
        return 3 if not offline and unreachable else 1

    def as_json(self) -> dict[str, object]:
        return {
            "directory": str(self.directory),
            "ok": self.ok,
            "pins": self.pins,
            "evaluated": [dataclasses.asdict(e) for e in self.evaluated],
            "built": [dataclasses.asdict(b) for b in self.built],
            "online": [a.as_json() for a in self.online],
            "nix": self.nix,
            **self.report.as_json(),
        }


def inspect(
    root: Path, roots: tuple[Path, ...], report: findings.Report | None = None
) -> tuple[findings.Report, pins.Pin | None]:
    """Everything `libnix check` verifies without a network: release runs it on its own output too."""
    found = layout.validate_layout(root)
    pinned = layout.source_pins(root, found)
    pin = None
    problem = None
    if not pinned:
        problem = "the project's sources are not pinned to a tarball (project_root or the crates' src)"
    elif len({url for url, _ in pinned}) > 1:
        problem = (
            f"the sources are pinned to {len(pinned)} different tarballs: {', '.join(u for u, _ in pinned)}"
        )
    else:
        url, digest = pinned[0]
        try:
            pin = pins.Pin(url, parse_sha256(digest))
        except UserError:
            problem = f"malformed sha256 for {url}"
    report = verify.verify(root, pin, roots, report=report)
    report.errors += consumer_flake.lock_problems(root)
    if problem:
        report.errors.append(findings.Finding(names.CALLER, 0, problem))
    return report, pin


def run(opts: CheckOptions, progress: Progress | None = None, count: Progress | None = None) -> CheckResult:
    root = Path(opts.directory)
    layout.validate_layout(root)
    roots: tuple[Path, ...] = ()
    # an export outside any repository: only the generic local-path checks apply
    with contextlib.suppress(UserError):
        roots = (Path(gitrepo.toplevel(str(root))),)
    report, pin = inspect(root, roots)
    result = CheckResult(root, report)
    if pin is not None:
        entry: dict[str, object] = {"url": pin.url, "sha256": pin.sha256.prefixed, "verified": None}
        actual = None
        if opts.tarball:
            actual = hash_tarball(opts.tarball).sha256
        elif opts.verify_remote:
            actual = hash_url(pin.url, progress).sha256
        if actual is not None:
            entry["verified"] = actual == pin.sha256
            if actual != pin.sha256:
                report.errors.append(
                    findings.Finding(
                        names.CALLER, 0, f"{pin.url} is pinned to {pin.sha256.prefixed} but hashes to "
                        f"{actual.prefixed}"
                    )
                )  # fmt: skip
        result.pins.append(entry)
    if opts.strict:
        for finding in report.ifd:
            report.errors.append(findings.Finding(finding.file, finding.line, f"IFD: {finding.message}"))
    if (opts.eval or opts.build) and not report.errors:
        result.nix = nixtool.version()
    if opts.eval and not report.errors:
        result.evaluated = evaluate_forms(root, opts.nixpkgs, report, opts.fenix)
    if opts.online:
        result.online = ask_online(root, opts.online == "download", report, count)
    if opts.build and not report.errors:
        result.built = build(root, opts.nixpkgs, opts.fenix)
        for b in result.built:
            if b.error is not None:
                report.errors.append(findings.Finding("nix build", 0, f"{b.attribute}: {b.error}"))
    return result


ONLINE = "(online)"


def ask_online(root: Path, download: bool, report: findings.Report, count: Progress | None) -> list[Answer]:
    """Every URL the export fetches, asked as nix's fetchers ask; problems grouped by what went wrong,
    a few URLs each, so that 411 crates refused for one reason are one line."""
    answers = online.ask_all(online.fetches(root), download, count)
    groups: dict[str, list[Answer]] = {}
    for answer in answers:
        if answer.error is None:
            continue
        if answer.status is not None and 400 <= answer.status < 500:
            key = f"HTTP {answer.status}: {{n}} URL(s) refused"
        elif answer.status is not None and answer.status >= 500:
            key = f"HTTP {answer.status} after {online.TRIES} tries: {{n}} URL(s) unreachable"
        elif answer.status is None:
            key = f"{{n}} URL(s) unreachable: {answer.error}"
        else:
            key = f"{answer.error}: {{n}} URL(s)"
        groups.setdefault(key, []).append(answer)
    for key, group in groups.items():
        first = group[0]
        shown = ", ".join(a.fetch.url for a in group[:3])
        shown += f" and {len(group) - 3} more" if len(group) > 3 else ""
        why = f": {crates_io.WHY}" if first.status == 403 and crates_io.api_crate(first.fetch.url) else ""
        message = f"{key.format(n=len(group))} ({shown}; first in {first.fetch.where}){why}"
        report.errors.append(findings.Finding(ONLINE, 0, message))
    return answers


def evaluate_forms(
    root: Path, nixpkgs: str | None, report: findings.Report, fenix: str | None = None
) -> list[Evaluation]:
    """nix evaluates every consumer form; a failure is one finding: the form, the attribute, nix's words."""
    evaluated = evaluate(root, nixpkgs, fenix)
    for e in evaluated:
        if e.error is not None:
            report.errors.append(findings.Finding("nix eval", 0, f"{e.form} {e.where}: {e.error}"))
    return evaluated
