"""Benchmark `libnix hash --tag` against the floor (`git archive TAG | sha256sum`: every byte read once)
and against `nix-prefetch-url --unpack` of the same tarball. Prints medians, ratios and libnix's peak RSS.

    .venv/bin/python benchmarks/hash.py [--files 30000] [--mib 300] [--runs 5]

Targets: libnix <= 2x the floor, >= 4x faster than nix-prefetch-url --unpack, peak RSS < 64 MB.
Then the fixed cost: a 16-file repository (the size of zargony/fuse-rs 0.3.1), `libnix hash --tag` as a
user runs it (the console script, its bytecode compiled as an install compiles it) against
`nix-prefetch-url --unpack` of its tarball, paired runs; the goal is at most 1.5x there.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def make_tree(root: Path, files: int, mib: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    big = max(1, files // 200)  # a few large files carry most of the bytes, as in real repos
    small_bytes = 2048
    big_bytes = max(0, (mib << 20) - (files - big) * small_bytes) // big
    names = ["src", "crates", "tests", "benches", "examples", "docs", "vendor", "assets"]
    for i in range(files):
        depth = rng.randint(1, 5)
        parts = [f"{rng.choice(names)}-{rng.randint(0, 40)}" for _ in range(depth)]
        ext = rng.choice([".rs", ".toml", ".md", ".txt", ""])
        path = root.joinpath(*parts) / f"file{i}{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        size = big_bytes if i < big else rng.randint(0, 2 * small_bytes)
        path.write_bytes(rng.randbytes(size))
        if i % 50 == 0:
            path.chmod(0o755)


def timed(cmd: str, cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(
        cmd, shell=True, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    return time.perf_counter() - start


def installed_env() -> dict[str, str]:
    """The environment of a user's libnix, which pip and nix install with its bytecode compiled: without
    PYTHONDONTWRITEBYTECODE (which some machines set, this one among them), so that the first run
    writes the checkout's __pycache__ and the timed ones read it instead of compiling every module."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def peak_rss_mib(args: list[str], cwd: Path) -> float:
    """libnix's own peak RSS, read inside its process (RUSAGE_CHILDREN would count every child so far)."""
    code = (
        "import resource, sys\n"
        "from scaffold.cli import main\n"
        f"main({args!r})\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return int(out.stderr.strip().splitlines()[-1]) / 1024


def small_repository(runs: int) -> tuple[float, float]:
    """Medians (libnix, nix-prefetch-url) on a repository of 16 small files, run in turns."""
    script = Path(sys.executable).parent / "libnix"
    with tempfile.TemporaryDirectory(prefix="libnix-bench-small-") as tmp:
        repo = Path(tmp) / "small"
        repo.mkdir()
        for i in range(16):
            (repo / f"f{i}.rs").write_text(f"// file {i}\n" * 20)
        git = "git -c user.name=b -c user.email=b@example.invalid"
        for cmd in ("git init -q -b main", "git add -A", f"{git} commit -q -m small", "git tag v1"):
            subprocess.run(cmd, shell=True, cwd=repo, check=True)
        tarball = Path(tmp) / "small.tar.gz"
        subprocess.run(f"git archive --format=tar.gz --prefix=small-v1/ v1 > {tarball}", shell=True, cwd=repo,
                       check=True)  # fmt: skip
        ours_cmd = (
            f"{script} hash --tag v1" if script.exists() else f"{sys.executable} -m scaffold hash --tag v1"
        )
        nix_cmd = f"nix-prefetch-url --unpack file://{tarball}"
        env = installed_env()
        timed(ours_cmd, repo, env)  # a warm-up for both (and ours writes its bytecode)
        timed(nix_cmd, repo)
        ours, theirs = [], []
        for _ in range(runs):
            ours.append(timed(ours_cmd, repo, env))
            theirs.append(timed(nix_cmd, repo))
    return statistics.median(ours), statistics.median(theirs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=30000)
    ap.add_argument("--mib", type=int, default=300)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    libnix = [sys.executable, "-m", "scaffold"]
    env_pp = f"PYTHONPATH={REPO}"
    with tempfile.TemporaryDirectory(prefix="libnix-bench-") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        print(f"generating {args.files} files, ~{args.mib} MiB ...", file=sys.stderr)
        make_tree(repo, args.files, args.mib)
        git = "git -c user.name=b -c user.email=b@example.invalid"
        for cmd in (
            "git init -q -b main",
            "git add -A",
            f"{git} commit -q -m bench",
            f"{git} tag -a v1 -m v1",
        ):
            subprocess.run(cmd, shell=True, cwd=repo, check=True)
        tarball = Path(tmp) / "v1.tar.gz"
        subprocess.run(
            f"git archive --format=tar.gz --prefix=repo-v1/ v1 > {tarball}", shell=True, cwd=repo, check=True
        )

        cases = {
            "git archive v1 | sha256sum (floor)": "git archive v1 | sha256sum",
            "libnix hash --tag v1": f"{env_pp} {' '.join(libnix)} hash --tag v1",
            "nix-prefetch-url --unpack (tar.gz)": f"nix-prefetch-url --unpack file://{tarball}",
            "libnix hash v1.tar.gz": f"{env_pp} {' '.join(libnix)} hash {tarball}",
        }
        ours = subprocess.run(
            [*libnix, "hash", "--tag", "v1"],
            cwd=repo,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        ).stdout.strip()
        theirs = subprocess.run(
            ["nix-prefetch-url", "--unpack", f"file://{tarball}"], capture_output=True, text=True
        ).stdout.strip()
        assert ours == theirs, (ours, theirs)
        medians = {}
        for name, cmd in cases.items():
            times = [timed(cmd, repo) for _ in range(args.runs)]
            medians[name] = statistics.median(times)
        rss = peak_rss_mib(["hash", "--tag", "v1"], repo)

    floor = medians["git archive v1 | sha256sum (floor)"]
    nix = medians["nix-prefetch-url --unpack (tar.gz)"]
    print(f"\n{args.files} files, ~{args.mib} MiB, median of {args.runs} runs, {os.cpu_count()} cores\n")
    print("| command | median s | x floor | nix-prefetch-url / it |")
    print("| --- | ---: | ---: | ---: |")
    for name, t in medians.items():
        print(f"| `{name}` | {t:.2f} | {t / floor:.2f} | {nix / t:.2f} |")
    print(f"\nlibnix hash --tag peak RSS: {rss:.0f} MiB (hashes agree: {ours})")
    mine, nix_small = small_repository(max(args.runs, 15))
    print(
        f"\n16 files (fixed cost): libnix hash --tag {mine * 1000:.0f} ms, nix-prefetch-url --unpack "
        f"{nix_small * 1000:.0f} ms: {mine / nix_small:.2f}x (goal <= 1.5x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
