"""For the GitHub Action: turn `libnix release --json` into step outputs and a job summary, and carry each
system's verification from its job to the publishing one.

`python -m scaffold.release.action MANIFEST [--verified MANIFEST] [--built CHECK] [--systems DIR]` appends
to $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY. The verified manifest is the run that evaluated the export (the
publishing run reuses the export and evaluates nothing), the check the one that built it, DIR the results
of the jobs of each system (mode build). `... row CHECK --system S ...` writes one system's result (and its
job's summary); `... gate --systems DIR` stops a publish that a failed system's result forbids.
"""

from __future__ import annotations

import contextlib
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
    doc: dict[str, Any],
    verified: dict[str, Any] | None = None,
    built: dict[str, Any] | None = None,
    systems: list[dict[str, Any]] | None = None,
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
    if systems is not None:
        text += systems_table(doc, verified or doc, systems)
    elif verified is not None or built is not None:
        text += verification(verified or doc, built or {})
    return text


def row(
    check: dict[str, Any] | None, *, system: str, verify: str, binary_cache: str, push: bool, seconds: int
) -> dict[str, Any]:
    """One system's verification as its job found it: `libnix check --eval|--build --json` of the asset."""
    check = check or {}
    errors = [str(e) for e in check.get("errors") or []]
    if not check:
        errors = ["libnix check printed no result"]
    built = [b for b in check.get("built") or [] if b.get("out")]
    failed_build = any("builder for" in str(b.get("error") or "") for b in check.get("built") or [])
    return {
        "system": system,
        "runner": " ".join(filter(None, (os.environ.get("RUNNER_OS"), os.environ.get("RUNNER_ARCH")))),
        "verify": verify,
        "ok": not errors,
        "evaluated": verify != "none" and (not errors or failed_build),
        "built": [str(b["out"]) for b in built] if verify == "build" else None,
        "error": errors[0] if errors else None,
        "binary_cache": binary_cache,
        "push": push,
        "seconds": seconds,
    }


def read_rows(directory: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        with contextlib.suppress(OSError, ValueError):
            doc = json.loads(path.read_text())
            if isinstance(doc, dict) and doc.get("system"):
                rows.append(doc)
    return rows


def gate(rows: list[dict[str, Any]]) -> str | None:
    """Why the export must not be published, or None: a system whose job says its verification failed."""
    failed = [r for r in rows if not r.get("ok")]
    if failed:
        first = failed[0]
        return f"{first['system']} failed its verification ({first.get('error')}): nothing is published"
    return None


TABLE_HEAD = "| system | runner | evaluated | built | binary cache | time |\n|" + " --- |" * 6 + "\n"


def _cells(r: dict[str, Any]) -> list[str]:
    minutes, seconds = divmod(int(r.get("seconds") or 0), 60)
    if not r.get("ok"):
        built = f"no: {r.get('error')}"
    elif r.get("built") is not None:
        built = f"yes ({len(r['built'])} root crate(s))"
    else:
        built = f"- (verify: {r.get('verify')})"
    cache = "-"
    if r.get("binary_cache"):
        cache = f"{r['binary_cache']}: " + ("pushed" if r.get("push") else "pulled only (no token)")
    evaluated = "yes" if r.get("evaluated") else ("-" if r.get("verify") == "none" else "no")
    return [f"`{r['system']}`", r.get("runner") or "-", evaluated, built, cache, f"{minutes} min {seconds} s"]


def systems_table(doc: dict[str, Any], verified: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """One line per system the export offers: what its job verified, built and pushed, and how long it
    took; a system no hosted runner builds says so, with what the export job's evaluation found."""
    by_system = {r["system"]: r for r in rows}
    evaluated = {e.get("where") for e in verified.get("evaluated") or [] if e.get("error") is None}
    from scaffold.init.template import hosted_runners

    hosted = hosted_runners()
    offered = [str(s) for s in doc.get("systems") or []]
    lines = []
    for system in [*offered, *(s for s in by_system if s not in offered)]:
        if system in by_system:
            cells = _cells(by_system[system])
        else:
            seen = "yes" if f"packages.{system}" in evaluated else "no"
            why = "no job reported" if system in hosted else "no hosted runner: not built"
            cells = [f"`{system}`", "-", seen, why, "-", "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n### Systems\n\n" + TABLE_HEAD + "\n".join(lines) + "\n"


def _append_output(path: str, values: dict[str, str]) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        for key, value in values.items():
            if "\n" in value:
                marker = f"EOF_{uuid.uuid4().hex}"
                fh.write(f"{key}<<{marker}\n{value}\n{marker}\n")
            else:
                fh.write(f"{key}={value}\n")


def _read(path: str | None) -> dict[str, Any] | None:
    if not path:
        return None
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _summary_file(text: str) -> None:
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as fh:
            fh.write(text)


def _row_main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m scaffold.release.action row")
    parser.add_argument("check", help="`libnix check --eval|--build --json` of the export")
    parser.add_argument("--system", required=True)
    parser.add_argument("--verify", required=True)
    parser.add_argument("--binary-cache", default="")
    parser.add_argument("--push", default="false")
    parser.add_argument("--seconds", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    result = row(_read(args.check), system=args.system, verify=args.verify, binary_cache=args.binary_cache,
                 push=args.push == "true", seconds=args.seconds)  # fmt: skip
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    _summary_file(f"## libnix: {args.system}\n\n{TABLE_HEAD}| " + " | ".join(_cells(result)) + " |\n")
    return 0


def _gate_main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m scaffold.release.action gate")
    parser.add_argument("--systems", required=True, help="the results of the jobs of each system")
    args = parser.parse_args(argv)
    why = gate(read_rows(Path(args.systems)))
    if why:
        print(f"libnix: error: {why}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    import argparse

    if argv[:1] == ["row"]:
        return _row_main(argv[1:])
    if argv[:1] == ["gate"]:
        return _gate_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m scaffold.release.action")
    parser.add_argument("manifest")
    parser.add_argument("--verified", help="the manifest of the run that evaluated the export")
    parser.add_argument("--built", help="`libnix check --build --json` of the export")
    parser.add_argument("--systems", help="the results of the jobs of each system (mode build)")
    args = parser.parse_args(argv)
    doc = _read(args.manifest) or {}
    if os.environ.get("GITHUB_OUTPUT"):
        _append_output(os.environ["GITHUB_OUTPUT"], outputs(doc))
    rows = read_rows(Path(args.systems)) if args.systems else None
    _summary_file(summary(doc, _read(args.verified), _read(args.built), rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
