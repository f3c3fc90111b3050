"""Browser end-to-end tests for the Rooms web client (static/js): real RoomsServer binary, headless Chromium, all in a
private network namespace (browser_support.private_network).

Three browsers join the same room and exercise participants, media through the SFU (two remote videos decoding in
each, screenshots with non-black tiles, mute and camera-off and screen share seen on the others' tiles), reactions
over a data channel, chat (typing,
delivered marks), profile changes, buddy pictures, reload with the same identity, the PIN flow, signing in and a
server restart.

Needs: apt-get install -y chromium chromium-driver; pip install selenium aiortc (Tests/EndToEnd/requirements.txt).
Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from urllib.request import urlopen
from pathlib import Path

import pytest

selenium = pytest.importorskip("selenium")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

from browser_support import (BIN, CHROMEDRIVER, Server, describe, frames_decoded, frames_keep_coming, in_room,  # noqa: E402
                             is_black, join, js, make_browser, media_state, participant_names, png_bytes, private_network, read_png, self_id, shot,
                             tile_pixels, tile_selector, wait_for)

ROOM = "standup"

pytestmark = [
    pytest.mark.skipif(not BIN.exists(), reason=f"server binary {BIN} not built"),
    pytest.mark.skipif(not Path(CHROMEDRIVER).exists(), reason="chromium-driver not installed"),
]


@pytest.fixture(scope="module")
def env():
    workdir = Path(tempfile.mkdtemp(prefix="rooms-webclient-"))
    with private_network():
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


def remote_frames(driver):
    """Frames decoded so far by each remote camera tile, keyed by session Id."""
    return js(driver, """const me = window.__rooms.store.state.selfId;
        return Object.fromEntries([...document.querySelectorAll('.tile[data-source=camera]')].filter(t => t.dataset.id !== me)
            .map(t => [t.dataset.id, t.querySelector('video').getVideoPlaybackQuality().totalVideoFrames]))""")


def check_tiles_not_black(driver, name, selectors):
    """Save a screenshot as a test artifact and check that each tile's video area shows a picture, not black."""
    image = read_png(shot(driver, name))
    for selector in selectors:
        pixels = tile_pixels(driver, image, selector)
        assert not is_black(pixels), f"{name}: {selector} is black: {describe(pixels)}"


def test_media_flows_through_the_sfu(env):
    a, b, c = env["a"], env["b"], env["c"]
    for d in (a, b, c):
        state = wait_for(lambda: js(d, "const s = window.__rooms.sfu.state; return s === 'available' || s === 'unavailable' ? s : null"),
                         timeout=15, message="SFU outcome")
        assert state == "available", state  # the SFU is on by default ([sfu] enabled)
    # Every browser shows two remote videos, and their decoded frame counts keep increasing.
    for d in (a, b, c):
        first = wait_for(lambda: (f := remote_frames(d)) and len(f) == 2 and all(x > 0 for x in f.values()) and f,
                         timeout=15, message="two remote videos decoding")
        later = wait_for(lambda: (f := remote_frames(d)) and all(f.get(k, 0) > n for k, n in first.items()) and f,
                         timeout=5, message="framesDecoded increasing")
        assert later.keys() == first.keys()
    # The fake microphone beeps: the SFU's RFC 6464 levels name an active speaker (SfuSpeaker).
    wait_for(lambda: js(b, "return window.__rooms.sfu.serverSpeakerAt > 0"), timeout=15, message="SfuSpeaker from the server")
    ids = {d: self_id(d) for d in (a, b, c)}
    for name, d in (("a", a), ("b", b), ("c", c)):
        check_tiles_not_black(d, f"room-three-{name}", [tile_selector(ids[o]) for o in (a, b, c) if o is not d])


def tile_state(driver, session_id, source="camera"):
    """How a participant's tile looks on another browser: present, microphone flag shown, video shown."""
    return js(driver, """const t = document.querySelector(arguments[0]);
        if (!t) return null;
        return {micOff: !t.querySelector('.tile-flag').hidden, videoOff: t.classList.contains('no-video'),
                label: t.getAttribute('aria-label')}""", tile_selector(session_id, source))


def test_mute_and_camera_off_show_on_the_others(env):
    a, b, c = env["a"], env["b"], env["c"]
    aid = self_id(a)
    a.find_element(By.ID, "toggle-mic").click()
    assert a.find_element(By.ID, "toggle-mic").get_attribute("aria-label") == "Unmute microphone"
    for d in (b, c):
        state = wait_for(lambda: (t := tile_state(d, aid)) and t["micOff"] and t, message="mute flag on the other tiles")
        assert "microphone off" in state["label"], state
    a.find_element(By.ID, "toggle-cam").click()
    for d in (b, c):
        wait_for(lambda: tile_state(d, aid)["videoOff"], message="camera off on the other tiles")
        assert d.find_element(By.CSS_SELECTOR, tile_selector(aid) + " .tile-avatar").is_displayed()
    shot(b, "muted-camera-off")
    a.find_element(By.ID, "toggle-mic").click()
    a.find_element(By.ID, "toggle-cam").click()
    for d in (b, c):
        wait_for(lambda: (t := tile_state(d, aid)) and not t["micOff"] and not t["videoOff"], message="unmuted on the other tiles")
    assert frames_keep_coming(b, tile_selector(aid)), "A's video decoding again on B"


def connected_transports(env) -> int:
    """How many SFU transports have connected so far, from the server's log."""
    server = env["server"]
    text = (env["workdir"] / f"server.{server.runs}.log").read_text(errors="replace")
    return len(re.findall(r"transport \S+ connected", text))


def test_screen_share_appears_on_the_others(env):
    a, b, c = env["a"], env["b"], env["c"]
    aid = self_id(a)
    screen = tile_selector(aid, "screen")
    transports = connected_transports(env)
    assert transports >= 6, f"expected a publisher and a subscriber connection per browser, log shows {transports}"
    a.find_element(By.ID, "toggle-screen").click()  # the fake UI picks a screen; the click is the user gesture
    wait_for(lambda: a.find_element(By.ID, "toggle-screen").get_attribute("aria-pressed") == "true", message="sharing on A")
    for d in (b, c):
        first = wait_for(lambda: frames_decoded(d, screen), timeout=15, message="A's screen decoding on the others")
        wait_for(lambda: frames_decoded(d, screen) > first, message="screen frames increasing")
        assert d.find_element(By.CSS_SELECTOR, screen + " .tile-name").text.endswith("'s screen")
    # The camera keeps flowing next to the screen (a second video track, not a replacement).
    assert frames_keep_coming(b, tile_selector(aid)), "A's camera still decoding on B"
    check_tiles_not_black(b, "screen-share", [screen, tile_selector(aid)])
    a.find_element(By.ID, "toggle-screen").click()
    for d in (b, c):
        wait_for(lambda: not d.find_elements(By.CSS_SELECTOR, screen), message="screen tile gone after stopping")
    # Publisher and subscribers renegotiated their existing connections: no new transport connected.
    assert connected_transports(env) == transports, "screen sharing made new SFU connections instead of renegotiating"
    assert frames_keep_coming(b, tile_selector(aid)), "A's camera still decoding on B after the screen share"


def reactions_on(driver, session_id):
    return js(driver, "return [...document.querySelectorAll(arguments[0] + ' .tile-reaction')].map(e => e.textContent)",
              tile_selector(session_id))


def test_reactions_reach_the_others_over_a_data_channel(env):
    # The publisher connection (recreated by the screen share above) carries a "reactions" data channel; the SFU
    # relays what A sends to B's and C's channels (docs/sfu-signaling.md, "Data channels").
    a, b, c = env["a"], env["b"], env["c"]
    aid, bid = self_id(a), self_id(b)
    wait_for(lambda: js(a, "return window.__rooms.sfu.publisher?.reactions?.readyState") == "open", message="A's channel open")
    a.find_element(By.ID, "react-0").click()  # 👍
    for d in (b, c):
        wait_for(lambda: reactions_on(d, aid) == ["👍"], message="A's reaction on A's tile")
    assert reactions_on(a, aid) == ["👍"], "A sees its own reaction (shown locally, not echoed)"
    b.find_element(By.ID, "react-4").click()  # 🎉
    for d in (a, c):
        wait_for(lambda: reactions_on(d, bid) == ["🎉"], message="B's reaction on B's tile")
    metrics = urlopen(env["server"].url + "metrics", timeout=5).read().decode()
    received = [float(line.split()[1]) for line in metrics.splitlines() if line.startswith("rooms_sfu_data_messages_received ")]
    assert received and received[0] >= 2, metrics[-800:]


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
    # B's media comes back both ways: A decodes B's camera again, and B decodes the other two.
    assert frames_keep_coming(a, tile_selector(before), timeout=15), f"B's video on A after reload: {media_state(a)}"
    wait_for(lambda: (f := remote_frames(b)) and len(f) == 2 and all(x > 0 for x in f.values()), timeout=15,
             message="B decodes the others after reload")


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


def test_sign_in_shows_the_user_to_the_others(env):
    a, b, c = env["a"], env["b"], env["c"]
    cid = self_id(c)
    # The client registers a user over REST (POST api/v1/users with its Id and Sid) and authenticates the socket.
    c.find_element(By.ID, "sign-in-room").click()
    userid = wait_for(lambda: js(c, "return window.__rooms.store.state.userid"), message="signed in")
    wait_for(lambda: c.find_element(By.CSS_SELECTOR, ".signed-in").get_attribute("title") == userid, message="own sign-in shown")
    login = js(c, "return JSON.parse(localStorage.getItem('rooms.login.sharedsecret'))")
    assert login["userid"] == userid and login["useridcombo"].endswith(":" + userid), login
    entry = f'.participant[data-id="{cid}"]'
    for d in (a, b):
        wait_for(lambda: d.find_element(By.CSS_SELECTOR, entry + " .user-flag").get_attribute("title") == f"Signed in as {userid}",
                 message="signed-in mark on the others")
        assert "signed in" in js(d, "return document.querySelector(arguments[0]).getAttribute('aria-label')", entry)
    shot(a, "signed-in-user")
    # A reload signs in again with the stored login (PATCH api/v1/sessions + Authentication): same user, same session.
    c.refresh()
    wait_for(lambda: in_room(c) and js(c, "return window.__rooms.store.state.userid") == userid, timeout=15,
             message="signed in again after reload")
    assert self_id(c) == cid
    wait_for(lambda: js(a, "return window.__rooms.store.state.participants[arguments[0]].userid", cid) == userid,
             message="the others still see the user")


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
