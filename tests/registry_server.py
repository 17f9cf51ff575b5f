"""A real HTTP server on 127.0.0.1 that answers as the hosts a consumer's build fetches from, for
`libnix check --online` and `release --verify-remote` (reached through LIBNIX_INSTEAD_OF, which sends
`https://HOST/PATH` to `BASE/https/HOST/PATH`):

- crates.io's API download endpoint: 403 to an agent that starts with `curl/` (crates.io's data-access
  policy, what nixpkgs' fetchurl and nix send), else a redirect to static.crates.io, as crates.io does;
- static.crates.io and any other host: 200 with the bytes registered for the path (`files`), or a few
  bytes of their own;
- `/flaky/…`: 503 on the first two requests of a path, then as above; `/down/…`: always 502;
- `/nohead/…`: 405 to HEAD (as some CDNs answer), 206 to a ranged GET.

Every request is recorded with its method and User-Agent.
"""

from __future__ import annotations

import http.server
import re
import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Registry:
    base: str = ""
    files: dict[str, bytes] = field(default_factory=dict)  # "host/path" -> body
    seen: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, user agent)
    hits: Counter[str] = field(default_factory=Counter)

    def instead_of(self) -> str:
        """The LIBNIX_INSTEAD_OF value that sends every https URL here."""
        return f"{self.base}/https/=https://"


def _handler(state: Registry) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        def _answer(self, body: bool) -> None:
            agent = self.headers.get("User-Agent", "")
            state.seen.append((self.command, self.path, agent))
            state.hits[self.path] += 1
            path = self.path
            if path.startswith("/down/"):
                return self._send(502, b"bad gateway", body)
            if path.startswith("/flaky/"):
                if state.hits[path] <= 2:
                    return self._send(503, b"try again", body)
                path = "/https/" + path.removeprefix("/flaky/")
            if path.startswith("/nohead/"):
                if not body:
                    return self._send(405, b"", body)
                path = "/https/" + path.removeprefix("/nohead/")
            where = path.removeprefix("/https/")
            m = re.match(r"^crates\.io/api/v1/crates/([^/]+)/([^/]+)/download$", where)
            if m:
                if agent.startswith("curl/"):
                    return self._send(403, b"Forbidden: see crates.io's data access policy", body)
                name, version = m.groups()
                self.send_response(302)
                self.send_header(
                    "Location", f"{state.base}/https/static.crates.io/crates/{name}/{name}-{version}.crate"
                )
                self.send_header("Content-Length", "0")
                return self.end_headers()
            data = state.files.get(where, f"bytes of {where}\n".encode())
            if self.headers.get("Range") == "bytes=0-0":
                self.send_response(206)
                self.send_header("Content-Range", f"bytes 0-0/{len(data)}")
                self.send_header("Content-Length", "1")
                self.end_headers()
                if body:
                    self.wfile.write(data[:1])
                return None
            return self._send(200, data, body)

        def _send(self, status: int, data: bytes, body: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

    return Handler


def start() -> tuple[http.server.ThreadingHTTPServer, Registry]:
    state = Registry()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, state
