"""Benchmark `libnix release --from` on the REAL full build system that cargo (libnix) generated for its
own tree (../shared/fixtures/cargo-libnix-full, 427 files, 2 MiB), placed in a repository with every
file its filesets name, as cargo lays it out (target/release/nix).

    .venv/bin/python benchmarks/release.py [--runs 7]

Prints the median and, for scale, `git archive TAG | sha256sum` and `nix-instantiate --parse` of the same
files (what the release has to do at least: hash the tag, let nix parse the export). Target: < 1 s median.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO.parent / "shared" / "fixtures" / "cargo-libnix-full"


def timed(cmd: list[str] | str, cwd: Path, env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, check=True, env=env, shell=isinstance(cmd, str),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    if not FIXTURE.is_dir():
        print(f"needs {FIXTURE} (../shared beside the project)")
        return 1
    env = {**os.environ, "PYTHONPATH": str(REPO), "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x.invalid",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x.invalid"}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="libnix-bench-") as tmp:
        repo = Path(tmp) / "cargo"
        repo.mkdir()
        (repo / "Cargo.toml").write_text('[package]\nname = "cargo"\nversion = "0.88.0"\n')
        (repo / ".gitignore").write_text("/target\n")
        for f in FIXTURE.rglob("*.nix"):
            for block in re.findall(r"fn\.relativeFileset project_root \[(.*?)\];", f.read_text(), re.S):
                for rel in re.findall(r'"([^"]+)"', block):
                    path = Path(os.path.normpath(repo / rel))
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(f"// {rel}\n")
        for cmd in ("git init -q -b main", "git add -A", "git commit -q -m b", "git tag v1"):
            subprocess.run(cmd, shell=True, cwd=repo, check=True, env=env)
        shutil.copytree(FIXTURE, repo / "target" / "release" / "nix")
        subprocess.run(["chmod", "-R", "u+w", str(repo / "target")], check=True)
        files = [str(p) for p in (repo / "target" / "release" / "nix").rglob("*.nix")]
        url = "https://github.com/nixcloud/cargo/archive/refs/tags/v1.tar.gz"
        cmd = [sys.executable, "-m", "scaffold", "release", "--tag", "v1", "--from", "target/release/nix",
               "--force", "--url", url, "--json"]  # fmt: skip
        release = timed(cmd, repo, env, args.runs)
        floor = timed("git archive v1 | sha256sum", repo, env, args.runs)
        parse = (
            timed(["nix-instantiate", "--parse", *files], repo, env, args.runs)
            if shutil.which("nix-instantiate")
            else [float("nan")]
        )
    print(f"release --from on the real full fixture: {len(files)} .nix files, {args.runs} runs")
    med = statistics.median(release)
    print(f"median {med:.2f} s, min {min(release):.2f} s, max {max(release):.2f} s (target < 1 s)")
    print(f"for scale: git archive | sha256sum {statistics.median(floor):.3f} s, "
          f"nix-instantiate --parse of the export {statistics.median(parse):.2f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
