"""nixpkgs' stable release branches and the day each stops getting fixes, for `libnix update` to say
when a project follows one that is past it. A leaf: imports nothing of libnix.

Source: the NixOS release announcements (nixos.org/blog/announcements), each of which says that the
release "will receive bugfixes and security updates for seven months" and names the day (the end of
June for a `.11`, of December for a `.05`). A release missing here is not judged; add a row when a
new one is announced, and make it the template's default (`copier.yml`, `nixpkgs_ref`).
"""

from __future__ import annotations

import datetime
import re

END_OF_SUPPORT = {
    "24.05": datetime.date(2024, 12, 31),
    "24.11": datetime.date(2025, 6, 30),
    "25.05": datetime.date(2025, 12, 31),
    "25.11": datetime.date(2026, 6, 30),
    "26.05": datetime.date(2026, 12, 31),
}
NEWEST = max(END_OF_SUPPORT, key=END_OF_SUPPORT.__getitem__)
_BRANCH = re.compile(r"^(?:nixos|nixpkgs|release)-(\d\d\.\d\d)(?:-small|-darwin)?$")


def past_support(ref: str, today: datetime.date | None = None) -> str | None:
    """What to tell a project whose nixpkgs branch `ref` no longer gets fixes, or None."""
    m = _BRANCH.match(ref)
    end = END_OF_SUPPORT.get(m.group(1)) if m else None
    if end is None or (today or datetime.date.today()) <= end:
        return None
    return (
        f"nixpkgs {ref} is past its end of support ({end.isoformat()}): no more security fixes; move "
        f"on with `libnix update --data nixpkgs_ref=nixos-{NEWEST}`, then `nix flake update nixpkgs`"
    )
