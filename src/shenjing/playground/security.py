"""Who may talk to the playground: the Host, Origin and token checks, and rate limits.

A page on another site must not drive a local server, even through DNS rebinding (a
name that first points at the attacker's server, then at 127.0.0.1): so every request's
``Host`` header must name this server as it was started, an ``Origin`` header (which
browsers send with WebSockets and with cross-site requests) must be this server's own,
and every request but the static files carries the secret token printed in the URL.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterable
from typing import Any

from starlette.datastructures import Headers, QueryParams
from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocketClose

#: The header that carries the token for ``fetch`` requests (links use ``?token=``).
TOKEN_HEADER = "x-playground-token"
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
#: Paths served without the token: the static files, which hold no secret.
PUBLIC_PREFIX = "/static/"


def allowed_hosts(host: str, port: int, extra: Iterable[str] = ()) -> set[str]:
    """The ``Host`` header values (``name:port``) this server answers to."""
    names = {host, *extra}
    if host in LOOPBACK or host in ("0.0.0.0", "::"):
        names |= set(LOOPBACK)
    names.discard("0.0.0.0")
    names.discard("::")
    return {f"{name}:{port}".lower() for name in names}


class Guard:
    """ASGI middleware: refuses a request with a foreign Host or Origin, or no token.

    Args:
        app: the application behind it.
        token: the secret every request but :data:`PUBLIC_PREFIX` must carry, as
            ``?token=`` or the :data:`TOKEN_HEADER` header.
        hosts: the accepted ``Host`` values, e.g. ``{"127.0.0.1:8765", "localhost:8765"}``.
    """

    def __init__(self, app: Any, *, token: str, hosts: Iterable[str]) -> None:
        self.app = app
        self.token = token.encode()
        self.hosts = {h.lower() for h in hosts}
        self.origins = {f"http://{h}" for h in self.hosts}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        problem = self.check(scope)
        if problem is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await WebSocketClose(code=1008, reason=problem[1])(scope, receive, send)
        else:
            await PlainTextResponse(problem[1], status_code=problem[0])(scope, receive, send)

    def check(self, scope: Any) -> tuple[int, str] | None:
        """``None`` when the request may pass, else ``(status, one-line reason)``."""
        headers = Headers(scope=scope)
        host = headers.get("host", "").lower()
        if host not in self.hosts:
            return 400, (
                f"refused: Host {host!r} is not this playground's address "
                f"({', '.join(sorted(self.hosts))})"
            )
        origin = headers.get("origin")
        if origin is not None and origin.lower() not in self.origins:
            return 403, f"refused: requests from the page at {origin!r} are not allowed"
        if scope["path"].startswith(PUBLIC_PREFIX):
            return None
        given = QueryParams(scope.get("query_string", b"")).get("token")
        given = given or headers.get(TOKEN_HEADER) or ""
        if not hmac.compare_digest(given.encode(), self.token):
            return 403, (
                "refused: the token is missing or wrong; open the address that "
                "'shenjing playground' printed"
            )
        return None


class RateLimit:
    """A token bucket: ``rate`` requests a second on average, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, float(burst)
        self.tokens = float(burst)
        self.last = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
