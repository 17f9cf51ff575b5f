"""The export is a flake as well: `flake.nix` (consumer_flake.nix, filled in) and `flake.lock`.

The lock is written, not resolved: its two inputs are the tarballs the rewritten caller pins with
`builtins.fetchTarball` (the `pkgs` and `fenix` defaults, see `rules/consumer_pkgs`), and the NAR hash a
flake lock records is the sha256 those pins already carry, so no download is needed and the flake's
inputs are the caller's, store path for store path. Both are `tarball` inputs: nix resolves a locked
tarball from the store when it is there (a `github` input asks the forge's API even then), and a
consumer's `follows` works for either.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from scaffold.buildsystem.findings import Finding
from scaffold.buildsystem.pins import nix_string
from scaffold.buildsystem.rules.pinned_src import TARBALL, fetch_calls
from scaffold.errors import UserError
from scaffold.hashing.nixhash import Sha256, parse_sha256
from scaffold.names import CALLER, FLAKE
from scaffold.names import FLAKE_LOCK as LOCK
from scaffold.nix import syntax as ns

INPUTS = ("nixpkgs", "fenix")  # the names a consumer overrides or follows
_PARAMETER = {"nixpkgs": "pkgs", "fenix": "fenix"}  # the caller's parameter each input stands for


@functools.cache
def template() -> str:
    return Path(__file__).with_suffix(".nix").read_text()


def caller_inputs(root: Path) -> tuple[dict[str, tuple[str, Sha256]], list[Finding]]:
    """(url, sha256) of each input, read from the defaults of the caller's parameters."""
    src = ns.parse(CALLER, (root / CALLER).read_bytes())
    func = ns.top_expression(src)
    formals = func.child_by_field_name("formals") if func is not None else None
    defaults = {}
    for formal in formals.named_children if formals is not None else []:
        name, default = formal.child_by_field_name("name"), formal.child_by_field_name("default")
        if formal.type == "formal" and name is not None and default is not None:
            defaults[src.text(name)] = default
    found: dict[str, tuple[str, Sha256]] = {}
    problems = []
    for node, attrs in fetch_calls(src, TARBALL):
        for input_name, param in _PARAMETER.items():
            default = defaults.get(param)
            inside = default is not None and default.start_byte <= node.start_byte < default.end_byte
            if inside and input_name not in found:
                try:
                    found[input_name] = (attrs["url"], parse_sha256(attrs.get("sha256", "")))
                except UserError:
                    problems.append(Finding(CALLER, src.line(node), f"malformed sha256 of {input_name}"))
    for input_name in INPUTS:
        if input_name not in found and not any(input_name in p.message for p in problems):
            problems.append(
                Finding(
                    CALLER,
                    src.line(func or src.root),
                    f"the caller's `{_PARAMETER[input_name]}` is not a builtins.fetchTarball with a hash: "
                    f"the export's flake cannot lock {input_name}",
                )
            )
    return found, problems


def lock(inputs: dict[str, tuple[str, Sha256]]) -> dict[str, Any]:
    """flake.lock (version 7) of tarball inputs, each locked by the NAR hash the caller pins."""
    nodes: dict[str, object] = {}
    for name in INPUTS:
        url, sha = inputs[name]
        node: dict[str, object] = {
            "locked": {"narHash": sha.sri, "type": "tarball", "url": url},
            "original": {"type": "tarball", "url": url},
        }
        if name == "fenix":
            node = {"flake": False, **node}
        nodes[name] = node
    nodes["root"] = {"inputs": {name: name for name in INPUTS}}
    return {"nodes": nodes, "root": "root", "version": 7}


def render(inputs: dict[str, tuple[str, Sha256]], description: str) -> str:
    # the template's own comment is for libnix's readers; the export's flake says what it is
    lines = template().splitlines(keepends=True)
    body = "".join(lines[next(i for i, line in enumerate(lines) if not line.startswith("#")) :])
    text = (
        f"# {description}: exported by libnix. `nix build URL#default`, `nix run URL`, or an input whose\n"
        "# nixpkgs follows yours; flake.lock holds exactly what cargo_build_caller.nix pins.\n" + body
    )
    for key, value in (
        ("description", description),
        ("nixpkgs", inputs["nixpkgs"][0]),
        ("fenix", inputs["fenix"][0]),
    ):
        text = text.replace(f'"@{key}@"', nix_string(value))
    return text


def write(root: Path, description: str) -> list[Finding]:
    """Write flake.nix and flake.lock into the export at `root`; the problems, if it cannot."""
    inputs, problems = caller_inputs(root)
    if problems:
        return problems
    (root / FLAKE).write_text(render(inputs, description))
    (root / LOCK).write_text(json.dumps(lock(inputs), indent=2, sort_keys=True) + "\n")
    return []


def lock_problems(root: Path) -> list[Finding]:
    """An export's flake.lock must lock what its caller pins: a consumer's flake and plain nix then build
    the same thing. Read statically: `libnix check` runs without nix."""
    inputs, problems = caller_inputs(root)
    if problems:
        return problems
    if not (root / FLAKE).is_file():
        return [Finding(FLAKE, 0, "missing: the export is not a flake (`nix build URL#default` fails)")]
    try:
        locked = json.loads((root / LOCK).read_text())
    except (OSError, ValueError) as exc:
        return [Finding(LOCK, 0, f"unreadable: {exc}")]
    expected = lock(inputs)["nodes"]
    nodes = locked.get("nodes") if isinstance(locked, dict) else None
    out = []
    for name in INPUTS:
        have = nodes.get(name) if isinstance(nodes, dict) else None
        if have != expected[name]:
            url, sha = inputs[name]
            out.append(Finding(LOCK, 0, f"{name} is not locked to the caller's pin ({url}, {sha.sri})"))
    return out
