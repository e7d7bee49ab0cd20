"""``shenjing playground [--host H] [--port P] [--open]``: what it prints and refuses.

The server itself is replaced by one that returns at once; the real server is tested
in test_playground_server.py and test_playground_browser.py.
"""

from __future__ import annotations

import re

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

from shenjing.cli import main
from shenjing.cli import playground as command
from shenjing.playground import app as app_mod


class _Server:
    def __init__(self, app, quiet=True):
        self.app = app

    def run(self, sockets):
        _Server.seen = (self.app, sockets[0].getsockname())


@pytest.fixture(autouse=True)
def no_serving(monkeypatch):
    monkeypatch.setattr(app_mod, "server", _Server)
    opened = []
    monkeypatch.setattr(command.webbrowser, "open", opened.append)
    return opened


def test_prints_a_local_address_with_a_token(capsys):
    assert main(["playground", "--port", "0"]) == 0
    out, err = capsys.readouterr()
    found = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", out)
    assert found and len(found.group(2)) >= 24 and err == ""
    app, (host, port) = _Server.seen
    assert host == "127.0.0.1" and port == int(found.group(1))
    assert f"127.0.0.1:{port}" in app.hosts and f"localhost:{port}" in app.hosts
    assert "Ctrl-C" in out


def test_quiet_prints_only_the_address(capsys):
    assert main(["playground", "--port", "0", "--quiet"]) == 0
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1 and "token=" in out


def test_another_host_warns(capsys):
    assert main(["playground", "--host", "0.0.0.0", "--port", "0"]) == 0
    out, err = capsys.readouterr()
    assert "warning" in err and "from the network" in err
    assert "token=" in out


def test_bad_port_is_a_usage_error(capsys):
    assert main(["playground", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


def test_two_tokens_differ(capsys):
    main(["playground", "--port", "0", "--quiet"])
    main(["playground", "--port", "0", "--quiet"])
    tokens = re.findall(r"token=(\S+)", capsys.readouterr().out)
    assert len(tokens) == 2 and tokens[0] != tokens[1]


def test_address():
    assert command.address("127.0.0.1", 8765, "t") == "http://127.0.0.1:8765/?token=t"
    assert command.address("::1", 80, "t") == "http://[::1]:80/?token=t"


def test_open_opens_the_page_in_a_browser(no_serving, capsys):
    import time

    assert main(["playground", "--port", "0", "--open", "--quiet"]) == 0
    url = capsys.readouterr().out.split()[-1]
    deadline = time.monotonic() + 5
    while not no_serving and time.monotonic() < deadline:
        time.sleep(0.05)
    assert no_serving == [url]
