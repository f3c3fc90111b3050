"""Firefox and Chromium in one room through the SFU: the web client in headless Firefox ESR (Marionette) next to
headless Chromium (Selenium), in a private network namespace with a routed veth address (see firefox_support).

Checks what a Firefox user would notice: both publish (Firefox offers its video m-line `bundle-only` with port 0 and
three simulcast layers), each decodes the other's camera and receives its microphone, mute and camera-off show on
the other side, reactions cross over the data channels, and leaving removes the tile.

Needs: apt-get install -y firefox-esr chromium chromium-driver iproute2; pip install selenium marionette-driver.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

pytest.importorskip("selenium")
pytest.importorskip("marionette_driver")

from browser_support import (BIN, CHROMEDRIVER, Server, describe, frames_keep_coming, in_room, is_black, join, js,  # noqa: E402
                             make_browser, media_state, private_network, read_png, self_id, shot, tile_pixels, tile_selector,
                             wait_for)
from firefox_support import FIREFOX, Firefox, routed_private_address  # noqa: E402

ROOM = "firefox"

pytestmark = [
    pytest.mark.skipif(not BIN.exists(), reason=f"server binary {BIN} not built"),
    pytest.mark.skipif(not Path(CHROMEDRIVER).exists(), reason="chromium-driver not installed"),
    pytest.mark.skipif(FIREFOX is None, reason="firefox-esr not installed"),
]

# The page's view of Firefox's own media: connection states and, per remote tile, what its <video> painted.
FIREFOX_STATE = """const app = window.__rooms;
    const me = app.store.state.selfId;
    return {sfu: app.sfu.state, selfId: me,
            publisher: app.sfu.publisher ? app.sfu.publisher.pc.connectionState : null,
            subscriber: app.sfu.subscriber && app.sfu.subscriber.pc ? app.sfu.subscriber.pc.connectionState : null,
            remote: Object.fromEntries([...document.querySelectorAll('.tile[data-source=camera]')]
                .filter(t => t.dataset.id !== me)
                .map(t => { const v = t.querySelector('video');
                            return [t.dataset.id, {width: v.videoWidth, painted: v.mozPaintedFrames,
                                                   videoOff: t.classList.contains('no-video'),
                                                   micOff: !t.querySelector('.tile-flag').hidden}]; }))}"""

# Inbound RTP on Firefox's subscriber connection, by kind.
FIREFOX_INBOUND = """const app = window.__rooms;
    const pc = app.sfu.subscriber && app.sfu.subscriber.pc;
    if (!pc) return {};
    return pc.getStats().then(report => { const out = {};
        report.forEach(s => { if (s.type === 'inbound-rtp') out[s.kind] = {packets: s.packetsReceived,
                                  frames: s.framesDecoded || 0, codec: report.get(s.codecId)?.mimeType}; });
        return out; })"""


@pytest.fixture(scope="module")
def env():
    workdir = Path(tempfile.mkdtemp(prefix="rooms-firefox-"))
    with private_network():
        address = routed_private_address()
        server = Server(workdir)
        # Firefox offers no loopback candidates: media must be on the routed address.
        server.conf.write_text(server.conf.read_text() + f"\n[sfu]\nbind = {address}\n")
        server.start()
        firefox = chromium = None
        try:
            firefox = Firefox(workdir)
            chromium = make_browser()
            yield {"server": server, "firefox": firefox, "chromium": chromium, "url": server.url + ROOM}
        finally:
            for browser in (firefox, chromium):
                if browser is not None:
                    try:
                        browser.quit()
                    except Exception:
                        pass
            server.stop()
            shutil.rmtree(workdir, ignore_errors=True)


def firefox_join(firefox: Firefox, url: str, name: str):
    firefox.get(url)
    wait_for(lambda: firefox.js("return !!document.getElementById('name-input')"), message="join screen in Firefox")
    firefox.js("""const field = document.getElementById('name-input');
        field.value = arguments[0]; field.dispatchEvent(new Event('input', {bubbles: true}));
        document.getElementById('join-button').click();""", name)


def test_firefox_and_chromium_see_and_hear_each_other(env):
    firefox, chromium = env["firefox"], env["chromium"]
    firefox_join(firefox, env["url"], "Fox")
    join(chromium, env["url"], "Chrome")
    wait_for(lambda: in_room(chromium), message="Chromium in the room")
    state = wait_for(lambda: (s := firefox.js(FIREFOX_STATE)) and s["publisher"] == "connected"
                     and s["subscriber"] == "connected" and s, timeout=20, message="Firefox's SFU connections")
    assert state["sfu"] == "available", state
    fox_id, chrome_id = state["selfId"], self_id(chromium)

    # Chromium decodes Firefox's camera (a simulcast publisher that offered bundle-only m-lines) and gets its audio.
    assert frames_keep_coming(chromium, tile_selector(fox_id), count=10, timeout=15), media_state(chromium)
    pixels = tile_pixels(chromium, read_png(shot(chromium, "firefox-seen-by-chromium")), tile_selector(fox_id))
    assert not is_black(pixels), f"Firefox's tile is black at Chromium: {describe(pixels)}"
    wait_for(lambda: any(r["id"] == fox_id[-6:] and r["source"] == "microphone" and r["track"] == "live"
                         for r in media_state(chromium)["remote"]), message="Firefox's microphone at Chromium")

    # Firefox paints Chromium's camera and keeps receiving video and audio.
    first = wait_for(lambda: (s := firefox.js(FIREFOX_STATE)["remote"].get(chrome_id)) and s["painted"] > 0 and s,
                     timeout=15, message="Chromium's camera painted in Firefox")
    assert first["width"] > 0, first
    wait_for(lambda: firefox.js(FIREFOX_STATE)["remote"][chrome_id]["painted"] > first["painted"] + 10,
             message="Firefox keeps painting Chromium's camera")
    inbound = firefox.js(FIREFOX_INBOUND)
    assert inbound.get("video", {}).get("codec") == "video/VP8", inbound
    later = wait_for(lambda: (i := firefox.js(FIREFOX_INBOUND)) and i["audio"]["packets"] > inbound["audio"]["packets"] + 20
                     and i["video"]["frames"] > inbound["video"]["frames"] + 10 and i,
                     message="Firefox's inbound audio and video growing")
    assert later["audio"]["codec"] == "audio/opus", later


def test_mute_and_camera_off_cross_browsers(env):
    firefox, chromium = env["firefox"], env["chromium"]
    fox_id, chrome_id = firefox.js(FIREFOX_STATE)["selfId"], self_id(chromium)
    firefox.js("document.getElementById('toggle-mic').click(); document.getElementById('toggle-cam').click();")
    wait_for(lambda: js(chromium, """const t = document.querySelector(arguments[0]);
        return t && !t.querySelector('.tile-flag').hidden && t.classList.contains('no-video')""", tile_selector(fox_id)),
             message="Firefox's mute and camera-off on Chromium's tile")
    chromium.find_element("id", "toggle-mic").click()
    wait_for(lambda: firefox.js(FIREFOX_STATE)["remote"][chrome_id]["micOff"], message="Chromium's mute in Firefox")
    firefox.js("document.getElementById('toggle-mic').click(); document.getElementById('toggle-cam').click();")
    chromium.find_element("id", "toggle-mic").click()
    assert frames_keep_coming(chromium, tile_selector(fox_id), count=5, timeout=15), media_state(chromium)


def test_reactions_cross_browsers(env):
    # Data channels: both publisher connections carry a "reactions" channel (Firefox offers its m=application
    # bundle-only too); the SFU relays each side's reaction to the other.
    firefox, chromium = env["firefox"], env["chromium"]
    fox_id, chrome_id = firefox.js(FIREFOX_STATE)["selfId"], self_id(chromium)
    reactions = "return [...document.querySelectorAll(arguments[0] + ' .tile-reaction')].map(e => e.textContent)"
    wait_for(lambda: firefox.js("return window.__rooms.sfu.publisher?.reactions?.readyState") == "open",
             message="Firefox's reactions channel open")
    wait_for(lambda: js(chromium, "return window.__rooms.sfu.publisher?.reactions?.readyState") == "open",
             message="Chromium's reactions channel open")
    firefox.js("document.getElementById('react-1').click();")  # ❤️
    wait_for(lambda: js(chromium, reactions, tile_selector(fox_id)) == ["❤️"], message="Firefox's reaction at Chromium")
    chromium.find_element("id", "react-2").click()  # 😂
    wait_for(lambda: firefox.js(reactions, tile_selector(chrome_id)) == ["😂"], message="Chromium's reaction in Firefox")


def test_codec_firefox_cannot_decode_is_reported_not_sent(env):
    """An H.264 publisher (aiortc over WHIP; Debian's Firefox has no H.264 decoder): Firefox's subscriber gets no
    H.264 stream but a notice naming the codec; Chromium, which decodes H.264, gets the video."""
    import asyncio
    import threading

    import aioice.ice
    import requests
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription, VideoStreamTrack

    firefox, chromium = env["firefox"], env["chromium"]
    address = env["server"].conf.read_text().split("bind = ")[1].split()[0]
    aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: [address]
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    run = lambda coro: asyncio.run_coroutine_threadsafe(coro, loop).result(30)  # noqa: E731
    pc = None
    try:
        async def offer():
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            tr = pc.addTransceiver(VideoStreamTrack(), direction="sendonly")
            tr.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("video").codecs
                                    if c.mimeType in ("video/H264", "video/rtx")])
            await pc.setLocalDescription(await pc.createOffer())
            return pc, pc.localDescription.sdp
        pc, sdp = run(offer())
        session = requests.Session()
        session.trust_env = False
        r = session.post(env["server"].url + "api/v1/whip/" + ROOM, data=sdp.encode(),
                         headers={"Content-Type": "application/sdp"}, timeout=10)
        assert r.status_code == 201, r.text
        run(pc.setRemoteDescription(RTCSessionDescription(sdp=r.text, type="answer")))
        notice = wait_for(lambda: firefox.js("const n = document.querySelector('.notice[data-key=codec]');"
                                             "return n ? n.textContent : null"), timeout=15,
                          message="Firefox's notice about the H.264 video")
        assert "H264" in notice, notice
        codecs = firefox.js("""const pc = window.__rooms.sfu.subscriber.pc;
            return pc.getStats().then(r => { const out = []; r.forEach(s => { if (s.type === 'inbound-rtp')
                out.push(r.get(s.codecId)?.mimeType); }); return out; })""")
        assert "video/H264" not in codecs, codecs
        # Chromium is not told anything of the sort and receives the H.264 stream.
        assert not js(chromium, "return !!document.querySelector('.notice[data-key=codec]')")
        wait_for(lambda: "video/H264" in js(chromium, """return window.__rooms.sfu.subscriber.pc.getStats().then(r => { const out = []; r.forEach(s => {
                if (s.type === 'inbound-rtp' && s.framesDecoded > 0) out.push(r.get(s.codecId)?.mimeType); }); return out; })"""),
                 timeout=15, message="Chromium decoding the H.264 video")
    finally:
        if pc is not None:
            run(pc.close())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def test_firefox_leaves(env):
    firefox, chromium = env["firefox"], env["chromium"]
    fox_id = firefox.js(FIREFOX_STATE)["selfId"]
    firefox.js("document.getElementById('leave').click();")
    wait_for(lambda: not js(chromium, "return !!document.querySelector(arguments[0])", tile_selector(fox_id)),
             message="Firefox's tile gone at Chromium")
    assert in_room(chromium)
