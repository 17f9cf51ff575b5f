"""The one HTTP client every forge module uses: a requests Session with timeouts and a deadline per call,
retries for idempotent calls (honouring Retry-After) that send the whole body again, pagination, and
errors turned into one line that never holds the token."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from scaffold import __version__
from scaffold.errors import NetworkError, UserError

TIMEOUT = (10.0, 120.0)  # connect, and read: the longest silence between two bytes
RETRIES = 3
MAX_WAIT = 60.0
_IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}
USER_AGENT = f"libnix/{__version__}"

# A body, made anew for every attempt (a file object sent once is at its end the second time): the
# request's keyword arguments (data=, files=, headers=), and the files to close afterwards.
Body = Callable[[ExitStack], dict[str, Any]]


def deadline() -> float:
    """The longest one call may take, retries included (a trickling server must not hold libnix)."""
    return float(os.environ.get("LIBNIX_FORGE_DEADLINE", "600"))


@dataclass
class Api:
    base: str  # e.g. https://api.github.com
    headers: dict[str, str]
    token_name: str  # the variable the token came from, for messages
    forge: str
    page: dict[str, Any] = field(default_factory=lambda: {"per_page": 100})  # how this forge pages
    sleep: Any = time.sleep  # tests may make waiting instant

    def __post_init__(self) -> None:
        import requests

        self.session = requests.Session()
        self.session.headers.update({"User-Agent": USER_AGENT, **self.headers})

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base.rstrip("/") + path

    def request(
        self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201, 204), body: Body | None = None,
        **kw: Any,
    ) -> Any:  # fmt: skip
        """One call; idempotent ones are retried on 5xx, connection errors and rate limits, each time
        with the whole body, all within `deadline()` seconds."""
        import requests

        url = self.url(path)
        where = f"{self.forge}: {method} {_safe(url)}"
        attempts = RETRIES + 1 if method in _IDEMPOTENT else 1
        end = time.monotonic() + deadline()
        for attempt in range(attempts):
            left = end - time.monotonic()
            if left <= 0:
                raise NetworkError(f"{where}: no complete answer within {deadline():.0f} s")
            timeout = (min(TIMEOUT[0], left), min(TIMEOUT[1], left))
            try:
                with ExitStack() as files:
                    extra = body(files) if body is not None else {}
                    resp = self.session.request(method, url, timeout=timeout, stream=True, **kw, **extra)
                    _read(resp, end, where)
            except requests.exceptions.RequestException as exc:
                left = end - time.monotonic()
                if isinstance(exc, requests.exceptions.Timeout) and left < TIMEOUT[1]:
                    raise NetworkError(f"{where}: no complete answer within {deadline():.0f} s") from None
                if attempt + 1 < attempts and left > 1:
                    self.sleep(min(2**attempt, left))
                    continue
                tried = f" (after {attempt} retries)" if attempt else ""
                raise NetworkError(f"{where}: cannot reach the forge: {type(exc).__name__}{tried}") from None
            if resp.status_code in ok:
                return resp
            wait = _retry_after(resp)
            limited = resp.status_code == 429 or (resp.status_code == 403 and wait is not None)
            pause = min(wait if wait is not None else 2**attempt, MAX_WAIT)
            retry = resp.status_code >= 500 or limited
            if retry and attempt + 1 < attempts and time.monotonic() + pause < end:
                self.sleep(pause)
                continue
            raise self._error(where, resp, limited, wait, attempt)
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, **kw: Any) -> Any:
        resp = self.request(method, path, **kw)
        return self.decode(method, resp)

    def decode(self, method: str, resp: Any) -> Any:
        """The JSON of an answer; anything else is the forge's fault, said with the call it answered."""
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise NetworkError(
                f"{self.forge}: {method} {_safe(resp.url)}: the answer is not JSON "
                f"(HTTP {resp.status_code}, {len(resp.content)} bytes)"
            ) from None

    def paginate(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        """Follow `Link: rel="next"` (GitHub, GitLab, Gitea all send it)."""
        url: str | None = self.url(path)
        query = {**self.page, **(params or {})}
        while url:
            resp = self.request("GET", url, params=query)
            items = self.decode("GET", resp)
            yield from items or []
            url = resp.links.get("next", {}).get("url")
            query = {}

    def _error(self, where: str, resp: Any, limited: bool, wait: float | None, attempt: int) -> Exception:
        detail = _message(resp)
        tried = f" after {attempt} retries" if attempt else ""
        if resp.status_code == 401:
            return UserError(f"{where}: the token in {self.token_name} was rejected (401){detail}")
        if limited:
            after = f"; retry after {int(wait)} s" if wait is not None else ""
            return NetworkError(f"{where}: rate limited ({resp.status_code}){tried}{after}")
        if resp.status_code == 403:
            why = f"does {self.token_name} allow writing releases?"
            return UserError(f"{where}: forbidden (403): {why}{detail}")
        if resp.status_code == 404:
            return UserError(f"{where}: not found (404): check the repository and the token's access{detail}")
        if resp.status_code >= 500:
            return NetworkError(f"{where}: the forge failed ({resp.status_code}){tried}{detail}")
        return UserError(f"{where}: HTTP {resp.status_code}{detail}")


def _read(resp: Any, end: float, where: str) -> None:
    """The whole answer, within the call's deadline (requests' read timeout bounds one silence only)."""
    chunks = []
    for chunk in resp.iter_content(1 << 16):
        chunks.append(chunk)
        if time.monotonic() > end:
            resp.close()
            raise NetworkError(f"{where}: no complete answer within {deadline():.0f} s")
    resp._content = b"".join(chunks)
    resp._content_consumed = True


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
