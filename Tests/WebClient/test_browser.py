"""Browser end-to-end tests for the Rooms web client (static/js): real RoomsServer binary, headless Chromium.

Three browsers join the same room and exercise participants, chat (typing, delivered marks), profile changes, buddy
pictures, reload with the same identity, the PIN flow and a server restart. Media: if the server's SFU answers, the
video must decode; otherwise the client must show its "Video service unavailable" notice.

Needs: apt-get install -y chromium chromium-driver; pip install selenium (Tests/EndToEnd/requirements.txt).
Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import zlib
from pathlib import Path

import pytest

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("ROOMS_BIN", REPO / ".build" / "debug" / "RoomsServer"))
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = REPO / "test-artifacts"
HOST = "127.0.0.1"
ROOM = "standup"

pytestmark = [
    pytest.mark.skipif(not BIN.exists(), reason=f"server binary {BIN} not built"),
    pytest.mark.skipif(not Path(CHROMEDRIVER).exists(), reason="chromium-driver not installed"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, workdir: Path):
        self.workdir = workdir
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
        self.proc = subprocess.Popen([str(BIN), "-c", str(self.conf), "--root", str(REPO), "--data", str(self.workdir / "data")],
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


def make_browser() -> webdriver.Chrome:
    opts = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                 "--allow-loopback-in-peer-connection", "--window-size=1280,800", "--autoplay-policy=no-user-gesture-required",
                 "--disable-dev-shm-usage"):
        opts.add_argument(flag)
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def wait_for(fn, timeout=10.0, message="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as exc:  # stale elements while the UI re-renders
            last = exc
        time.sleep(0.1)
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


def shot(driver, name):
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"webclient-{name}.png"))


def png_bytes(width=200, height=120) -> bytes:
    """A small real PNG (colour gradient) for the buddy picture upload."""
    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in (x % 256, (y * 2) % 256, 160)) for y in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def env():
    workdir = Path(tempfile.mkdtemp(prefix="rooms-webclient-"))
    server = Server(workdir)
    server.start()
    browsers = []
    try:
        a, b, c = make_browser(), make_browser(), make_browser()
        browsers += [a, b, c]
        yield {"server": server, "a": a, "b": b, "c": c, "workdir": workdir, "browsers": browsers, "make": make_browser}
    finally:
        for br in browsers:
            try:
                br.quit()
            except Exception:
                pass
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def room_url(env):
    return env["server"].url + ROOM


def test_join_screen_and_three_participants(env, room_url):
    a, b, c = env["a"], env["b"], env["c"]
    a.get(room_url)
    wait_for(lambda: a.find_element(By.ID, "join-title").text == ROOM, message="room name from the URL")
    # Preview starts with the fake camera, devices are listed with labels.
    wait_for(lambda: js(a, "return document.querySelector('.preview-video').videoWidth > 0"), message="camera preview")
    wait_for(lambda: len(a.find_elements(By.CSS_SELECTOR, "#camera-select option")) >= 1, message="camera list")
    shot(a, "join-screen")
    join(a, room_url, "Alice Example")
    join(b, room_url, "Bob")
    join(c, room_url, "Carol")
    for d in (a, b, c):
        wait_for(lambda: in_room(d), message="room view")
        wait_for(lambda: sorted(n.replace(" (you)", "") for n in participant_names(d)) == ["Alice Example", "Bob", "Carol"],
                 message="all three participants listed")
    # Our own entry is marked and the name is remembered for the next visit.
    assert "Alice Example (you)" in participant_names(a)
    assert js(a, "return JSON.parse(localStorage.getItem('rooms.prefs')).name") == "Alice Example"
    # Initials avatars when there is no picture.
    assert "AE" in [e.text for e in a.find_elements(By.CSS_SELECTOR, ".participant .avatar-initials")]
    # Grid: one tile per participant, all inside the stage, 16:9.
    tiles = js(a, "return [...document.querySelectorAll('.tile')].map(t => t.getBoundingClientRect().toJSON())")
    assert len(tiles) == 3
    for t in tiles:
        assert abs(t["width"] / t["height"] - 16 / 9) < 0.06, t
    stage = js(a, "return document.querySelector('.stage').getBoundingClientRect().toJSON()")
    for t in tiles:
        assert t["right"] <= stage["right"] + 1 and t["bottom"] <= stage["bottom"] + 1, (t, stage)


def test_media_or_clear_unavailable_notice(env):
    a, b = env["a"], env["b"]
    state = wait_for(lambda: js(a, "const s = window.__rooms.sfu.state; return s === 'available' || s === 'unavailable' ? s : null"),
                     timeout=15, message="SFU outcome")
    # The SFU is on by default ([sfu] enabled): media must flow through it.
    assert state == "available", state
    if state == "available":
        # The server's SFU answered: remote video must decode on B's tiles.
        def frames():
            return js(b, """return [...document.querySelectorAll('.tile:not([data-id="' + window.__rooms.store.state.selfId + '"]) video')]
                .map(v => v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0)""")
        first = wait_for(lambda: (f := frames()) and all(x > 0 for x in f) and f, timeout=15, message="remote frames decoding")
        time.sleep(1.5)
        assert all(y > x for x, y in zip(first, frames())), "framesDecoded must keep increasing"
        # The fake microphone beeps: the SFU's RFC 6464 levels name an active speaker (SfuSpeaker).
        wait_for(lambda: js(b, "return window.__rooms.sfu.serverSpeakerAt > 0"), timeout=15, message="SfuSpeaker from the server")
    else:
        notice = wait_for(lambda: a.find_element(By.CSS_SELECTOR, '.notice[data-key="sfu"]').text, message="SFU notice")
        assert "Video service unavailable" in notice
        # Chat and participants keep working (the other tests), and the own camera still shows locally.
        assert js(a, "return document.querySelector('.tile[data-source=camera] video').videoWidth > 0")
    shot(a, "room-three")


def test_chat_typing_and_delivered_marks(env):
    a, b, c = env["a"], env["b"], env["c"]
    box = a.find_element(By.ID, "chat-input")
    box.send_keys("hello from")
    wait_for(lambda: "Alice Example is typing" in b.find_element(By.CSS_SELECTOR, ".typing-line").text, message="typing indicator")
    box.send_keys(" alice", Keys.ENTER)
    for d in (b, c):
        wait_for(lambda: "hello from alice" in [e.text for e in d.find_elements(By.CSS_SELECTOR, ".chat-message .chat-text")],
                 message="chat arrives")
        author = d.find_element(By.CSS_SELECTOR, ".chat-message:last-child .chat-author").text
        assert author == "Alice Example"
    wait_for(lambda: b.find_element(By.CSS_SELECTOR, ".typing-line").text == "", message="typing cleared by the message")
    # B and C reply "delivered" (and "seen": their chat panel is open and visible) → A's mark.
    state = wait_for(lambda: (s := a.find_element(By.CSS_SELECTOR, ".chat-message.mine").get_attribute("data-state")) in ("delivered", "seen") and s,
                     message="delivered mark")
    assert state in ("delivered", "seen")
    wait_for(lambda: len(js(a, "return window.__rooms.store.state.chat.find(m => m.mine).deliveredTo")) == 2, message="delivered to both")
    mark = a.find_element(By.CSS_SELECTOR, ".chat-message.mine .chat-mark")
    assert mark.text.startswith("✓✓")
    # A reply from B shows on A with B's name (no echo on B: exactly one copy).
    b.find_element(By.ID, "chat-input").send_keys("hi alice", Keys.ENTER)
    wait_for(lambda: "hi alice" in [e.text for e in a.find_elements(By.CSS_SELECTOR, ".chat-text")], message="reply")
    assert [e.text for e in b.find_elements(By.CSS_SELECTOR, ".chat-text")].count("hi alice") == 1


def test_name_change_shows_on_others(env):
    a, b, c = env["a"], env["b"], env["c"]
    b.find_element(By.ID, "open-profile").click()
    name = wait_for(lambda: b.find_element(By.ID, "profile-name"), message="profile dialog")
    name.clear()
    name.send_keys("Bobby Tables")
    b.find_element(By.ID, "profile-message").send_keys("on a train")
    b.find_element(By.ID, "profile-save").click()
    for d in (a, c):
        wait_for(lambda: "Bobby Tables" in participant_names(d), message="new name on the others")
        wait_for(lambda: "on a train" in d.find_element(By.CSS_SELECTOR, ".participants").text, message="status message")
    # Old chat messages show the new name too.
    wait_for(lambda: "Bobby Tables" in [e.text for e in a.find_elements(By.CSS_SELECTOR, ".chat-author")], message="chat author renamed")


def test_buddy_picture_upload_shows_on_others(env):
    a, c = env["a"], env["c"]
    picture = env["workdir"] / "me.png"
    picture.write_bytes(png_bytes())
    c.find_element(By.ID, "open-profile").click()
    wait_for(lambda: c.find_element(By.ID, "profile-picture"), message="profile dialog")
    c.find_element(By.ID, "profile-picture").send_keys(str(picture))
    wait_for(lambda: js(c, "const i = document.querySelector('.profile-dialog img'); return !i.hidden && i.naturalWidth === 128"),
             message="downscaled preview 128x128")
    c.find_element(By.ID, "profile-save").click()
    cid = self_id(c)

    def loaded():
        return js(a, """const img = document.querySelector('.participant[data-id="' + arguments[0] + '"] img.buddy-picture');
            return img && img.complete && img.naturalWidth > 0 ? img.src : null""", cid)
    src = wait_for(loaded, message="buddy picture loads on the other browser")
    assert "/static/img/buddy/s46/" in src, src
    # The server rewrote the data URL: others never receive the raw image in the Status.
    assert js(a, "return window.__rooms.store.state.participants[arguments[0]].buddyPicture", cid).startswith("img:")
    shot(a, "room-picture")


def test_reload_keeps_identity(env, room_url):
    a, b = env["a"], env["b"]
    before = self_id(b)
    assert before
    b.refresh()
    # Same tab: the resume token (sessionStorage) brings back the same Id, and the tab re-joins by itself.
    wait_for(lambda: in_room(b), timeout=15, message="auto re-join after reload")
    assert self_id(b) == before
    wait_for(lambda: "Bobby Tables (you)" in participant_names(b), message="name restored from storage")
    wait_for(lambda: len(participant_names(a)) == 3 and "Bobby Tables" in participant_names(a), message="others see B back")
    assert js(a, "return !!document.querySelector('.participant[data-id=\"' + arguments[0] + '\"]')", before)


def test_pin_flow(env, room_url):
    a = env["a"]
    a.find_element(By.ID, "room-pin").click()
    field = wait_for(lambda: a.find_element(By.ID, "ask-input"), message="PIN dialog")
    field.send_keys("4321", Keys.ENTER)
    wait_for(lambda: "PIN set" in a.find_element(By.CSS_SELECTOR, ".notices").text, message="PIN set notice")
    d = env["make"]()
    env["browsers"].append(d)
    join(d, room_url, "Dave")
    pin = wait_for(lambda: d.find_element(By.ID, "pin-input").is_displayed() and d.find_element(By.ID, "pin-input"), message="PIN prompt")
    shot(d, "pin-prompt")
    pin.send_keys("0000", Keys.ENTER)
    wait_for(lambda: "Wrong PIN" in d.find_element(By.CSS_SELECTOR, ".pin-message").text, message="wrong PIN message")
    d.find_element(By.ID, "pin-input").send_keys("4321", Keys.ENTER)
    wait_for(lambda: in_room(d), message="joined with the right PIN")
    wait_for(lambda: len(participant_names(d)) == 4, message="four participants")
    wait_for(lambda: "Dave" in participant_names(a), message="others see Dave")
    shot(a, "room-four")
    d.quit()
    env["browsers"].remove(d)
    wait_for(lambda: "Dave" not in participant_names(a), message="Dave left")


def test_server_restart_reconnects(env):
    a, b, c = env["a"], env["b"], env["c"]
    server = env["server"]
    server.stop()
    wait_for(lambda: "Reconnecting" in a.find_element(By.CSS_SELECTOR, ".notices").text
             or "Cannot reach" in a.find_element(By.CSS_SELECTOR, ".notices").text, message="reconnecting notice")
    server.start()
    # The restarted server forgot the room and its PIN; clients re-join with their cached PIN (which now creates
    # the room with that PIN again) and re-send their status.
    for d in (a, b, c):
        wait_for(lambda: in_room(d) and sorted(n.replace(" (you)", "") for n in participant_names(d)) == ["Alice Example", "Bobby Tables", "Carol"],
                 timeout=30, message="everyone back after restart")
    a.find_element(By.ID, "chat-input").send_keys("after restart", Keys.ENTER)
    wait_for(lambda: "after restart" in [e.text for e in c.find_elements(By.CSS_SELECTOR, ".chat-text")], message="chat after restart")
    shot(a, "room-after-restart")
