"""The three JSON documents a release writes, in one place: `release.json` (the manifest `libnix release
--json` prints; read back to publish an earlier run again), `libnix-export.json` in the export (what a
consumer's nix and libnix's own checks read without importing anything) and `libnix.json` in the project
(what the flake of `libnix init` builds). Each is written atomically and read leniently: a document of
another shape reads as nothing, never as a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scaffold.fsutil import atomic_write
from scaffold.names import EXPORT_INFO, MANIFEST
from scaffold.release.result import ReleaseResult


def write_release(path: Path, result: ReleaseResult) -> None:
    atomic_write(path, json.dumps(result.as_json(), indent=2) + "\n")


def read_release(path: Path, tag: str) -> dict[str, Any] | None:
    """An earlier run's release.json for this tag, or None."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("tag") == tag else None


def write_export_info(
    staged: Path,
    result: ReleaseResult,
    entry: str,
    attributes: list[str],
) -> None:
    """What a consumer's nix reads from the export without importing anything (a file of a
    fetchTarball): the entry point, the root crates, and the source pin its project_root holds. The
    flake of `libnix init` builds cargo (libnix) from such a release this way; the export's own flake
    reads its packages, apps and systems from here."""
    doc = {
        "version": 1,
        "tag": result.tag,
        "commit": result.commit,
        "package": result.name,
        "package_version": result.version,
        "entry": entry,
        "attributes": attributes,
        "default": attributes[0] if attributes else None,
        "binaries": result.binaries,
        "systems": result.systems,
        "source": {"url": result.url, "sha256": result.sha256.prefixed},
    }
    atomic_write(staged / EXPORT_INFO, json.dumps(doc, indent=2) + "\n")


def write_manifest(repo: Path, export: Path, result: ReleaseResult) -> None:
    """The small JSON file the template's flake.nix reads, so that a release never re-renders the flake."""
    try:
        rel = export.relative_to(repo).as_posix()
    except ValueError:
        return  # an export outside the repository is not the flake's
    doc = {
        "version": 1,
        "tag": result.tag,
        "export": rel,
        "attributes": result.attributes,
        "entry": result.entry,
        "url": result.url,
        "sha256": result.sha256.prefixed,
        "asset": result.asset.name,
        "asset_sha256": result.asset_sha256.prefixed if result.asset_sha256 else None,
    }
    atomic_write(repo / MANIFEST, json.dumps(doc, indent=2) + "\n")
