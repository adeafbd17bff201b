"""The web app in a real browser: `fsvid2vid app` in a subprocess on a free 127.0.0.1 port, driven by selenium with
Debian's headless Chromium (`apt-get install chromium chromium-driver`; .ci/run installs them). It runs the example
button, fetches the generated video and decodes it, uploads a text file named .jpg and checks the page shows the
error, runs a second job, and checks that stopping the server removes its temporary files.

Skipped, with the reason, only where Chromium or chromedriver cannot be found (or the ui extra is not installed).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import av
import pytest

from tests.conftest import ROOT

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WAIT = 90  # seconds for one job (a few seconds on 2 cores; generous for a loaded machine)


def _browser() -> tuple[str, str]:
    browser = next((path for path in map(shutil.which, BROWSERS) if path), None)
    driver = shutil.which("chromedriver") or next((p for p in ("/usr/lib/chromium/chromedriver",)
                                                   if os.access(p, os.X_OK)), None)
    if browser is None or driver is None:
        pytest.skip("the browser test needs Chromium and chromedriver (Debian: apt-get install chromium "
                    f"chromium-driver; .ci/run does it): found browser {browser}, driver {driver}")
    return browser, driver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """The app on a free port; yields (url, temporary folder, log); stopped with Ctrl-C (SIGINT) afterwards."""
    pytest.importorskip("gradio", reason="the ui extra (gradio) is not installed")
    port = _free_port()
    log = tmp_path / "app.log"
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "fsvid2vid", "app", "--port", str(port)], cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 90
        while "open http" not in log.read_text():
            assert proc.poll() is None, f"the app exited: {log.read_text()}"
            assert time.monotonic() < deadline, f"the app did not start in 90 s: {log.read_text()}"
            time.sleep(0.3)
        text = log.read_text()
        url = re.search(r"open (http://\S+) in a browser", text).group(1)
        assert url == f"http://127.0.0.1:{port}/"  # 127.0.0.1 unless --host says otherwise
        root = Path(re.search(r"temporary files in (\S+)", text).group(1))
        yield url, root, log, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def browser():
    binary, driver_path = _browser()
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (dev dependency) is not installed")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,2000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _video_frames(driver, by) -> tuple[str, int]:
    """(src, frame count) of the generated video element, fetched over HTTP and decoded with PyAV."""
    src = driver.find_element(by.CSS_SELECTOR, "#result video").get_attribute("src")
    with urllib.request.urlopen(src, timeout=30) as response:
        data = response.read()
    with av.open(io.BytesIO(data)) as container:
        return src, sum(1 for _ in container.decode(video=0))


def _joined_text(driver, by, element_id: str) -> str:
    """An element's text with the line breaks Gradio puts between a file's stem and suffix removed."""
    return driver.find_element(by.ID, element_id).text.replace("\n", "")


def test_app_in_a_browser(browser, server, tmp_path):  # browser first: without Chromium, no server starts
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    url, root, log, proc = server
    started = time.monotonic()
    browser.get(url)
    wait = WebDriverWait(browser, WAIT)
    summary = (By.CSS_SELECTOR, "#summary")

    # 1. The example button: benchmark inputs, no upload; a video with frames comes back.
    wait.until(ec.element_to_be_clickable((By.ID, "example-dance"))).click()
    wait.until(ec.text_to_be_present_in_element(summary, "Job 1:"))
    assert "24 frames" in browser.find_element(*summary).text
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#result video[src]"))
    _, frames = _video_frames(browser, By)
    assert frames == 24
    assert browser.find_elements(By.CSS_SELECTOR, "#side-by-side video[src]")
    assert browser.find_elements(By.CSS_SELECTOR, "#attention img")
    downloads = _joined_text(browser, By, "downloads")
    assert "result.mp4" in downloads and "result-side-by-side.mp4" in downloads and "attention.zip" in downloads
    browser.save_screenshot(str(tmp_path / "after-example.png"))
    if os.environ.get("FSVID2VID_APP_SCREENSHOT"):  # docs/img/app.png: the page after the example, options open
        browser.find_element(By.XPATH, "//*[contains(@class, 'label-wrap')][contains(., 'Options')]").click()
        time.sleep(1)
        browser.set_window_size(1280, 1950)
        browser.save_screenshot(os.environ["FSVID2VID_APP_SCREENSHOT"])
        browser.set_window_size(1400, 2000)

    # 2. A bad upload: a text file named .jpg -> the one-line error in the page.
    bad = tmp_path / "holiday.jpg"
    bad.write_text("this is a text file, not a photo\n")
    browser.find_element(By.XPATH, "//*[@id='examples-from']//label[contains(., 'my images')]").click()
    upload = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#uploads input[type=file]"))
    upload.send_keys(str(bad))
    wait.until(lambda d: "holiday.jpg" in _joined_text(d, By, "uploads"))
    browser.find_element(By.ID, "run").click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "holiday.jpg: not a readable image"))
    assert proc.poll() is None

    # 3. The app keeps serving: a second job succeeds.
    browser.find_element(By.ID, "example-dance").click()
    wait.until(ec.text_to_be_present_in_element(summary, "Job 3:"))
    _, frames = _video_frames(browser, By)
    assert frames == 24
    seconds = time.monotonic() - started

    # Stopping the server removes its temporary files (job folders, uploads, Gradio's copies).
    assert root.is_dir()
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    assert not root.exists(), log.read_text()
    print(f"browser test: page, example job, bad upload and second job in {seconds:.1f} s")
