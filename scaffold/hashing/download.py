"""Streamed downloads with requests: bounded memory, a timeout, a progress callback, one-line errors.

`LIBNIX_INSTEAD_OF="NEW=OLD …"` asks for a URL that starts with OLD at NEW instead, as git's
`url.NEW.insteadOf OLD` does: a mirror or proxy a CI must use, or a test's server on 127.0.0.1. What is
pinned is not changed; messages name the URL as pinned.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO

from scaffold.errors import NetworkError, UserError

Progress = Callable[[int, "int | None"], None]
TIMEOUT = (10, 60)  # connect, read (seconds)
CHUNK = 1 << 20


def asked_at(url: str) -> str:
    """Where `url` is asked for: LIBNIX_INSTEAD_OF's longest matching OLD prefix replaced by its NEW."""
    best = ("", "")
    for pair in os.environ.get("LIBNIX_INSTEAD_OF", "").split():
        new, _, old = pair.partition("=")
        if old and url.startswith(old) and len(old) > len(best[1]):
            best = (new, old)
    return best[0] + url[len(best[1]) :] if best[1] else url


def download(url: str, dest: IO[bytes], progress: Progress | None = None) -> int:
    """Write the body of `url` to `dest`; return its size. 4xx is the user's error, the rest is ours."""
    import requests  # deferred: `libnix --help` must stay fast

    try:
        with requests.get(asked_at(url), stream=True, timeout=TIMEOUT, allow_redirects=True) as resp:
            if resp.status_code >= 400:
                reason = f"HTTP {resp.status_code} {resp.reason or ''}".strip()
                error = UserError if resp.status_code < 500 else NetworkError
                raise error(f"download of {url} failed: {reason}")
            total = resp.headers.get("Content-Length")
            size_hint = int(total) if total and total.isdigit() else None
            done = 0
            for chunk in resp.iter_content(CHUNK):
                dest.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, size_hint)
            # with a Content-Encoding (gzip), Content-Length counts the encoded bytes: compare those
            received = resp.raw.tell() if resp.headers.get("Content-Encoding") else done
            if size_hint is not None and received != size_hint:
                raise NetworkError(f"download of {url} ended early: {received} of {size_hint} bytes")
            return done
    except requests.exceptions.Timeout:
        raise NetworkError(f"download of {url} timed out") from None
    except requests.exceptions.ConnectionError as exc:
        raise NetworkError(f"cannot reach {url}: {short_error(exc)}") from None
    except requests.exceptions.RequestException as exc:
        raise NetworkError(f"download of {url} failed: {short_error(exc)}") from None


def short_error(exc: BaseException) -> str:
    """urllib3 nests the cause and prefixes it with an object repr: keep the human part."""
    reason = exc.args[0] if exc.args else exc
    reason = getattr(reason, "reason", reason)
    text = str(reason).split(">: ")[-1].strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
