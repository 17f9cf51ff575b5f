"""What every forge module shares: the parsed remote and URL quoting."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass


@dataclass(frozen=True)
class Remote:
    scheme: str  # https or http: how the forge's web and API are reached
    host: str  # may include a port for self-hosted forges
    owner: str  # GitLab groups nest ("group/sub"); sourcehut owners keep their "~"
    repo: str

    @property
    def base(self) -> str:
        return f"{self.scheme}://{self.host}"


def quote(part: str) -> str:
    """Tags and names in URL paths: `+` is `%2B`, `/` kept (forges route tag paths with slashes)."""
    return urllib.parse.quote(part, safe="/")
