"""For the GitHub Action: turn `libnix release --json` into step outputs and a job summary.

Run as `python -m scaffold.action MANIFEST [--verified MANIFEST] [--built CHECK]`; it appends to
$GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY. The verified manifest is the run that evaluated the export (the
publishing run reuses the export and evaluates nothing), the check the one that built it.
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


def verification(verified: dict[str, Any], built: dict[str, Any]) -> str:
    """What nix evaluated and built before anything was published, for the job summary."""
    lines = [f"- evaluated `{e['form']} {e['where']}`: {e['derivations']} root crate(s), no IFD"
             for e in verified.get("evaluated") or [] if e.get("error") is None]  # fmt: skip
    lines += [f"- built `{b['attribute']}`: `{b['out']}`" for b in built.get("built") or [] if b.get("out")]
    if not lines:
        return "\n### Verified\n\nnothing (verify: none)\n"
    return "\n### Verified before publishing\n\n" + "\n".join(lines) + "\n"


def summary(
    doc: dict[str, Any], verified: dict[str, Any] | None = None, built: dict[str, Any] | None = None
) -> str:
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
    if verified is not None or built is not None:
        text += verification(verified or doc, built or {})
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
    import argparse

    parser = argparse.ArgumentParser(prog="python -m scaffold.action")
    parser.add_argument("manifest")
    parser.add_argument("--verified", help="the manifest of the run that evaluated the export")
    parser.add_argument("--built", help="`libnix check --build --json` of the export")
    args = parser.parse_args(argv)

    def read(path: str | None) -> dict[str, Any] | None:
        return json.loads(Path(path).read_text()) if path else None

    doc = read(args.manifest) or {}
    if os.environ.get("GITHUB_OUTPUT"):
        _append_output(os.environ["GITHUB_OUTPUT"], outputs(doc))
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as fh:
            fh.write(summary(doc, read(args.verified), read(args.built)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
