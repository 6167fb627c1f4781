"""Who may talk to the UI server: a secret token on every request, and only through a
Host the server is known by.

The server reads a case's events; another local user (or a web page the analyst has open,
through DNS rebinding) must not. So: it binds 127.0.0.1 unless told otherwise, every
request carries the token the command printed (a query parameter the page passes on, or
the ``X-Stagehunt-Token`` header the page's scripts send), compared in constant time, and
a request whose Host header is not one of the server's own names is refused before the
token is looked at.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

TOKEN_HEADER = "x-stagehunt-token"
TOKEN_PARAM = "token"
LOOPBACK = "127.0.0.1"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def new_token() -> str:
    """32 random bytes, URL-safe: printed once in the URL."""
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str) -> bool:
    """Constant-time comparison (no timing hint of how much of the token matched)."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(bind: str, port: int) -> frozenset[str]:
    """The Host header values a browser sends for this server: its loopback names and,
    with ``--host``, the address it was bound to."""
    names = {"127.0.0.1", "localhost", "[::1]"}
    if bind not in ("0.0.0.0", "::", ""):
        names.add(f"[{bind}]" if ":" in bind and not bind.startswith("[") else bind)
    return frozenset(f"{name}:{port}".lower() for name in names)


class Guard:
    """ASGI middleware: a wrong Host is 421, a missing or wrong token 403, before any
    route runs (the page, its scripts and the API alike)."""

    def __init__(self, app: ASGIApp, token: str, hosts: Iterable[str]) -> None:
        self.app = app
        self.token = token
        self.hosts = frozenset(h.lower() for h in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # the UI has none: refuse any
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":  # lifespan
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if headers.get("host", "").lower() not in self.hosts:
            await _refuse(send, 421, "unknown Host: this server answers to its loopback address")
            return
        given = headers.get(TOKEN_HEADER)
        if given is None:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = (query.get(TOKEN_PARAM) or [None])[0]
        if not same_token(given, self.token):
            await _refuse(send, 403, "missing or wrong token: open the URL stagehunt ui printed")
            return
        await self.app(scope, receive, send)


async def _refuse(send: Send, status: int, text: str) -> None:
    body = (text + "\n").encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
