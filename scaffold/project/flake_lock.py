"""The nixpkgs a project's own flake.lock pins: what its CI builds and tests with, and so the nixpkgs
its release should pin for consumers who bring none of their own (the caller's default, the asset
flake's lock). A leaf below `pins`: reads JSON, asks nothing of the network.
"""

from __future__ import annotations

import json

from scaffold.buildsystem.pins import Pin
from scaffold.errors import UserError
from scaffold.hashing.nixhash import parse_sha256


def nixpkgs_pin(lock_text: str) -> tuple[Pin, str] | None:
    """The root's `nixpkgs` input as a tarball pin, and how to name it (`nixos-26.05 at 1a2b3c4d5e6f`);
    None when the lock has no such input or pins it in a form a tarball cannot stand for."""
    try:
        doc = json.loads(lock_text)
        nodes = doc["nodes"]
        name = nodes[doc.get("root", "root")]["inputs"]["nixpkgs"]
        node = nodes[name] if isinstance(name, str) else None
    except (ValueError, KeyError, TypeError):
        return None
    locked = node.get("locked") if isinstance(node, dict) else None
    if not isinstance(locked, dict) or not locked.get("narHash"):
        return None
    kind = locked.get("type")
    if kind == "github" and locked.get("owner") and locked.get("repo") and locked.get("rev"):
        url = f"https://github.com/{locked['owner']}/{locked['repo']}/archive/{locked['rev']}.tar.gz"
    elif kind == "tarball" and isinstance(locked.get("url"), str):
        url = locked["url"]
    else:
        return None  # git, path, indirect: no tarball with that NAR hash to point at
    try:
        sha = parse_sha256(locked["narHash"])
    except UserError:
        return None
    original = (node or {}).get("original") or {}
    ref = original.get("ref") if isinstance(original, dict) else None
    rev = str(locked.get("rev") or "")[:12]
    label = " at ".join(p for p in (ref, rev) if p) or url
    return Pin(url, sha), label
