"""The playground's server through Starlette's test client: every endpoint, every refusal,
and a session that trains and streams its states."""

from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx2")

from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

import shenjing as sj
from shenjing.playground import app as app_mod
from shenjing.playground import live
from shenjing.playground.app import create_app
from shenjing.playground.security import allowed_hosts
from shenjing.playground.upload import MAX_BYTES

TOKEN = "secret-token"
CSV = "u,v,label\n" + "".join(f"{i % 7},{(3 * i) % 5},{'ab'[i % 2]}\n" for i in range(40))


@pytest.fixture
def guarded():
    return create_app(token=TOKEN, hosts={"testserver"}, max_sessions=2)


@pytest.fixture
def client(guarded):
    with TestClient(guarded) as c:
        yield c


def _open(client, path="/ws"):
    return client.websocket_connect(f"{path}?token={TOKEN}")


def _until(ws, kind, limit=50):
    for _ in range(limit):
        message = ws.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind!r} message")


def _session(ws):
    hello = ws.receive_json()
    assert hello["type"] == "hello" and hello["limits"]["max_neurons"] == 8
    return hello["session"]


def test_the_page_and_its_static_files(client):
    page = client.get(f"/?token={TOKEN}")
    assert page.status_code == 200 and 'id="play"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    script = client.get("/static/js/main.js")  # static files need no token
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )
    assert client.get("/static/style.css").status_code == 200
    for name in ("nothing.js", "index.htm", "js/", "%2e%2e/app.py", "..%2fapp.py"):
        assert client.get(f"/static/{name}").status_code == 404
    # A path climbing out of /static/ leaves it, and then needs the token.
    assert client.get("/static/../app.py").status_code == 403
    # Every script the page loads is served, and nothing comes from another site.
    for module in ("main", "chart", "controls", "draw", "network", "panel", "url", "files", "dom"):
        body = client.get(f"/static/js/{module}.js").text
        assert "http://" not in body.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in body


def test_info(client):
    info = client.get("/api/info", headers={"X-Playground-Token": TOKEN}).json()
    assert info["max_layers"] == 6 and info["max_batch"] == 30 and "maxout" in info["activations"]
    assert info["onnx"] == app_mod.onnx_available()


@pytest.mark.parametrize("path", ["/", "/api/info", "/api/model.shj", "/api/snippet"])
def test_a_missing_or_wrong_token_is_refused(client, path):
    for query in ("", "?token=wrong", f"?token={TOKEN}x"):
        reply = client.get(path + query)
        assert reply.status_code == 403 and "token" in reply.text
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/ws?token=wrong"):
            pass
    assert info.value.code == 1008


def test_a_foreign_host_or_origin_is_refused(client):
    # DNS rebinding: the browser sends the attacker's name as Host.
    reply = client.get(f"/?token={TOKEN}", headers={"host": "evil.example:8765"})
    assert reply.status_code == 400 and "Host" in reply.text
    reply = client.get("/static/style.css", headers={"host": "evil.example"})
    assert reply.status_code == 400
    reply = client.get(f"/api/info?token={TOKEN}", headers={"origin": "http://evil.example"})
    assert reply.status_code == 403 and "evil.example" in reply.text
    reply = client.get(f"/api/info?token={TOKEN}", headers={"origin": "http://testserver"})
    assert reply.status_code == 200
    for headers in ({"origin": "http://evil.example"}, {"host": "evil.example"}):
        with pytest.raises(WebSocketDisconnect) as info:
            with client.websocket_connect(f"/ws?token={TOKEN}", headers=headers):
                pass
        assert info.value.code == 1008


def test_allowed_hosts():
    assert allowed_hosts("127.0.0.1", 8765) == {"127.0.0.1:8765", "localhost:8765", "[::1]:8765"}
    assert allowed_hosts("10.0.0.5", 80) == {"10.0.0.5:80"}
    assert "box:9000" in allowed_hosts("0.0.0.0", 9000, ["box"])


def test_a_session_trains_and_streams_states(client, guarded):
    with _open(client) as ws:
        _session(ws)
        ws.send_json({"type": "config", "config": {"dataset": "spiral", "hidden": [8, 8]}})
        data = _until(ws, "data")
        assert data["config"]["dataset"] == "spiral" and len(data["train"]) == 250
        assert set(data["inputs"]) == {"x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"}
        assert "sj.mlp(" in data["snippet"]
        first = _until(ws, "state")
        assert first["step"] == 0
        ws.send_json({"type": "play"})
        assert _until(ws, "playing")["playing"] is True
        states = [_until(ws, "state") for _ in range(4)]
        steps = [s["step"] for s in states]
        assert steps == sorted(steps) and steps[0] > 0 and len(set(steps)) == 4
        assert states[-1]["train_loss"] < first["train_loss"]
        ws.send_json({"type": "pause"})
        assert _until(ws, "playing")["playing"] is False
        ws.send_json({"type": "step"})
        stepped = _until(ws, "state")
        ws.send_json({"type": "step"})
        assert _until(ws, "state")["epoch"] == stepped["epoch"] + 1
        ws.send_json({"type": "reset"})
        assert _until(ws, "state")["step"] == 0
        ws.send_json({"type": "regenerate"})
        assert _until(ws, "data")["config"]["seed"] == 1
        _until(ws, "state")
        ws.send_json({"type": "set", "layer": 0, "name": "W", "index": [0, 0], "value": 2.5})
        assert _until(ws, "state")["weights"][0]["W"][0][0] == 2.5
        assert len(guarded.app.state.sessions) == 1
    # The page went away: its session is dropped.
    for _ in range(100):
        if not guarded.app.state.sessions:
            break
        import time

        time.sleep(0.02)
    assert guarded.app.state.sessions == {}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"type": "config", "config": {"hidden": [8] * 7}}, "at most 6"),
        ({"type": "config", "config": {"hidden": [9]}}, "from 1 to 8"),
        ({"type": "config", "config": {"batch": 1000}}, "batch"),
        ({"type": "config", "config": {"resolution": 5000}}, "resolution"),
        ({"type": "config", "config": {"dataset": "upload"}}, "upload a CSV file first"),
        ({"type": "set", "layer": 0, "name": "W", "index": [0, 0], "value": 1e9}, "within"),
        ({"type": "launch"}, "unknown command 'launch'"),
        ({"kind": "play"}, '"type"'),
    ],
)
def test_bad_commands_get_one_line(client, message, expected):
    with _open(client) as ws:
        _session(ws)
        ws.send_json(message)
        error = _until(ws, "error")
        assert expected in error["message"] and "\n" not in error["message"]
        if message.get("type") == "config":  # the page is told what still runs
            assert _until(ws, "data")["config"]["hidden"] == [4, 2]


def test_oversized_and_malformed_commands(client):
    with _open(client) as ws:
        _session(ws)
        ws.send_text("{" + " " * live.MAX_MESSAGE + "}")
        assert "at most" in _until(ws, "error")["message"]
        ws.send_text("not json")
        assert _until(ws, "error")["type"] == "error"


def test_commands_are_rate_limited(client):
    with _open(client) as ws:
        _session(ws)
        for _ in range(live.COMMAND_BURST + 20):
            ws.send_json({"type": "pause"})
        seen = [ws.receive_json() for _ in range(live.COMMAND_BURST + 20)]
        assert any("too many commands" in m.get("message", "") for m in seen)


def test_sessions_are_bounded(client):
    with _open(client) as a, _open(client) as b:
        _session(a)
        _session(b)
        with _open(client) as c:
            message = c.receive_json()
            assert message["type"] == "error" and "too many open pages" in message["message"]


def test_upload_a_csv_then_train_on_it(client):
    with _open(client) as ws:
        session = _session(ws)
        reply = client.post(f"/api/upload?session={session}&token={TOKEN}", content=CSV.encode())
        assert reply.status_code == 200 and reply.json()["ok"]
        assert "40 rows" in reply.json()["message"]
        ws.send_json({"type": "refresh"})
        data = _until(ws, "data")
        assert data["config"]["dataset"] == "upload" and data["classes"] == ["a", "b"]
        assert len(data["train"]) + len(data["test"]) == 40
        assert _until(ws, "state")["epoch"] == 0
        ws.send_json({"type": "step"})
        assert _until(ws, "state")["epoch"] == 1


def test_upload_refusals(client):
    with _open(client) as ws:
        session = _session(ws)
        url = f"/api/upload?session={session}&token={TOKEN}"
        bad = client.post(url, content=b"a,b\n1,2\n")
        assert bad.status_code == 400 and not bad.json()["ok"]
        assert "needs 3" in bad.json()["message"] and "\n" not in bad.json()["message"]
        big = client.post(url, content=b"x" * (MAX_BYTES + 1))
        assert big.status_code == 413 and "larger than" in big.json()["message"]
        lying = client.post(url, content=b"abc", headers={"content-length": "nonsense"})
        assert lying.status_code in (400, 413)
        unknown = client.post(f"/api/upload?session=nope&token={TOKEN}", content=CSV.encode())
        assert unknown.status_code == 404 and "no such session" in unknown.text
        assert client.post(f"/api/upload?session={session}", content=b"").status_code == 403


def test_downloads_and_the_snippet(client, tmp_path, monkeypatch):
    with _open(client) as ws:
        session = _session(ws)
        ws.send_json({"type": "step"})
        _until(ws, "state")
        query = f"session={session}&token={TOKEN}"
        model = client.get(f"/api/model.shj?{query}")
        assert model.status_code == 200 and "attachment" in model.headers["content-disposition"]
        path = tmp_path / "m.shj"
        path.write_bytes(model.content)
        net = sj.load(path)
        assert net.metadata["epochs"] == 1
        assert net.predict(np.zeros((3, 2))).shape == (3, 1)
        code = client.get(f"/api/snippet?{query}")
        assert code.status_code == 200 and "net.fit(" in code.text
        if app_mod.onnx_available():
            onnx = pytest.importorskip("onnx")
            reply = client.get(f"/api/model.onnx?{query}")
            assert reply.status_code == 200
            assert onnx.load_from_string(reply.content).graph.node
        monkeypatch.setattr(app_mod, "onnx_available", lambda: False)
        reply = client.get(f"/api/model.onnx?{query}")
        assert reply.status_code == 501 and "pip install 'shenjing[onnx]'" in reply.text
        assert client.get(f"/api/model.shj?session=gone&token={TOKEN}").status_code == 404


def test_file_requests_are_rate_limited(client):
    with _open(client) as ws:
        session = _session(ws)
        codes = [
            client.get(f"/api/snippet?session={session}&token={TOKEN}").status_code
            for _ in range(12)
        ]
        assert 429 in codes and codes[0] == 200


def test_static_files_ship_in_the_package():
    files = app_mod.static_files()
    assert {"index.html", "style.css", "js/main.js"} <= set(files)
    html = files["index.html"][0].decode()
    for label in ("Play", "Step", "Reset", "Learning rate", "Activation", "Batch size"):
        assert label in html
    assert io.BytesIO(files["style.css"][0]).read()


def test_divergence_pauses_with_one_line(client):
    with _open(client) as ws:
        _session(ws)
        far_too_large = {"problem": "regression", "dataset": "plane", "loss": "sse", "lr": 10.0,
                         "activation": "relu", "batch": 30}  # fmt: skip
        ws.send_json({"type": "config", "config": far_too_large})
        _until(ws, "state")
        ws.send_json({"type": "play"})
        error = _until(ws, "error", limit=200)
        assert "smaller learning rate" in error["message"] and "\n" not in error["message"]
        assert _until(ws, "playing")["playing"] is False
        ws.send_json({"type": "step"})  # still answers, from the last finite weights
        assert _until(ws, "error")["type"] == "error"
