"""libnix's own flake.nix: it parses, and its outputs evaluate for every system against the stand-in
nixpkgs of tests/stubs (nixpkgs itself cannot be fetched here)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from helpers import NIX_ENV, REPO

STUB = REPO / "tests" / "stubs" / "nixpkgs"
SYSTEMS = ["aarch64-darwin", "aarch64-linux", "x86_64-darwin", "x86_64-linux"]


def source_copy(dest: Path) -> Path:
    """The files git would ship (tracked, or new and not ignored): no venv or node_modules in the store."""
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "-co", "--exclude-standard"],
                           capture_output=True, check=True).stdout.split(b"\0")  # fmt: skip
    for rel in filter(None, files):
        src = REPO / rel.decode()
        target = dest / rel.decode()
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            target.symlink_to(src.readlink())
        elif src.is_file():
            shutil.copy2(src, target)
    return dest


def evaluate(root: Path, attr: str, apply: str) -> object:
    flakes = ["--extra-experimental-features", "nix-command flakes"]
    stub = ["--override-input", "nixpkgs", f"path:{STUB}", "--no-write-lock-file"]
    cmd = ["nix", *flakes, "eval", "--json", f"path:{root}#{attr}", "--apply", apply, *stub]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=NIX_ENV)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_flake_parses_and_evaluates(tmp_path: Path, nix) -> None:
    assert nix.parse(REPO / "flake.nix").returncode == 0
    root = source_copy(tmp_path / "libnix")
    version = evaluate(
        root, "packages", "builtins.mapAttrs (s: p: [ p.default.name p.libnix.meta.mainProgram ])"
    )
    from scaffold import __version__

    assert version == {s: [f"libnix-{__version__}", "libnix"] for s in SYSTEMS}
    apps = evaluate(
        root, "apps", "builtins.mapAttrs (s: a: [ a.default.type (baseNameOf a.default.program) ])"
    )
    assert apps == {s: ["app", "libnix"] for s in SYSTEMS}
    assert evaluate(root, "devShells", "builtins.mapAttrs (s: d: builtins.attrNames d)") == {
        s: ["default"] for s in SYSTEMS
    }
    # the dev shell's tools exist in nixpkgs (actionlint and shellcheck lint the workflows)
    tools = evaluate(root, "devShells.x86_64-linux.default", "d: map (p: p.name) d.passthru.packages")
    assert {"actionlint", "shellcheck", "ruff", "check-jsonschema", "git", "nix"} <= set(tools)  # type: ignore[arg-type]
    assert evaluate(root, "checks", "builtins.mapAttrs (s: c: builtins.attrNames c)") == {
        s: ["package", "ruff"] for s in SYSTEMS
    }
    assert sorted(evaluate(root, "formatter", "builtins.attrNames")) == SYSTEMS  # type: ignore[arg-type]
