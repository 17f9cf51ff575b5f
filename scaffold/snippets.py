"""The consumer snippets: how another flake, or plain nix, uses a released build system."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .release import ReleaseResult

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_'-]*$")


def attr(name: str) -> str:
    return name if _IDENT.match(name) else f'"{name}"'


def render(r: ReleaseResult) -> dict[str, str]:
    url = r.asset_url or f"https://example.invalid/{r.asset.name}"
    note = "" if r.asset_url else "  # where you upload the asset"
    sha = r.asset_sha256
    assert sha is not None
    pick = attr(r.attributes[0]) if r.attributes else "default"
    input_name = re.sub(r"[^A-Za-z0-9_-]", "-", r.name) + "-buildsystem"
    plain = f"""let
  buildsystem = builtins.fetchTarball {{
    url = "{url}";{note}
    sha256 = "{sha.prefixed}";
  }};
in
(import "${{buildsystem}}/cargo_build_caller.nix" {{ }}).{pick}
"""
    flake = f"""{{
  inputs.{input_name} = {{
    type = "tarball";
    url = "{url}";{note}
    narHash = "{sha.sri}";
    flake = false;
  }};

  outputs = {{ self, {input_name}, ... }}:
    let
      system = "x86_64-linux";
      build = import "${{{input_name}}}/cargo_build_caller.nix" {{ inherit system; }};
    in
    {{
      packages.${{system}}.default = build.{pick};
    }};
}}
"""
    return {"nix": plain, "flake": flake}


def markdown(r: ReleaseResult) -> str:
    s = r.snippets
    return (
        f"# {r.export_dir.name}\n\nPinned build system for `{r.tag}` ({r.commit}).\n\n"
        f"## Plain nix\n\n```nix\n{s['nix']}```\n\n## Flake\n\n```nix\n{s['flake']}```\n"
    )
