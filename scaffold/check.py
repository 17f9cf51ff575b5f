"""`libnix check [DIR]`: verify an exported build system as a consumer would rely on it."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import buildsystem, gitrepo
from .download import Progress
from .errors import UserError
from .hash import hash_tarball, hash_url
from .nixhash import parse_sha256

_SOURCE_PIN = re.compile(r"\bproject_root\s*=[^;]*?\bbuiltins\.fetchTarball\s*\{([^{}]*)\}", re.S)


@dataclass(frozen=True)
class CheckOptions:
    directory: str = "."
    tarball: str | None = None
    verify_remote: bool = False
    strict: bool = False  # IFD counts as a failure


@dataclass
class CheckResult:
    directory: Path
    report: buildsystem.Report
    pins: list[dict[str, object]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.report.errors

    def as_json(self) -> dict[str, object]:
        return {"directory": str(self.directory), "ok": self.ok, "pins": self.pins, **self.report.as_json()}


def source_pin(root: Path) -> buildsystem.Pin | None:
    """The tarball `project_root` is pinned to, if the export pins it."""
    caller = root / buildsystem.CALLER
    m = _SOURCE_PIN.search(caller.read_text(encoding="utf-8"))
    if not m:
        return None
    attrs = buildsystem._attrs(m.group(1)) or {}
    if "url" not in attrs or "sha256" not in attrs:
        return None
    return buildsystem.Pin(attrs["url"], parse_sha256(attrs["sha256"]))


def run(opts: CheckOptions, progress: Progress | None = None) -> CheckResult:
    root = Path(opts.directory)
    buildsystem.validate_layout(root)
    roots: tuple[Path, ...] = ()
    # an export outside any repository: only the generic local-path checks apply
    with contextlib.suppress(UserError):
        roots = (Path(gitrepo.toplevel(str(root))),)
    pin = source_pin(root)
    report = buildsystem.verify(root, pin, roots)
    result = CheckResult(root, report)
    if pin is None:
        report.errors.append(
            buildsystem.Finding(buildsystem.CALLER, 0, "project_root is not pinned to a tarball")
        )
    else:
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
                    buildsystem.Finding(
                        buildsystem.CALLER, 0, f"{pin.url} is pinned to {pin.sha256.prefixed} but hashes to "
                        f"{actual.prefixed}"
                    )
                )  # fmt: skip
        result.pins.append(entry)
    if opts.strict:
        for finding in report.ifd:
            report.errors.append(buildsystem.Finding(finding.file, finding.line, f"IFD: {finding.message}"))
    return result
