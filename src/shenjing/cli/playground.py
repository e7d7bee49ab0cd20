"""Train a small network in your browser and watch it learn, with live diagnostics.

Serves a page at http://127.0.0.1:8765/?token=... (the address is printed; the token in
it is required) until Ctrl-C. Pick a dataset or upload a CSV, stack up to 6 hidden
layers of up to 8 neurons, press Play: shenjing trains on the server and streams every
neuron's heat map, the losses, dead and saturated units, gradient norms, update ratios
and the findings. Download the model (.shj, ONNX) or copy a Python snippet that
rebuilds it. Needs the web extra: pip install 'shenjing[web]'.

--host other than 127.0.0.1 (or localhost) makes the page reachable from the network:
a warning is printed, and the token is then the only thing between it and the page.

Example:
  shenjing playground
  shenjing playground --port 9000 --open
"""

from __future__ import annotations

import argparse
import secrets
import sys
import threading
import webbrowser

from ._common import CommandError, require

HELP = "train a network in your browser and watch it learn (needs shenjing[web])"

LOCAL = ("127.0.0.1", "localhost", "::1")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="port (default 8765; 0: any free port)"
    )
    parser.add_argument("--open", action="store_true", help="open the page in the default browser")


def address(host: str, port: int, token: str) -> str:
    """The page's URL, as printed."""
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "127.0.0.1"
    return f"http://{shown}:{port}/?token={token}"


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise CommandError(f"--port must be from 0 to 65535, got {args.port}", code=2)
    require("starlette", "web")
    require("uvicorn", "web")
    from ..playground.app import bind, create_app, server
    from ..playground.security import allowed_hosts

    host = "127.0.0.1" if args.host == "localhost" else args.host
    if host not in LOCAL:
        print(
            f"shenjing playground: warning: listening on {host}, so the page can be reached "
            "from the network; anyone with the printed address (its token) can use it",
            file=sys.stderr,
        )
    try:
        sock = bind(host, args.port)
    except OSError as exc:
        raise CommandError(f"cannot listen on {host}:{args.port}: {exc.strerror or exc}") from None
    port = sock.getsockname()[1]
    token = secrets.token_urlsafe(24)
    extra = [host] if host not in ("0.0.0.0", "::") else [_hostname()]
    app = create_app(token=token, hosts=allowed_hosts(host, port, extra))
    url = address(host, port, token)
    print(f"shenjing playground: open {url}", flush=True)
    if not args.quiet:
        print("(Ctrl-C to stop)", flush=True)
    if args.open:
        threading.Timer(0.5, webbrowser.open, [url]).start()
    try:
        server(app, quiet=True).run(sockets=[sock])
    finally:
        sock.close()
    return 0


def _hostname() -> str:
    import socket

    return socket.gethostname()
