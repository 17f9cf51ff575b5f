"""What a release made: the manifest `libnix release --json` prints and `release.json` holds.

A module of its own: the release pipeline fills it in, and the snippets, the CLI and the Action read it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from scaffold import __version__
from scaffold.buildsystem.consumer_eval import Evaluation
from scaffold.buildsystem.findings import Report
from scaffold.forge import PublishResult
from scaffold.hashing.nixhash import Sha256


@dataclass
class ReleaseResult:
    tag: str
    commit: str
    name: str
    version: str
    url: str
    sha256: Sha256
    export_dir: Path
    asset: Path
    asset_sha256: Sha256 | None = None
    asset_url: str | None = None
    attributes: list[str] = field(default_factory=list)
    binaries: dict[str, str] = field(default_factory=dict)  # root crate -> the binary it installs
    systems: list[str] = field(default_factory=list)
    binary_cache: tuple[str, str] | None = None  # (substituter, public key) the project's CI pushes to
    entry: str = "derivations/default.nix"
    report: Report | None = None
    dry_run: bool = False
    tag_created: bool = False
    remote_has_tag: bool | None = None
    snippets: dict[str, str] = field(default_factory=dict)
    published: PublishResult | None = None
    reused: bool = False  # an earlier run's export of the same commit, published again
    version_from: str = ""  # where the version came from: "Cargo.toml at T", "the tag (…0.0.0)", …
    member: str | None = None  # the workspace member a per-crate tag names
    project_dir: str = ""  # the project's directory inside the repository ("" at its top)
    evaluated: list[Evaluation] = field(default_factory=list)
    # crates.io sources moved to static.crates.io (rules/crate_sources); in a dry run, what will be:
    # the API URLs of the --from directory, else the crates.io packages of the tag's Cargo.lock
    crates_moved: int = 0
    nixpkgs: tuple[str, str] | None = None  # the nixpkgs consumers get by default: (url, whose pin it is)
    crates_from: str = ""  # what crates_moved counts: "sources", "sources in --from", "Cargo.lock packages"

    def as_json(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "tag": self.tag,
            "commit": self.commit,
            "name": self.name,
            "version": self.version,
            "version_from": self.version_from,
            "member": self.member,
            "project_dir": self.project_dir,
            "url": self.url,
            "hash": {"nix32": self.sha256.nix32, "sri": self.sha256.sri},
            "export_dir": self.export_dir.name,
            "asset": {
                "name": self.asset.name,
                "url": self.asset_url,
                "hash": {"nix32": self.asset_sha256.nix32, "sri": self.asset_sha256.sri}
                if self.asset_sha256
                else None,
            },
            "attributes": self.attributes,
            "binaries": self.binaries,
            "systems": self.systems,
            "binary_cache": {"url": self.binary_cache[0], "public_key": self.binary_cache[1]}
            if self.binary_cache
            else None,
            "entry": self.entry,
            "crates_moved": self.crates_moved,
            "nixpkgs": {"url": self.nixpkgs[0], "from": self.nixpkgs[1]} if self.nixpkgs else None,
            "libnix_version": __version__,
        }
        if self.report is not None:
            doc["ifd"] = [str(f) for f in self.report.ifd]
            doc["notes"] = [f.message for f in self.report.notes]
            doc["parsed"] = self.report.parsed
        if self.dry_run:
            doc["dry_run"] = True
        if self.evaluated:
            doc["evaluated"] = [dataclasses.asdict(e) for e in self.evaluated]
        if self.published is not None:
            doc["published"] = dataclasses.asdict(self.published)
        if self.snippets:
            doc["snippets"] = self.snippets
        return doc
