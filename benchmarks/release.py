"""Benchmark `libnix release --from` on a large build system: the real cargo (libnix) fixture's root-crate
file replicated as hundreds of derivations (the size of cargo's own tree), with the real caller.

    .venv/bin/python benchmarks/release.py [--derivations 400] [--runs 5]

Target: under 2 s (the exporter's own time excluded: --from takes the generated files as they are).
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
FIXTURE = REPO.parent / "shared" / "fixtures" / "cargo-libnix"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--derivations", type=int, default=400)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    template = (FIXTURE / "derivations" / "cargo-0.88.0-bin-b4cc6eeacb818d24.nix").read_text()
    env = {**os.environ, "PYTHONPATH": str(REPO), "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x.invalid",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x.invalid"}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="libnix-bench-") as tmp:
        repo = Path(tmp) / "cargo"
        (repo / "src").mkdir(parents=True)
        (repo / "Cargo.toml").write_text('[package]\nname = "cargo"\nversion = "0.88.0"\n')
        (repo / "src" / "main.rs").write_text("fn main() {}\n")
        nix = repo / "nix"
        (nix / "derivations").mkdir(parents=True)
        shutil.copy(FIXTURE / "cargo_build_caller.nix", nix)
        calls = []
        for i in range(args.derivations):
            attr = f"crate{i}-1_0_0-lib-{i:016x}"
            (nix / "derivations" / f"crate{i}-1.0.0-lib-{i:016x}.nix").write_text(
                template.replace("cargo-0_88_0-bin-b4cc6eeacb818d24", attr)
            )
            calls.append(f"  {attr} = callPackage' ./crate{i}-1.0.0-lib-{i:016x}.nix {{ }};")
        (nix / "derivations" / "default.nix").write_text(
            "{ pkgs, rustc, cargo, external_crate_dependencies, project_root }:\nlet\n"
            '  fn = { x = builtins.readFile "${pkgs.hello}/x"; };\n'
            "  callPackage' = path: args: import path args;\nin rec {\n" + "\n".join(calls) + "\n}\n"
        )
        for cmd in ("git init -q -b main", "git add -A", "git commit -q -m b", "git tag v1"):
            subprocess.run(cmd, shell=True, cwd=repo, check=True, env=env)
        size = sum(p.stat().st_size for p in nix.rglob("*.nix")) / 1048576
        url = "https://github.com/rust-lang/cargo/archive/refs/tags/v1.tar.gz"
        cmd = [sys.executable, "-m", "scaffold", "release", "--tag", "v1", "--from", "nix", "--force",
               "--url", url, "--json"]  # fmt: skip
        if os.environ.get("KEEP"):
            shutil.copytree(repo, os.environ["KEEP"])
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run(
                cmd, cwd=repo, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            times.append(time.perf_counter() - start)
    print(f"release --from: {args.derivations + 2} .nix files ({size:.1f} MiB), {args.runs} runs")
    med, low, high = statistics.median(times), min(times), max(times)
    print(f"median {med:.2f} s, min {low:.2f} s, max {high:.2f} s (target < 2 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
