"""No forge token reaches a program libnix starts: git (its own and copier's), nix and cargo (libnix).
Wrappers of git and the nix tools, first on PATH, record the environment each call receives, then run the
real tool; libnix runs init, update, release (with the cargo (libnix) stand-in) and check --eval with all
four forge tokens set."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from helpers import REPO, commit_all, libnix, need_tool, tagged_hello

from scaffold.environ import TOKENS

SECRET = "tok-3f9a1c-do-not-leak"
WRAPPER = """#!/bin/sh
# a recording stand-in in front of the real tool: which tool ran, and every variable it was given
{{ echo "== $(basename "$0")"; env; }} >> "{log}"
exec "{real}" "$@"
"""


def wrappers(where: Path, log: Path) -> Path:
    where.mkdir()
    for tool in ("git", "nix", "nix-instantiate"):
        real = need_tool(tool)
        path = where / tool
        path.write_text(WRAPPER.format(log=log, real=real))
        path.chmod(0o755)
    return where


def test_no_forge_token_reaches_git_copier_nix_or_cargo(make_repo, tmp_path: Path) -> None:
    log = tmp_path / "seen.log"
    bin_dir = wrappers(tmp_path / "bin", log)
    env = {name: SECRET for name in TOKENS.values()}
    env["PATH"] = f"{bin_dir}:{os.environ['PATH']}"
    env["FAKE_CARGO_ENV_LOG"] = str(log)
    repo, tarball = tagged_hello(make_repo, tmp_path)
    proc = libnix("init", str(repo), "--defaults", "--offline", env=env)  # copier, and git for both
    assert proc.returncode == 0, proc.stderr
    commit_all(repo, "init")
    tpl = tmp_path / "template"
    tpl.mkdir()
    shutil.copy(REPO / "copier.yml", tpl)
    shutil.copytree(REPO / "copier-template", tpl / "copier-template")
    (tpl / "copier-template" / "nix" / "libnix.nix.jinja").write_text(
        "# a newer template\n" + (REPO / "copier-template" / "nix" / "libnix.nix.jinja").read_text()
    )
    proc = libnix("update", str(repo), "--defaults", "--offline", env={**env, "LIBNIX_TEMPLATE": str(tpl)})
    assert proc.returncode == 0, proc.stderr
    commit_all(repo, "update")
    proc = libnix("release", "-C", str(repo), "--tag", "v0.1.0", "--url", f"file://{tarball}",
                  "--cargo", str(REPO / "tests" / "fake_cargo_libnix.py"), "--force", env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    export = repo / "libnix-0.1.0+v0.1.0"
    libnix("check", str(export), "--eval", "--nix", str(bin_dir / "nix"), env=env)  # its verdict: elsewhere
    seen = log.read_text()
    tools = {line[3:] for line in seen.splitlines() if line.startswith("== ")}
    assert {"git", "nix", "nix-instantiate", "cargo (libnix)"} <= tools, tools
    assert seen.count("== git") > 5  # libnix's own git and copier's
    assert SECRET not in seen
    assert not any(f"{name}=" in seen for name in TOKENS.values())
