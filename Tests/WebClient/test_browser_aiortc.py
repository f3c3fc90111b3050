"""A browser (the web client in headless Chromium) and an aiortc peer in the same room see and hear each other.

The aiortc peer (room_peer.py) joins over the channeling WebSocket with SfuPublish/SfuSubscribe like the web client,
sending a magenta picture and (from the second test on) a 660 Hz tone. Checks, by content:
  - the aiortc peer decodes the browser's fake camera and hears the fake microphone's 400 Hz beep;
  - the browser decodes the aiortc video (frames increasing) and the tile is magenta in a screenshot;
  - the browser hears the tone: getStats() totalAudioEnergy rises when it starts, and a WebAudio analyser on the
    remote <audio> stream peaks at 660 Hz.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("selenium")
pytest.importorskip("aiortc")
from selenium.webdriver.common.by import By  # noqa: E402

from browser_support import (BIN, CHROMEDRIVER, Server, describe, frames_decoded, frames_keep_coming, in_room,  # noqa: E402
                             join, js, make_browser, private_network, read_png, self_id, shot, tile_pixels,
                             tile_selector, wait_for)
from room_peer import RoomPeer  # noqa: E402

ROOM = "interop"
MAGENTA = (255, 0, 255)
PEER_TONE_HZ = 660.0
CHROMIUM_BEEP_HZ = 400.0  # Chromium's fake microphone: 400 Hz beeps

pytestmark = [
    pytest.mark.skipif(not BIN.exists(), reason=f"server binary {BIN} not built"),
    pytest.mark.skipif(not Path(CHROMEDRIVER).exists(), reason="chromium-driver not installed"),
]

# Peak frequency of the remote stream of `session` through a WebAudio analyser, averaged over ~1 s of snapshots.
ANALYSE = """
const [session, done] = [arguments[0], arguments[arguments.length - 1]];
const audio = document.querySelector(`.remote-audio audio[data-session="${session}"]`);
if (!audio) { done({error: "no audio element"}); return; }
const ctx = new AudioContext();
const analyser = ctx.createAnalyser();
analyser.fftSize = 8192;
ctx.createMediaStreamSource(audio.srcObject).connect(analyser);
const sum = new Float32Array(analyser.frequencyBinCount).fill(0);
let n = 0;
const timer = setInterval(() => {
  const bins = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(bins);
  bins.forEach((db, i) => { sum[i] += Math.pow(10, db / 10); });
  if (++n < 10) return;
  clearInterval(timer);
  let best = 1;
  for (let i = 2; i < sum.length; i++) if (sum[i] > sum[best]) best = i;
  const hz = best * ctx.sampleRate / analyser.fftSize;
  ctx.close();
  done({hz, state: ctx.state});
}, 100);
"""

AUDIO_ENERGY = """
const [session, done] = [arguments[0], arguments[arguments.length - 1]];
const sub = window.__rooms.sfu.subscriber;
sub.getStats().then((report) => {
  let energy = null;
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "audio" && sub.sessionForMid(s.mid) === session) energy = s.totalAudioEnergy;
  });
  done(energy);
});
"""


@pytest.fixture(scope="module")
def room():
    workdir = Path(tempfile.mkdtemp(prefix="rooms-interop-"))
    with private_network():
        server = Server(workdir)
        server.start()
        browser = peer = None
        try:
            browser = make_browser()
            # The tone starts later: a browser whose far end plays a steady tone suppresses its own microphone as echo
            # (WebRTC echo cancellation), so each direction's audio is checked while the other side is quiet.
            peer = RoomPeer(server.url, ROOM, "aiortc peer", colour=MAGENTA, tone_hz=PEER_TONE_HZ, tone_on=False).start()
            join(browser, server.url + ROOM, "Browser")
            wait_for(lambda: in_room(browser), message="browser in the room")
            yield {"browser": browser, "peer": peer, "server": server}
        finally:
            if browser:
                browser.quit()
            if peer:
                peer.stop()
            server.stop()
            shutil.rmtree(workdir, ignore_errors=True)


def test_aiortc_peer_sees_and_hears_the_browser(room):
    browser, peer = room["browser"], room["peer"]
    bid = self_id(browser)
    got = wait_for(lambda: (s := peer.snapshot().get(bid)) and s["videoFrames"] > 10 and s["audioFrames"] > 100 and s,
                   timeout=15, message="browser media decoded by aiortc")
    assert got["videoSize"][0] >= 160, got
    assert not peer.errors, peer.errors
    # Chromium's fake camera is a bright test pattern, not black.
    assert max(got["videoMean"]) > 40, got
    # The beep: most of the power of the loud blocks sits at 400 Hz (spectrum of the last 2 s).
    wait_for(lambda: peer.tone_share(bid, CHROMIUM_BEEP_HZ) > 0.4, timeout=10,
             message=f"the {CHROMIUM_BEEP_HZ:.0f} Hz beep heard by aiortc")
    # The browser lists the peer by the name in its Status.
    assert js(browser, "return window.__rooms.store.state.participants[arguments[0]].displayName", peer.id) == "aiortc peer"


def test_browser_sees_and_hears_the_aiortc_peer(room):
    browser, peer = room["browser"], room["peer"]
    tile = tile_selector(peer.id)
    wait_for(lambda: browser.find_element(By.CSS_SELECTOR, tile + " .tile-name").text == "aiortc peer",
             message="the peer's tile with its name")
    wait_for(lambda: frames_decoded(browser, tile), timeout=15, message="aiortc video decoding in the browser")
    assert frames_keep_coming(browser, tile), "aiortc video frames keep coming"
    pixels = tile_pixels(browser, read_png(shot(browser, "interop-browser")), tile)
    red, green, blue = describe(pixels)["mean"]
    assert red > 180 and blue > 180 and green < 80, f"expected magenta, got {describe(pixels)}"

    # The peer has sent silence so far: the tone starts now, and the browser's audio energy must rise with it.
    silent = wait_for(lambda: js_async(browser, AUDIO_ENERGY, peer.id) is not None, message="audio stats") and \
        js_async(browser, AUDIO_ENERGY, peer.id)
    peer.set_tone(True)
    wait_for(lambda: js_async(browser, AUDIO_ENERGY, peer.id) > silent + 0.05, message="totalAudioEnergy rising with the tone")
    heard = js_async(browser, ANALYSE, peer.id)
    assert "error" not in heard, heard
    assert abs(heard["hz"] - PEER_TONE_HZ) < 15, heard


def js_async(driver, script, *args):
    driver.set_script_timeout(10)
    return driver.execute_async_script(script, *args)
