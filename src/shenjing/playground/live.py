"""The WebSocket of one page: its session, its messages, and the play loop.

The page sends small JSON commands; the server answers with ``data`` messages (points,
configuration, snippet), ``state`` messages (see :mod:`.encode`) and one-line ``error``
messages. While playing, the server trains one epoch, encodes the state and sends it,
as fast as the page takes them, at most :data:`MAX_UPDATE_RATE` a second. Training and
encoding run in a worker thread, under the session's lock, so the event loop stays free
for the other sessions.

Commands::

    {"type": "config", "config": {...}}   a (partial) configuration; the network is
                                          rebuilt unless only training settings changed
    {"type": "play"} {"type": "pause"} {"type": "step"} {"type": "reset"}
    {"type": "regenerate"}                new points: the seed + 1
    {"type": "refresh"}                   data and state again (after an upload)
    {"type": "set", "layer": i, "name": "W" | "b", "index": [...], "value": v}
"""

from __future__ import annotations

import json
import secrets
import threading
from typing import Any

import anyio
import starlette.websockets
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..base.errors import ShenjingError
from . import encode
from .config import MAX_SEED, limits, onnx_available
from .security import RateLimit
from .session import Session

#: The most state updates a second one page receives.
MAX_UPDATE_RATE = 60.0
#: The largest command a page may send, in characters.
MAX_MESSAGE = 16_384
#: Commands a second (average) and in a burst, per page.
COMMAND_RATE, COMMAND_BURST = 30.0, 60
#: What a send or receive raises once the page has gone (Starlette 1 names the second;
#: older versions raise a plain RuntimeError).
_GONE = (
    WebSocketDisconnect,
    OSError,
    getattr(starlette.websockets, "WebSocketDisconnected", RuntimeError),
)


class Live:
    """A connected page: its session, the lock that serialises work on it, its limits."""

    def __init__(self, session: Session) -> None:
        self.id = secrets.token_urlsafe(12)
        self.session = session
        self.lock = threading.Lock()
        self.commands = RateLimit(COMMAND_RATE, COMMAND_BURST)
        self.files = RateLimit(2.0, 5)

    def run(self, work: Any) -> Any:
        """``work(session)`` under the lock (called in a worker thread)."""
        with self.lock:
            return work(self.session)


async def serve_page(ws: WebSocket, registry: dict[str, Live], max_sessions: int) -> None:
    """Run one page's WebSocket until it closes; its session is dropped then."""
    await ws.accept()
    if len(registry) >= max_sessions:
        await ws.send_json(
            {"type": "error", "message": f"too many open pages ({max_sessions}); close one"}
        )
        await ws.close(code=1013)
        return
    live = Live(Session())
    registry[live.id] = live
    send_lock = anyio.Lock()

    async def send(message: dict[str, Any]) -> None:
        text = json.dumps(message, allow_nan=False)
        async with send_lock:
            await ws.send_text(text)

    try:
        await send(
            {"type": "hello", "session": live.id, "limits": limits(), "onnx": onnx_available()}
        )
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_player, live, send)
            try:
                while True:
                    text = await ws.receive_text()
                    await _command(live, text, send)
            except _GONE:
                pass  # the page went away, maybe while a reply was on its way
            finally:
                tasks.cancel_scope.cancel()
    except _GONE:
        pass
    finally:
        live.session.playing = False
        registry.pop(live.id, None)


async def _player(live: Live, send: Any) -> None:
    period = 1.0 / MAX_UPDATE_RATE
    while True:
        if not live.session.playing:
            await anyio.sleep(0.02)
            continue
        start = anyio.current_time()
        try:
            message = await anyio.to_thread.run_sync(live.run, _epoch_state)
        except ShenjingError as exc:  # divergence: the session stopped playing
            await send({"type": "error", "message": _line(exc)})
            await send({"type": "playing", "playing": False})
            continue
        if message is not None:
            try:
                await send(message)
            except _GONE:
                return  # the page went away; serve_page drops the session
        await anyio.sleep(max(0.0, period - (anyio.current_time() - start)))


def _epoch_state(session: Session) -> dict[str, Any] | None:
    if not session.playing:  # paused while this waited for the lock
        return None
    session.train_epoch()
    return encode.state_message(session)


async def _command(live: Live, text: str, send: Any) -> None:
    if not live.commands.allow():
        await send({"type": "error", "message": "too many commands a second; slow down"})
        return
    try:
        if len(text) > MAX_MESSAGE:
            raise ValueError(f"a command may be at most {MAX_MESSAGE} characters")
        command = json.loads(text)
        if not isinstance(command, dict) or not isinstance(command.get("type"), str):
            raise ValueError('a command is a JSON object with a "type"')
        replies = await anyio.to_thread.run_sync(live.run, lambda s: _apply(s, command))
    except (ShenjingError, ValueError) as exc:
        await send({"type": "error", "message": _line(exc)})
        if command_type(text) == "config":  # show the page what still runs
            await send(await anyio.to_thread.run_sync(live.run, encode.data_message))
        return
    for reply in replies:
        await send(reply)


def _apply(session: Session, command: dict[str, Any]) -> list[dict[str, Any]]:
    kind = command["type"]
    if kind == "config":
        notices = session.configure(command.get("config"))
        return [encode.data_message(session, notices), encode.state_message(session)]
    if kind == "refresh":
        return [encode.data_message(session), encode.state_message(session)]
    if kind == "play":
        session.playing = True
        return [{"type": "playing", "playing": True}]
    if kind == "pause":
        session.playing = False
        return [{"type": "playing", "playing": False}]
    if kind == "step":
        session.playing = False
        session.train_epoch()
        return [{"type": "playing", "playing": False}, encode.state_message(session)]
    if kind == "reset":
        session.playing = False
        session.reset()
        return [
            {"type": "playing", "playing": False},
            encode.data_message(session),
            encode.state_message(session),
        ]
    if kind == "regenerate":
        notices = session.configure({"seed": (session.config.seed + 1) % (MAX_SEED + 1)})
        return [encode.data_message(session, notices), encode.state_message(session)]
    if kind == "set":
        session.set_parameter(
            command.get("layer"), command.get("name"), command.get("index"), command.get("value")
        )
        return [encode.state_message(session)]
    raise ValueError(
        f"unknown command {kind!r}; the commands are config, play, pause, step, reset, "
        "regenerate, refresh, set"
    )


def command_type(text: str) -> str | None:
    """The ``type`` of a command, or ``None`` when it is not a JSON object with one."""
    try:
        command = json.loads(text)
    except ValueError:
        return None
    return command.get("type") if isinstance(command, dict) else None


def _line(exc: BaseException) -> str:
    """An error as one line for the page."""
    return " ".join(str(exc).split()) or type(exc).__name__
