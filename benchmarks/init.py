"""Benchmark `libnix init --defaults` on a workspace of 20 members (each run on a fresh copy).

    .venv/bin/python benchmarks/init.py [--members 20] [--runs 5]

Target: under 1.5 s. The first run also commits the template to libnix's cache; it is reported apart.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def workspace(root: Path, members: int) -> None:
    names = [f"crates/member-{i:02}" for i in range(members)]
    root.mkdir()
    (root / "Cargo.toml").write_text(
        '[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n\n[workspace.package]\nversion = "1.0.0"\n'
    )
    for name in names:
        (root / name / "src").mkdir(parents=True)
        (root / name / "Cargo.toml").write_text(f'[package]\nname = "{name[7:]}"\nversion.workspace = true\n')
        (root / name / "src" / "main.rs").write_text("fn main() {}\n")
    (root / "rust-toolchain.toml").write_text(
        '[toolchain]\nchannel = "stable"\ntargets = ["wasm32-unknown-unknown"]\n'
    )
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    subprocess.run(
        ["git", "-C", str(root), "remote", "add", "origin", "git@github.com:acme/ws.git"], check=True
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, default=20)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="libnix-bench-") as tmp:
        env = {**os.environ, "PYTHONPATH": str(REPO), "LIBNIX_CACHE_DIR": f"{tmp}/cache"}
        template = Path(tmp) / "template"
        workspace(template, args.members)
        times = []
        for i in range(args.runs + 1):
            root = Path(tmp) / f"ws{i}"
            shutil.copytree(template, root, symlinks=True)
            start = time.perf_counter()
            cmd = [sys.executable, "-m", "scaffold", "init", str(root), "--defaults"]
            subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
    first, rest = times[0], times[1:]
    med = statistics.median(rest)
    print(f"libnix init --defaults, workspace of {args.members} members: first run {first:.2f} s (fills the")
    print(f"template cache); then median {med:.2f} s, max {max(rest):.2f} s (target < 1.5 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
