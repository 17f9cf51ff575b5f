"""What consumers paste: one `nix build`, a flake input that follows their nixpkgs, plain nix with their
own package set, the overlay. Every form uses the consumer's nixpkgs, so one nixpkgs is evaluated."""

from __future__ import annotations

import re

from scaffold.release.result import ReleaseResult

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_'-]*$")
PLACEHOLDER = "https://example.invalid/"


def attr(name: str) -> str:
    return name if _IDENT.match(name) else f'"{name}"'


def render(r: ReleaseResult) -> dict[str, str]:
    url = r.asset_url or f"{PLACEHOLDER}{r.asset.name}"
    note = "" if r.asset_url else "  # where you upload the asset"
    sha = r.asset_sha256
    assert sha is not None
    pick = attr(r.attributes[0]) if r.attributes else "default"
    name = re.sub(r"[^A-Za-z0-9_-]", "-", r.name)
    if not re.match(r"[A-Za-z_]", name):
        name = f"_{name}"
    systems = ", ".join(r.systems) or "every system the release lists"
    binary = r.binaries.get(r.attributes[0]) if r.attributes else None
    build = f"nix build '{url}#default'\n"
    if binary:
        build += f"nix run '{url}'   # runs {binary}\n"
    cache = ""
    if r.binary_cache:
        url_c, key = r.binary_cache
        keys = f' "{key}" ' if key else " "
        cache = (
            f"  # prebuilt crates: the binary cache the project's CI pushes to\n"
            f'  nixConfig.extra-substituters = [ "{url_c}" ];\n'
            f"  nixConfig.extra-trusted-public-keys = [{keys}];\n\n"
        )
    flake = f"""{{
{cache}  inputs = {{
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";  # yours
    {name} = {{
      type = "tarball";
      url = "{url}";{note}
      narHash = "{sha.sri}";
      inputs.nixpkgs.follows = "nixpkgs";
    }};
  }};

  outputs = {{ self, nixpkgs, {name} }}: {{
    # {systems}
    packages = builtins.mapAttrs (_system: p: {{ default = p.default; }}) {name}.packages;
  }};
}}
"""
    plain = f"""let
  pkgs = import <nixpkgs> {{ }};  # your package set: the crates are built with it
  {name} = import (builtins.fetchTarball {{
    url = "{url}";{note}
    sha256 = "{sha.prefixed}";
  }} + "/cargo_build_caller.nix") {{ inherit pkgs; }};
in
{name}.{pick}
"""
    overlay = f"""# a NixOS or home-manager module, with the flake input above (inputs given as specialArgs)
{{ inputs, ... }}:
{{
  nixpkgs.overlays = [ inputs.{name}.overlays.default ];  # then pkgs.{attr(r.name)}
}}
"""
    out = {"build": build, "flake": flake, "nix": plain, "overlay": overlay}
    if r.binary_cache:
        url_c, key = r.binary_cache
        trusted = f" --option extra-trusted-public-keys '{key}'" if key else ""
        out["cache"] = (
            f"# the binary cache the project's CI pushes to: prebuilt crates, for any project with the same\n"
            f"# crate versions and toolchain (one derivation per crate)\n"
            f"nix build '{url}#default' --option extra-substituters '{url_c}'{trusted}\n"
        )
    return out


def markdown(r: ReleaseResult) -> str:
    s = r.snippets
    return (
        f"# {r.export_dir.name}\n\nPinned build system for `{r.tag}` ({r.commit}): built with your nixpkgs, "
        "no import-from-derivation, no cargo run.\n\n"
        f"## Build it\n\n```sh\n{s['build']}```\n\n"
        f"## From a flake\n\n```nix\n{s['flake']}```\n\n"
        f"## From plain nix\n\n```nix\n{s['nix']}```\n\n"
        f"## As an overlay\n\n```nix\n{s['overlay']}```\n"
        + (f"\n## Prebuilt, from the binary cache\n\n```sh\n{s['cache']}```\n" if "cache" in s else "")
    )
