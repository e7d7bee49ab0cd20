"""The playground end to end, in a real headless Chromium driven by Playwright.

Uses Debian's Chromium at /usr/bin/chromium (``apt-get install chromium``; CI installs
it) through Playwright's ``executable_path``: no browser is ever downloaded. Skips when
either is missing. Set PLAYGROUND_SCREENSHOT=docs/playground.png to write the README's
screenshot from this run.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import shenjing as sj

CHROMIUM = "/usr/bin/chromium"
#: Chromium's flags for a closed, headless machine: no sandbox (root in CI), no GPU, and
#: none of its background connections, which this network refuses.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

if not Path(CHROMIUM).exists():
    pytest.skip(
        f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True
    )
pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install playwright)")
pytest.importorskip("starlette", reason="needs the web extra")
pytest.importorskip("uvicorn", reason="needs the web extra")

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from shenjing.playground.app import bind, create_app, server  # noqa: E402
from shenjing.playground.security import allowed_hosts  # noqa: E402

TOKEN = "browser-test-token"
CSV = "width,height,fruit\n" + "".join(
    f"{(i * 37) % 11 - 5},{(i * 53) % 13 - 6},{'apple' if (i * 37) % 11 > 5 else 'pear'}\n"
    for i in range(60)
)


@pytest.fixture(scope="module")
def url():
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    app = create_app(token=TOKEN, hosts=allowed_hosts("127.0.0.1", port))
    srv = server(app)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/?token={TOKEN}"
    srv.should_exit = True
    thread.join(10)
    sock.close()


def _number(page, selector):
    return int(page.locator(selector).text_content() or 0)


def test_the_page_end_to_end(url, tmp_path):
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.on(
            "console",
            lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.goto(
            url + "#dataset=spiral&hidden=8,8&activation=tanh&batch=10&optimizer=adam&lr=0.03"
            "&features=x1,x2,sinx1,sinx2&seed=0"
        )
        expect(page.locator("#data-description")).to_contain_text("spiral")
        expect(page.locator("#step-count")).to_have_text("0")
        before = page.eval_on_selector("#output", "c => c.toDataURL()")

        # Play: the step count and the loss chart advance and the boundary changes.
        page.get_by_role("button", name="Play", exact=True).click()
        page.wait_for_function(
            "() => Number(document.querySelector('#step-count').textContent) >= 2000"
        )
        page.wait_for_function(
            "() => Number(document.querySelector('#loss-chart').dataset.points) >= 10"
        )
        page.get_by_role("button", name="Pause", exact=True).click()
        expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
        after = page.eval_on_selector("#output", "c => c.toDataURL()")
        assert after != before
        page.wait_for_timeout(300)  # a state already on its way when Pause was pressed
        epoch = _number(page, "#epoch")
        assert epoch >= 80
        expect(page.locator("#snippet")).to_contain_text(f"epochs={epoch},")
        assert "dataset=spiral" in page.url and "hidden=8%2C8" in page.url
        shot = os.environ.get("PLAYGROUND_SCREENSHOT") or str(tmp_path / "playground.png")
        page.screenshot(path=shot, full_page=True)

        # Click a weight and edit it.
        link = page.locator("#network .link").last  # drawn last: on top of the others
        expect(link).to_have_attribute("aria-label", "Weight from layer 2 neuron 8 to the output")
        link.click()
        expect(page.locator("#weight-editor")).to_be_visible()
        page.get_by_label("Weight value").fill("1.75")
        page.get_by_role("button", name="Set weight").click()
        expect(link).to_have_attribute("data-weight", "1.75")

        # Change the activation, then the dataset: the network starts again.
        page.get_by_label("Activation").select_option("relu")
        expect(page.locator("#step-count")).to_have_text("0")
        page.get_by_label("Dataset").select_option("xor")
        expect(page.locator("#data-description")).to_contain_text("xor")
        assert "activation=relu" in page.url and "dataset=xor" in page.url

        # A learning rate far too large kills ReLU units: they are shown and counted.
        page.get_by_label("Learning rate").fill("3")
        page.get_by_label("Learning rate").dispatch_event("change")
        page.wait_for_function("() => location.hash.includes('lr=3')")
        page.get_by_role("button", name="Step", exact=True).click()
        expect(page.locator("#epoch")).to_have_text("1")
        expect(page.locator("#dead-count-2")).to_contain_text(re.compile(r"dead [1-8]/8"))
        assert page.locator("#network .neuron.dead").count() >= 1
        expect(page.locator("#findings")).to_contain_text("dead")

        # Your own data.
        csv = tmp_path / "fruit.csv"
        csv.write_text(CSV)
        page.locator("#upload").set_input_files(str(csv))
        expect(page.locator("#upload-message")).to_contain_text("Loaded")
        expect(page.locator("#data-description")).to_contain_text("read 60 rows")
        assert "dataset=upload" in page.url

        # Take it with you: the model loads with sj.load.
        with page.expect_download() as download:
            page.get_by_role("link", name="Download model (.shj)").click()
        path = tmp_path / "downloaded.shj"
        download.value.save_as(path)
        net = sj.load(path)
        assert net.predict(np.zeros((2, net.input_features))).shape == (2, 1)
        assert "net.fit(" in page.locator("#snippet").text_content()
        browser.close()
    assert problems == []
