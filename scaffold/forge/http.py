"""The one HTTP client every forge module uses: a requests Session with timeouts, retries for idempotent
calls (honouring Retry-After), pagination, and errors turned into one line that never holds the token."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import NetworkError, UserError

TIMEOUT = (10, 120)
RETRIES = 3
MAX_WAIT = 60.0
_IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}


@dataclass
class Api:
    base: str  # e.g. https://api.github.com
    headers: dict[str, str]
    token_name: str  # the variable the token came from, for messages
    forge: str
    sleep: Any = time.sleep  # tests may make waiting instant

    def __post_init__(self) -> None:
        import requests

        self.session = requests.Session()
        self.session.headers.update(self.headers)

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base.rstrip("/") + path

    def request(self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201, 204), **kw: Any) -> Any:
        """One call; idempotent ones are retried on 5xx, connection errors and rate limits."""
        import requests

        url = self.url(path)
        attempts = RETRIES + 1 if method in _IDEMPOTENT else 1
        for attempt in range(attempts):
            try:
                resp = self.session.request(method, url, timeout=TIMEOUT, **kw)
            except requests.exceptions.RequestException as exc:
                if attempt + 1 < attempts:
                    self.sleep(2**attempt)
                    continue
                raise NetworkError(f"{self.forge}: cannot reach {_safe(url)}: {type(exc).__name__}") from None
            if resp.status_code in ok:
                return resp
            wait = _retry_after(resp)
            limited = resp.status_code == 429 or (resp.status_code == 403 and wait is not None)
            if (resp.status_code >= 500 or limited) and attempt + 1 < attempts:
                self.sleep(min(wait if wait is not None else 2**attempt, MAX_WAIT))
                continue
            raise self._error(method, url, resp, limited, wait)
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, **kw: Any) -> Any:
        resp = self.request(method, path, **kw)
        return resp.json() if resp.content else None

    def paginate(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        """Follow `Link: rel="next"` (GitHub, GitLab, Gitea all send it)."""
        url: str | None = self.url(path)
        query = {"per_page": 100, "limit": 50, **(params or {})}
        while url:
            resp = self.request("GET", url, params=query)
            yield from resp.json()
            url = resp.links.get("next", {}).get("url")
            query = {}

    def _error(self, method: str, url: str, resp: Any, limited: bool, wait: float | None) -> Exception:
        where = f"{self.forge}: {method} {_safe(url)}"
        detail = _message(resp)
        if resp.status_code == 401:
            return UserError(f"{where}: the token in {self.token_name} was rejected (401){detail}")
        if limited:
            after = f"; retry after {int(wait)} s" if wait is not None else ""
            return NetworkError(f"{where}: rate limited ({resp.status_code}){after}")
        if resp.status_code == 403:
            return UserError(
                f"{where}: forbidden (403): does {self.token_name} allow writing releases?{detail}"
            )
        if resp.status_code == 404:
            return UserError(f"{where}: not found (404): check the repository and the token's access{detail}")
        if resp.status_code >= 500:
            return NetworkError(f"{where}: the forge failed ({resp.status_code}) after {RETRIES} retries")
        return UserError(f"{where}: HTTP {resp.status_code}{detail}")


def _retry_after(resp: Any) -> float | None:
    value = resp.headers.get("Retry-After")
    if value and value.strip().isdigit():
        return float(value)
    if resp.headers.get("X-RateLimit-Remaining") == "0":
        reset = resp.headers.get("X-RateLimit-Reset", "")
        if reset.isdigit():
            return max(0.0, float(reset) - time.time())
        return 60.0
    return None


def _message(resp: Any) -> str:
    try:
        doc = resp.json()
    except ValueError:
        return ""
    text = doc.get("message") or doc.get("error") if isinstance(doc, dict) else None
    return f": {str(text).splitlines()[0][:200]}" if text else ""


_SECRETISH = re.compile(r"([?&](?:access_token|private_token|token)=)[^&]+", re.I)


def _safe(url: str) -> str:
    return _SECRETISH.sub(r"\1***", url)
