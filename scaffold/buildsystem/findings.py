"""What the rewrite and the verification of a build system found: one finding a place, one report a run.

Shared by `buildsystem`, the rules of `rules/` and `check`, which each add to the same report.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


@dataclass
class Report:
    rewritten: list[Finding] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)
    ifd: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)  # what was left as it was, and why
    parsed: str = "not checked"  # "ok", "not checked (nix-instantiate not found)", or nix's error
    attributes: list[str] = field(default_factory=list)
    entry: str = ""
    files: int = 0
    crates_moved: int = 0  # registry crates moved off crates.io's API endpoint (rules/crate_sources)

    def as_json(self) -> dict[str, object]:
        return {
            "files": self.files,
            "entry": self.entry,
            "attributes": self.attributes,
            "rewritten": [str(f) for f in self.rewritten],
            "errors": [str(f) for f in self.errors],
            "ifd": [str(f) for f in self.ifd],
            "notes": [str(f) for f in self.notes],
            "parsed": self.parsed,
            "crates_moved": self.crates_moved,
        }
