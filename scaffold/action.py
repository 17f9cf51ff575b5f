"""For the GitHub Action: turn `libnix release --json` into step outputs and a job summary.

Run as `python -m scaffold.action MANIFEST`; it appends to $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any


def outputs(doc: dict[str, Any]) -> dict[str, str]:
    asset = doc.get("asset") or {}
    return {
        "url": doc["url"],
        "hash": doc["hash"]["nix32"],
        "asset": asset.get("name") or "",
        "asset-hash": ((asset.get("hash") or {}).get("nix32")) or "",
        "asset-url": (doc.get("published") or {}).get("asset_url") or asset.get("url") or "",
        "export-dir": doc.get("export_dir") or "",
    }


def summary(doc: dict[str, Any]) -> str:
    out = outputs(doc)
    rows = [
        ("tag", f"`{doc['tag']}` ({doc['commit'][:12]})"),
        ("source tarball", doc["url"]),
        ("source sha256", f"`{doc['hash']['nix32']}`"),
        ("asset", out["asset-url"] or out["asset"]),
        ("asset sha256", f"`{out['asset-hash']}`"),
        ("packages", ", ".join(f"`{a}`" for a in doc.get("attributes") or []) or "-"),
    ]
    if doc.get("ifd"):
        rows.append(
            ("IFD (upstream)", f"{len(doc['ifd'])} construct(s) read build outputs during evaluation")
        )
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    snippets = doc.get("snippets") or {}
    text = f"## libnix release {doc['tag']}\n\n| | |\n| --- | --- |\n{table}\n"
    if snippets.get("build"):
        text += f"\n### Build it\n\n```sh\n{snippets['build']}```\n"
    if snippets.get("flake"):
        text += f"\n### Use it from a flake\n\n```nix\n{snippets['flake']}```\n"
    if snippets.get("nix"):
        text += f"\n### Use it from plain nix\n\n```nix\n{snippets['nix']}```\n"
    if snippets.get("overlay"):
        text += f"\n### As an overlay\n\n```nix\n{snippets['overlay']}```\n"
    return text


def _append_output(path: str, values: dict[str, str]) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        for key, value in values.items():
            if "\n" in value:
                marker = f"EOF_{uuid.uuid4().hex}"
                fh.write(f"{key}<<{marker}\n{value}\n{marker}\n")
            else:
                fh.write(f"{key}={value}\n")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m scaffold.action MANIFEST.json", file=sys.stderr)
        return 2
    doc = json.loads(Path(argv[0]).read_text())
    if os.environ.get("GITHUB_OUTPUT"):
        _append_output(os.environ["GITHUB_OUTPUT"], outputs(doc))
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as fh:
            fh.write(summary(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
