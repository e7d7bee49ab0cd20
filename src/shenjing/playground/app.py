"""The playground's web server: a Starlette application, and uvicorn to run it.

Endpoints (all but ``/static/`` need the token, as ``?token=`` or the
``X-Playground-Token`` header; every one checks Host and Origin, see :mod:`.security`):

========================  ================================================================
``GET /``                 the page
``GET /static/NAME``      the page's scripts and style (a fixed list, read at start-up)
``GET /api/info``         the bounds and choices, and whether ONNX export is available
``WS  /ws``               one page's session (:mod:`.live`)
``POST /api/upload``      ``?session=ID``, a CSV as the body (at most 256 kB)
``GET /api/model.shj``    ``?session=ID``: the trained network as a shenjing model file
``GET /api/model.onnx``   ``?session=ID``: the same as ONNX (needs ``onnx``)
``GET /api/snippet``      ``?session=ID``: the Python program that rebuilds the network
========================  ================================================================

No endpoint reads or writes a path named by a request: static files come from a table
made at start-up, and model files are written in a temporary folder of the server's own.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from importlib import resources
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from ..base.errors import ShenjingError
from . import upload
from .config import limits, onnx_available
from .live import Live, serve_page
from .security import Guard
from .snippet import snippet

#: Pages (sessions) served at once.
MAX_SESSIONS = 8
_TYPES = {
    ".html": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
}
#: What the page may load and connect to: its own server only.
_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def static_files() -> dict[str, tuple[bytes, str]]:
    """Every file under ``static/``, by its relative name: (content, media type)."""
    files: dict[str, tuple[bytes, str]] = {}

    def walk(folder: Any, prefix: str) -> None:
        for entry in folder.iterdir():
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
                continue
            suffix = "." + entry.name.rsplit(".", 1)[-1]
            if suffix in _TYPES:
                files[prefix + entry.name] = (entry.read_bytes(), _TYPES[suffix])

    walk(resources.files(__package__).joinpath("static"), "")
    return files


def create_app(*, token: str, hosts: Iterable[str], max_sessions: int = MAX_SESSIONS) -> Any:
    """The ASGI application, wrapped in its :class:`~.security.Guard`."""
    files = static_files()
    registry: dict[str, Live] = {}
    headers = {"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff"}

    async def index(request: Request) -> Response:
        content, media = files["index.html"]
        return Response(content, media_type=media, headers={**headers, "Cache-Control": "no-store"})

    async def static(request: Request) -> Response:
        found = files.get(request.path_params["name"])
        if found is None:
            return PlainTextResponse("no such file", status_code=404)
        return Response(found[0], media_type=found[1], headers=headers)

    async def info(request: Request) -> Response:
        return JSONResponse({**limits(), "onnx": onnx_available(), "sessions": len(registry)})

    def live_of(request: Request) -> Live | Response:
        live = registry.get(request.query_params.get("session", ""))
        if live is None:
            return PlainTextResponse(
                "no such session: it ends when its page is closed; reload the page",
                status_code=404,
            )
        if not live.files.allow():
            return PlainTextResponse("too many requests; wait a moment", status_code=429)
        return live

    async def receive_upload(request: Request) -> Response:
        live = live_of(request)
        if isinstance(live, Response):
            return live
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > upload.MAX_BYTES):
            return _too_large()
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > upload.MAX_BYTES:
                return _too_large()
        try:
            points = upload.read_points(bytes(body))
            notices = await anyio.to_thread.run_sync(live.run, lambda s: s.use_points(points))
        except ShenjingError as exc:
            return JSONResponse({"ok": False, "message": _line(exc)}, status_code=400)
        return JSONResponse({"ok": True, "message": "; ".join(notices)})

    async def model(request: Request) -> Response:
        live = live_of(request)
        if isinstance(live, Response):
            return live
        content = await anyio.to_thread.run_sync(live.run, lambda s: s.model_file())
        return _attachment(content, "playground.shj")

    async def onnx(request: Request) -> Response:
        live = live_of(request)
        if isinstance(live, Response):
            return live
        if not onnx_available():
            return PlainTextResponse(
                "ONNX export needs onnx, which is not installed: pip install 'shenjing[onnx]'",
                status_code=501,
            )
        content = await anyio.to_thread.run_sync(live.run, lambda s: s.onnx_file())
        return _attachment(content, "playground.onnx")

    async def code(request: Request) -> Response:
        live = live_of(request)
        if isinstance(live, Response):
            return live
        text = await anyio.to_thread.run_sync(live.run, snippet)
        return PlainTextResponse(text)

    async def websocket(ws: WebSocket) -> None:
        await serve_page(ws, registry, max_sessions)

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/static/{name:path}", static),
            Route("/api/info", info),
            Route("/api/upload", receive_upload, methods=["POST"]),
            Route("/api/model.shj", model),
            Route("/api/model.onnx", onnx),
            Route("/api/snippet", code),
            WebSocketRoute("/ws", websocket),
        ]
    )
    app.state.sessions = registry
    return Guard(app, token=token, hosts=hosts)


def _too_large() -> Response:
    return JSONResponse(
        {"ok": False, "message": f"the file is larger than {upload.MAX_BYTES // 1024} kB"},
        status_code=413,
    )


def _attachment(content: bytes, name: str) -> Response:
    return Response(
        content,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def server(app: Any, quiet: bool = True) -> Any:
    """A ``uvicorn.Server`` for ``app``; run it with ``server.run(sockets=[sock])``."""
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level="warning" if quiet else "info",
        access_log=not quiet,
        ws_max_size=64 * 1024,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        limit_concurrency=64,
        timeout_graceful_shutdown=1,
        lifespan="off",
    )
    return uvicorn.Server(config)
