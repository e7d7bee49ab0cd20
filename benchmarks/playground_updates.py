"""How many state updates a second reach a page of ``shenjing playground``?

Starts the real server (``python -m shenjing playground --port 0``, uvicorn, in its own
process), connects WebSocket clients, configures each for the spiral with 2 hidden
layers of 8 tanh units at batch size 10 (every neuron's heat map in every state, the
default 50² output and 25² neuron grids), presses Play, and counts the ``state``
messages each client receives and parses in ``--seconds`` seconds after a one-second
warm-up. Each count checks that the state carries all 16 hidden neurons' maps. One
update is one epoch of training (25 steps of fit on the 250 training points) plus the
diagnosis and the encoding. The server sends at most 60 updates a second per page.

Run: python benchmarks/playground_updates.py [--sessions 1,4] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import time

import websockets

CONFIG = {
    "problem": "classification",
    "dataset": "spiral",
    "hidden": [8, 8],
    "activation": "tanh",
    "batch": 10,
    "lr": 0.03,
    "features": ["x1", "x2"],
}


async def _client(ws_url: str, warmup: float, seconds: float) -> int:
    async with websockets.connect(ws_url, max_size=2**24) as ws:
        assert json.loads(await ws.recv())["type"] == "hello"
        await ws.send(json.dumps({"type": "config", "config": CONFIG}))
        await ws.send(json.dumps({"type": "play"}))
        start = time.monotonic()
        counted = 0
        while True:
            message = json.loads(await ws.recv())
            now = time.monotonic() - start
            if message["type"] != "state" or now < warmup:
                continue
            if now > warmup + seconds:
                break
            assert sum(len(layer["units"]) for layer in message["hidden"]) == 16
            counted += 1
        await ws.send(json.dumps({"type": "pause"}))
        return counted


async def _run(ws_url: str, sessions: int, seconds: float) -> list[int]:
    jobs = [_client(ws_url, 1.0, seconds) for _ in range(sessions)]
    return list(await asyncio.gather(*jobs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1,4", help="comma-separated session counts")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "shenjing", "playground", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline() if server.stdout else ""
        found = re.search(r"http://([^/]+)/\?token=(\S+)", line)
        if not found:
            raise SystemExit(f"the server did not print its address: {line!r}")
        host, token = found.groups()
        ws_url = f"ws://{host}/ws?token={token}"
        results = {}
        for sessions in (int(s) for s in args.sessions.split(",")):
            counts = asyncio.run(_run(ws_url, sessions, args.seconds))
            rates = [c / args.seconds for c in counts]
            results[sessions] = rates
            print(
                f"{sessions} session(s): {', '.join(f'{r:.1f}' for r in rates)} updates/s each; "
                f"total {sum(rates):.1f}/s",
                flush=True,
            )
        print(json.dumps({"seconds": args.seconds, "updates_per_second": results}))
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
