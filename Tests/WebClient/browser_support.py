"""Shared pieces of the web client's browser tests (and Benchmarks/WebClient): the real server, headless Chromium,
a private network namespace, waiting, and looking at screenshots.

Needs: apt-get install -y chromium chromium-driver; pip install selenium aiortc numpy (Tests/EndToEnd/requirements.txt).
"""
from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("ROOMS_BIN", REPO / ".build" / "debug" / "RoomsServer"))
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO / "test-artifacts"
HOST = "127.0.0.1"

CLONE_NEWNET = 0x40000000
SIOCSIFFLAGS = 0x8914
IFF_UP, IFF_LOOPBACK, IFF_RUNNING = 0x1, 0x8, 0x40


@contextlib.contextmanager
def private_network():
    """Run the block (this thread and every process it starts) in a new network namespace with only `lo` up.

    Media then stays on a loopback nobody else uses (/work/shared/TESTING.md). Without the privilege for that, the
    block runs on the machine's loopback instead, with a warning."""
    libc = ctypes.CDLL(None, use_errno=True)
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        if libc.unshare(CLONE_NEWNET) != 0:
            warnings.warn(f"no network namespace ({os.strerror(ctypes.get_errno())}): using the host's loopback")
            yield False
            return
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # `ip link set lo up`, without iproute2
            fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH", b"lo", IFF_UP | IFF_LOOPBACK | IFF_RUNNING))
        try:
            yield True
        finally:
            if libc.setns(home, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back to the original network namespace failed")
    finally:
        os.close(home)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """The real RoomsServer with users (sharedsecret registration) enabled and the SFU on (its default)."""

    def __init__(self, workdir: Path, binary: Path = BIN):
        self.workdir = workdir
        self.binary = binary
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}/"
        self.conf = workdir / "server.conf"
        self.conf.write_text(
            f"[http]\nlisten = {HOST}:{self.port}\n\n[app]\nsessionSecret = {'a' * 64}\nencryptionSecret = {'b' * 64}\n\n"
            "[users]\nenabled = true\nmode = sharedsecret\nallowRegistration = true\n"
            "sharedsecret_secret = webclient-test-secret\n")
        self.proc = None
        self.runs = 0

    def start(self):
        self.runs += 1
        log = open(self.workdir / f"server.{self.runs}.log", "wb")
        self.proc = subprocess.Popen([str(self.binary), "-c", str(self.conf), "--root", str(REPO), "--data", str(self.workdir / "data")],
                                     stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "server exited during start-up"
            try:
                with socket.create_connection((HOST, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None


def make_browser(extra_flags=()) -> webdriver.Chrome:
    opts = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                 "--allow-loopback-in-peer-connection", "--window-size=1280,800", "--autoplay-policy=no-user-gesture-required",
                 "--disable-dev-shm-usage", *extra_flags):
        opts.add_argument(flag)
    opts.binary_location = CHROMIUM
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def wait_for(fn, timeout=10.0, message="condition", interval=0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as exc:  # stale elements while the UI re-renders
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message} (last: {last!r})")


def js(driver, script, *args):
    return driver.execute_script(script, *args)


def participant_names(driver):
    return js(driver, "return [...document.querySelectorAll('.participant .participant-name')].map(e => e.textContent)")


def self_id(driver):
    return js(driver, "return window.__rooms && window.__rooms.store.state.selfId")


def in_room(driver):
    return js(driver, "return !!document.querySelector('.room') && window.__rooms.store.state.joined")


def join(driver, url, name):
    driver.get(url)
    field = wait_for(lambda: driver.find_element(By.ID, "name-input"), message="join screen")
    field.clear()
    field.send_keys(name)
    # Two clicks: name typed, then Join (Enter in the name field does the same).
    driver.find_element(By.ID, "join-button").click()


def tile_selector(session_id: str, source: str = "camera") -> str:
    return f'.tile[data-id="{session_id}"][data-source="{source}"]'


def frames_decoded(driver, selector: str) -> int:
    """Frames the tile's <video> has decoded so far (0 without a tile)."""
    return js(driver, """const v = document.querySelector(arguments[0] + ' video');
        return v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0""", selector)


def frames_keep_coming(driver, selector: str, count: int = 5, timeout: float = 10.0) -> bool:
    """True once the tile's <video> has presented `count` more frames (requestVideoFrameCallback), False after
    `timeout`. Unlike a frame counter, this survives the element switching to a new stream (resubscription)."""
    driver.set_script_timeout(timeout + 5)
    return driver.execute_async_script("""
        const [selector, count, timeout, done] = arguments;
        let seen = 0, watched = null, finished = false;
        const finish = (ok) => { if (!finished) { finished = true; clearInterval(timer); done(ok); } };
        const onFrame = (video) => () => {
          if (finished || video !== watched) return;
          if (++seen >= count) finish(true); else video.requestVideoFrameCallback(onFrame(video));
        };
        const watch = () => {  // the tile (and its <video>) may be re-created while we wait
          const v = document.querySelector(selector + ' video');
          if (v && v !== watched) { watched = v; v.requestVideoFrameCallback(onFrame(v)); }
        };
        const timer = setInterval(watch, 200);
        watch();
        setTimeout(() => finish(false), timeout * 1000);""", selector, count, timeout)


def media_state(driver) -> dict:
    """The page's tiles and remote tracks, for assertion messages."""
    return js(driver, """const app = window.__rooms;
        return {tiles: [...document.querySelectorAll('.tile')].map(t => ({id: t.dataset.id.slice(-6), source: t.dataset.source,
                    class: t.className, frames: t.querySelector('video').getVideoPlaybackQuality().totalVideoFrames})),
                remote: [...app.remote.values()].map(r => ({id: r.session.slice(-6), source: r.source, muted: r.muted,
                    track: r.track.readyState + (r.track.muted ? '/muted' : '')})),
                subscriber: app.sfu.subscriber && app.sfu.subscriber.pc ? app.sfu.subscriber.pc.connectionState : null,
                publisher: app.sfu.publisher ? app.sfu.publisher.pc.connectionState : null}""")


def shot(driver, name) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"webclient-{name}.png"
    driver.save_screenshot(str(path))
    return path


def read_png(path: Path) -> np.ndarray:
    """A screenshot as an RGB array (height × width × 3), decoded with PyAV (installed with aiortc)."""
    import av
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


def tile_pixels(driver, screenshot: np.ndarray, selector: str) -> np.ndarray:
    """The middle half of a tile's video area in a screenshot (away from the caption and rounded corners)."""
    r = js(driver, """const v = document.querySelector(arguments[0] + ' video');
        if (!v) return null;
        const b = v.getBoundingClientRect(), s = window.devicePixelRatio || 1;
        return {x: b.x * s, y: b.y * s, w: b.width * s, h: b.height * s}""", selector)
    assert r and r["w"] > 8 and r["h"] > 8, f"no visible video for {selector}: {r}"
    x0, y0 = int(r["x"] + r["w"] / 4), int(r["y"] + r["h"] / 4)
    x1, y1 = int(r["x"] + r["w"] * 3 / 4), int(r["y"] + r["h"] * 3 / 4)
    return screenshot[y0:y1, x0:x1]


def describe(pixels: np.ndarray) -> dict:
    flat = pixels.reshape(-1, 3).astype(np.float64)
    return {"mean": [round(float(v), 1) for v in flat.mean(axis=0)], "std": round(float(flat.std(axis=0).mean()), 1)}


def is_black(pixels: np.ndarray) -> bool:
    """A tile counts as black when 98 % of its pixels are darker than 24 in every channel."""
    dark = (pixels.reshape(-1, 3) < 24).all(axis=1)
    return float(dark.mean()) > 0.98


def png_bytes(width=200, height=120) -> bytes:
    """A small real PNG (colour gradient) for the buddy picture upload."""
    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in (x % 256, (y * 2) % 256, 160)) for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
