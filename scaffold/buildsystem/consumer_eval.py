"""`libnix check --eval`: nix evaluates the export as each kind of consumer uses it, with IFD disabled.

The static checks (`buildsystem.verify`) read the files; this asks nix itself whether every root crate's
derivation can be instantiated through each consumer form: the export's flake with its own lock
(`packages.<system>` of every system it lists), and the plain caller given a package set
(`consumer_eval.nix`). With `nixpkgs` set, that checkout (or anything laid out like one) stands in for
the pinned nixpkgs in both forms, as a consumer's `follows` or `{ inherit pkgs; }` would. Fetches the
export pins with a hash (fenix, the project's tarball) come from the store when they are there.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaffold.errors import ExternalError, UserError
from scaffold.names import EXPORT_INFO
from scaffold.nix.tool import ENV, available, tool

NO_IFD = ("--option", "allow-import-from-derivation", "false")
FLAKES = ("--extra-experimental-features", "nix-command flakes")
PLAIN = Path(__file__).with_suffix(".nix")


@dataclass
class Evaluation:
    form: str  # "flake" or "plain"
    where: str  # packages.<system> for the flake, the system for the plain caller
    derivations: int = 0
    error: str | None = None

    def __str__(self) -> str:
        what = f"{self.derivations} root crate(s) instantiated" if self.error is None else self.error
        return f"{self.form} {self.where}: {what}"


@dataclass(frozen=True)
class Inputs:
    """What stands in for the export's pinned inputs (None: the pin itself), as a consumer's `follows`
    or `{ inherit pkgs; }` would: a nixpkgs checkout (or anything laid out like one), a fenix."""

    nixpkgs: str | None = None
    fenix: str | None = None

    def flake_flags(self) -> list[str]:
        flags = []
        for name, path in (("nixpkgs", self.nixpkgs), ("fenix", self.fenix)):
            if path:
                flags += ["--override-input", name, f"path:{path}"]
        return flags


def _inputs(nixpkgs: str | None, fenix: str | None) -> Inputs:
    found: list[str | None] = []
    for flag, path in (("--nixpkgs", nixpkgs), ("--fenix", fenix)):
        if path is None:
            found.append(None)
            continue
        resolved = Path(path).resolve()
        if not (resolved / "default.nix").is_file():
            raise UserError(f"{flag} {path}: no default.nix there")
        found.append(str(resolved))
    return Inputs(*found)


def _need_nix(what: str) -> None:
    if not available("nix") or not available("nix-instantiate"):
        where = f"beside {tool('nix')} (LIBNIX_NIX, --nix)" if tool("nix") != "nix" else "on PATH"
        raise ExternalError(f"{what} needs nix (nix and nix-instantiate {where})")


def evaluate(root: Path, nixpkgs: str | None = None, fenix: str | None = None) -> list[Evaluation]:
    _need_nix("--eval")
    root = root.resolve()
    given = _inputs(nixpkgs, fenix)
    info = json.loads((root / EXPORT_INFO).read_text())
    out = _flake(root, given, info)
    if all(e.error is None for e in out):  # one failure is one line: the first form that fails
        out.append(_plain(root, given))
    return out


@dataclass
class Built:
    attribute: str
    out: str | None = None
    error: str | None = None


def build(root: Path, nixpkgs: str | None = None, fenix: str | None = None) -> list[Built]:
    """`nix build` of every root crate of this system from the export's flake, as a consumer builds it
    (import-from-derivation disabled): the derivations really build, with the compiler the inputs give."""
    _need_nix("--build")
    root = root.resolve()
    given = _inputs(nixpkgs, fenix)
    info = json.loads((root / EXPORT_INFO).read_text())
    system = _result(
        _run([tool("nix"), *FLAKES, "eval", "--impure", "--json", "--expr", "builtins.currentSystem"])
    )[0]
    attrs = [str(a) for a in info.get("attributes") or []]
    installables = [f"path:{root}#packages.{system}.{_quote(a)}" for a in attrs]
    proc = _run([tool("nix"), *FLAKES, "build", "--json", "--no-link", *NO_IFD, "--no-write-lock-file",
                 *given.flake_flags(), *installables])  # fmt: skip
    value, error = _result(proc)
    if error is None and isinstance(value, list) and len(value) == len(attrs):
        return [Built(a, (v.get("outputs") or {}).get("out")) for a, v in zip(attrs, value, strict=True)]
    return [Built(attrs[0] if len(attrs) == 1 else f"packages.{system}", error=error or "nix built nothing")]


def _flake(root: Path, given: Inputs, info: dict[str, Any]) -> list[Evaluation]:
    if not (root / "flake.nix").is_file():
        return [Evaluation("flake", "packages", error="the export has no flake.nix")]
    override = given.flake_flags()

    def run(attr: str, apply: str) -> tuple[object | None, str | None]:
        proc = _run(
            [tool("nix"), *FLAKES, "eval", "--json", *NO_IFD, "--no-write-lock-file", *override,
             f"path:{root}#{attr}", "--apply", apply]
        )  # fmt: skip
        return _result(proc)

    drv_paths = "ps: builtins.mapAttrs (_: p: builtins.mapAttrs (_: d: d.drvPath) p) ps"
    value, error = run("packages", drv_paths)
    systems = [str(s) for s in info.get("systems") or []]
    if error is None and isinstance(value, dict):
        return [Evaluation("flake", f"packages.{s}", len(set(value.get(s, {}).values()))) for s in value]
    for system in systems:  # which system, which crate: only now, one at a time
        _, error_s = run(f"packages.{system}", "p: builtins.mapAttrs (_: d: d.drvPath) p")
        if error_s is None:
            continue
        for attr in [*(str(a) for a in info.get("attributes") or []), "default"]:
            _, error_a = run(f"packages.{system}.{_quote(attr)}", "d: d.drvPath")
            if error_a is not None:
                return [Evaluation("flake", f"packages.{system}.{attr}", error=error_a)]
        return [Evaluation("flake", f"packages.{system}", error=error_s)]
    return [Evaluation("flake", "packages", error=error)]


def _plain(root: Path, given: Inputs) -> Evaluation:
    nixpkgs = given.nixpkgs

    def run(only: str | None) -> tuple[object | None, str | None]:
        args = ["--arg", "export", str(root)]
        if nixpkgs:
            args += ["--arg", "nixpkgs", nixpkgs]
        if given.fenix:
            args += ["--arg", "fenix", given.fenix]
        if only:
            args += ["--argstr", "only", only]
        proc = _run(
            [
                tool("nix-instantiate"),
                "--eval",
                "--strict",
                "--json",
                "--read-write-mode",
                *NO_IFD,
                *args,
                str(PLAIN),
            ]
        )
        return _result(proc)

    which = "your pkgs" if nixpkgs else "the pinned nixpkgs"
    value, error = run(None)
    if error is None and isinstance(value, dict):
        return Evaluation("plain", f"cargo_build_caller.nix with {which}", len(value))
    info = json.loads((root / EXPORT_INFO).read_text())
    for attr in info.get("attributes") or []:
        _, error_a = run(str(attr))
        if error_a is not None:
            return Evaluation("plain", f"cargo_build_caller.nix with {which}, {attr}", error=error_a)
    return Evaluation("plain", f"cargo_build_caller.nix with {which}", error=error)


def _quote(attr: str) -> str:
    return attr if attr.replace("-", "").replace("_", "").isalnum() else json.dumps(attr)


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    except OSError as exc:
        raise ExternalError(f"cannot run {cmd[0]}: {exc.strerror}") from None


def _result(proc: subprocess.CompletedProcess[str]) -> tuple[object | None, str | None]:
    if proc.returncode == 0:
        try:
            return json.loads(proc.stdout), None
        except ValueError:
            return None, f"nix printed no JSON: {proc.stdout[:200]!r}"
    lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    first = errors[-1] if errors else (lines[-1] if lines else f"nix exited {proc.returncode}")
    # a failed build: the derivation that failed and its last log line say more than nix's last
    # "1 dependencies of derivation … failed to build"
    failed = next((i for i, ln in enumerate(lines) if ln.startswith("error: builder for")), None)
    if failed is not None:
        log = [ln[1:].strip() for ln in lines[failed + 1 :] if ln.startswith(">")]
        first = lines[failed].rstrip(";") + (f": {log[-1]}" if log else "")
    return None, first.removeprefix("error:").strip()
