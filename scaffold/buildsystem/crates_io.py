"""Where a crate of crates.io is fetched from, and the store name nixpkgs gives it.

cargo (libnix) writes every registry crate as `pkgs.fetchurl` of the API endpoint
`https://crates.io/api/v1/crates/N/V/download`. Since 2026 crates.io answers 403 there to any agent
that starts with `curl/`, which is what nixpkgs' fetchurl sends (crates.io's data-access policy;
NixOS/nixpkgs#558620, nix-community/naersk#390, rust-lang/crates.io#14243). The same `.crate` bytes are
served to anyone at `https://static.crates.io/crates/N/N-V.crate`, where nixpkgs' `importCargoLock` and
`fetchCrate` fetch them, named `crate-N-V.tar.gz`: the same name and flat hash give the same store path,
so a binary cache holding nixpkgs' copy serves ours. A leaf: imports nothing of libnix.
"""

from __future__ import annotations

import re

API = re.compile(r"^https://crates\.io/api/v1/crates/([A-Za-z0-9_-]+)/([^/\s\"]+)/download$")
API_PREFIX = "https://crates.io/api/v1/crates/"
STATIC_PREFIX = "https://static.crates.io/crates/"
WHY = "crates.io refuses its API download endpoint (403) to nix's fetcher since 2026"


def api_crate(url: str) -> tuple[str, str] | None:
    """(name, version) of a crates.io API download URL, else None."""
    m = API.match(url)
    return (m.group(1), m.group(2)) if m else None


REGISTRY_SOURCES = (
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
)


def lock_crates(lock_text: str) -> int:
    """How many packages of a Cargo.lock come from crates.io (each is one `.crate` to fetch)."""
    import tomllib

    try:
        packages = tomllib.loads(lock_text).get("package", [])
    except tomllib.TOMLDecodeError:
        return 0
    return sum(1 for p in packages if isinstance(p, dict) and p.get("source") in REGISTRY_SOURCES)


def is_crate(url: str) -> bool:
    """A crate of crates.io, wherever an export fetches it from."""
    return url.startswith(STATIC_PREFIX) or api_crate(url) is not None


def static_url(name: str, version: str) -> str:
    return f"{STATIC_PREFIX}{name}/{name}-{version}.crate"


def store_name(name: str, version: str) -> str:
    """The name nixpkgs' importCargoLock gives a crate's fetchurl (not `download`, the URL's tail)."""
    return f"crate-{name}-{version}.tar.gz"
