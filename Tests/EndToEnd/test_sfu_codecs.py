"""Codecs beyond VP8 and renegotiation through the real server (docs/sfu-signaling.md).

Headless Chromium publishes its fake camera with one codec (setCodecPreferences: VP9, AV1, H.264; Debian's Chromium
encodes all three: libvpx, libaom, OpenH264) over `SfuPublish`; a second Chromium subscribes over `SfuSubscribe`
and must decode that very codec (getStats: codec mimeType, framesDecoded growing). aiortc publishes H.264 to a
Chromium and an aiortc subscriber. A subscriber that cannot decode a codec (aiortc and VP9) gets the track listed
under `Unsupported` instead of undecodable media. VP9, H.264 and AV1 simulcast (rid layers, L1T3) switch layers at
keyframes.

Renegotiation: the publisher adds a second video track on its existing connection and the subscriber re-offers on
its existing connection; the new track decodes, the first one keeps decoding without a gap, the room still has
exactly two transports; then the second track is removed the same way, and a third one reuses the freed m-line.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
import time

import pytest

from conftest import default_conf, get, hello, ws_recv_until, ws_self, ws_send
from sfu_chromium_peers import call, make_browser

PAGE = r"""<!doctype html>
<html><head><meta charset="utf-8"><title>rooms codec peer</title></head>
<body><div id="videos"></div>
<script>
window.pcs = {};
window.samples = {};

function codecsFor(mime) {
  if (!mime) return null;
  const all = RTCRtpSender.getCapabilities("video").codecs;
  return all.filter((c) => c.mimeType === mime).concat(all.filter((c) => c.mimeType === "video/rtx"));
}

// A sendonly camera track; `mime` restricts the codecs (setCodecPreferences), `layers` makes it rid simulcast.
window.addCamera = async function (name, mime, width, height, layers) {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width: { exact: width }, height: { exact: height }, frameRate: 30 } });
  const pc = window.pcs[name] || (window.pcs[name] = new RTCPeerConnection({ iceServers: [] }));
  const init = { direction: "sendonly", streams: [stream] };
  if (layers) {
    init.sendEncodings = [{ rid: "q", scaleResolutionDownBy: 4, scalabilityMode: "L1T3" },
                          { rid: "h", scaleResolutionDownBy: 2, scalabilityMode: "L1T3" },
                          { rid: "f", scalabilityMode: "L1T3" }];
  }
  const tr = pc.addTransceiver(stream.getVideoTracks()[0], init);
  const codecs = codecsFor(mime);
  if (codecs) tr.setCodecPreferences(codecs);
  await pc.setLocalDescription(await pc.createOffer());
  return { sdp: pc.localDescription.sdp, mid: tr.mid };
};

// Stops the transceiver of `mid` and returns the new offer (its m-line gets port 0).
window.removeTrack = async function (name, mid) {
  const pc = window.pcs[name];
  pc.getTransceivers().find((t) => t.mid === mid).stop();
  await pc.setLocalDescription(await pc.createOffer());
  return pc.localDescription.sdp;
};

// A subscriber connection with `count` recvonly video transceivers (more are added on later calls: renegotiation).
window.offerSubscriber = async function (name, count) {
  let pc = window.pcs[name];
  if (!pc) {
    pc = window.pcs[name] = new RTCPeerConnection({ iceServers: [] });
    window.samples[name] = [];
    pc.ontrack = (e) => {
      const video = document.createElement("video");
      video.autoplay = true; video.muted = true; video.playsInline = true;
      video.srcObject = new MediaStream([e.track]);
      document.getElementById("videos").appendChild(video);
      video.play().catch(() => {});
    };
    const t0 = performance.now();
    setInterval(async () => {
      const report = await pc.getStats();
      const byMid = {};
      report.forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "video") {
          const codec = report.get(s.codecId);
          byMid[s.mid] = [s.framesDecoded || 0, s.frameWidth || 0, s.frameHeight || 0, codec ? codec.mimeType : ""];
        }
      });
      window.samples[name].push([performance.now() - t0, byMid]);
    }, 100);
  }
  const receiving = pc.getTransceivers().filter((t) => t.receiver.track.kind === "video" && !t.stopped);
  for (let i = receiving.length; i < count; i++) pc.addTransceiver("video", { direction: "recvonly" });
  await pc.setLocalDescription(await pc.createOffer());
  return pc.localDescription.sdp;
};

window.setAnswer = async function (name, sdp) { await window.pcs[name].setRemoteDescription({ type: "answer", sdp: sdp }); };
window.state = async function (name) { return window.pcs[name] ? window.pcs[name].connectionState : "none"; };
window.latest = async function (name) { const a = window.samples[name] || []; return a.length ? a[a.length - 1] : null; };
window.allSamples = async function (name) { return window.samples[name] || []; };
window.closePc = async function (name) { if (window.pcs[name]) { window.pcs[name].close(); delete window.pcs[name]; } };
</script></body></html>
"""

ROOM = "codecs-e2e"


class Channeling:
    """One channeling session in the room (its own WebSocket)."""

    def __init__(self, url: str, iid_prefix: str, room: str = ROOM):
        self.conn, self.self_doc = ws_self(url)
        assert hello(self.conn, room)["Type"] == "Welcome"
        self.prefix = iid_prefix
        self.count = 0

    def request(self, kind: str, payload: dict, timeout: float = 10) -> dict:
        self.count += 1
        iid = f"{self.prefix}{self.count}"
        ws_send(self.conn, {"Type": kind, kind: payload, "Iid": iid})
        return ws_recv_until(self.conn, lambda e: e.get("Iid") == iid, timeout=timeout)["Data"]

    def send(self, kind: str, payload: dict):
        ws_send(self.conn, {"Type": kind, kind: payload})

    def close(self):
        try:
            self.conn.close()
        except Exception:
            pass


def wait(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def mid_stats(browser, name: str, mid: str):
    sample = call(browser, "latest", name)
    return (sample or [0, {}])[1].get(mid)


def longest_gap(samples: list, mid: str, start_ms: float, end_ms: float) -> float:
    """Longest time (ms) within [start, end] in which framesDecoded of `mid` did not increase."""
    longest, last_change, last_frames = 0.0, None, None
    for t, by_mid in samples:
        if t < start_ms or t > end_ms or mid not in by_mid:
            continue
        frames = by_mid[mid][0]
        if last_frames is None or frames > last_frames:
            if last_change is not None:
                longest = max(longest, t - last_change)
            last_change, last_frames = t, frames
    if last_change is not None:
        longest = max(longest, end_ms - last_change)
    return longest


def room_stats(server, room: str) -> dict:
    rooms = get(server.u("api/v1/stats")).json()["sfu"]["rooms"]
    return next(r for key, r in rooms.items() if key.endswith(room))


def section_of(sdp: str, mid: str) -> str:
    """The m-section of `sdp` whose a=mid is `mid`."""
    for section in sdp.split("\r\nm=")[1:]:
        if f"\r\na=mid:{mid}\r\n" in section:
            return section
    raise AssertionError(f"no m-line with mid {mid}")


@pytest.fixture(scope="module")
def sfu_server(rooms_module):
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("chromium and chromedriver are needed (apt-get install -y chromium chromium-driver)")
    return rooms_module(default_conf({"sfu": {"bind": "127.0.0.1"}}))


@pytest.fixture(scope="module")
def browsers():
    workdir = tempfile.mkdtemp(prefix="sfu-codecs-")
    page = os.path.join(workdir, "peer.html")
    with open(page, "w") as f:
        f.write(PAGE)
    drivers = []
    try:
        for profile, size in (("pub", (800, 600)), ("sub", (1200, 900))):
            d = make_browser(os.path.join(workdir, "profile-" + profile), *size)
            drivers.append(d)
            d.get("file://" + page)
        yield drivers
    finally:
        for d in drivers:
            try:
                d.quit()
            except Exception:
                pass
        shutil.rmtree(workdir, ignore_errors=True)


class Pair:
    """A publisher session and a subscriber session in the room, with their browser pages."""

    def __init__(self, server, browsers, tag: str):
        self.room = f"{ROOM}-{tag}"
        self.pub_ch = Channeling(server.url, tag + "p", self.room)
        self.sub_ch = Channeling(server.url, tag + "s", self.room)
        self.publisher, self.subscriber = browsers
        self.tag = tag

    def publish(self, offer: dict, source: str = "camera") -> dict:
        reply = self.pub_ch.request("SfuPublish", {"Offer": {"type": "offer", "sdp": offer["sdp"]},
                                                   "Tracks": [{"Mid": offer["mid"], "Kind": "video", "Source": source}]})
        assert reply["Type"] == "SfuAnswer", reply
        call(self.publisher, "setAnswer", self.tag + "pub", reply["Answer"]["sdp"])
        return reply

    def subscribe(self, count: int = 1) -> dict:
        sdp = call(self.subscriber, "offerSubscriber", self.tag + "sub", count)
        reply = self.sub_ch.request("SfuSubscribe", {"Offer": {"type": "offer", "sdp": sdp}})
        assert reply["Type"] == "SfuAnswer", reply
        call(self.subscriber, "setAnswer", self.tag + "sub", reply["Answer"]["sdp"])
        return reply

    def connected(self):
        wait(lambda: call(self.publisher, "state", self.tag + "pub") == "connected", 20, "publisher connection")
        wait(lambda: call(self.subscriber, "state", self.tag + "sub") == "connected", 20, "subscriber connection")

    def close(self):
        for browser, name in ((self.publisher, self.tag + "pub"), (self.subscriber, self.tag + "sub")):
            try:
                call(browser, "closePc", name)
            except Exception:
                pass
        self.pub_ch.close()
        self.sub_ch.close()


def decodes(pair: Pair, mid: str, mime: str, frames: int = 20, timeout: float = 20) -> list:
    """Waits until `mid` of the subscriber decodes `mime`, then checks framesDecoded grows by `frames` more."""
    name = pair.tag + "sub"
    first = wait(lambda: (lambda s: s if s and s[0] > 0 else None)(mid_stats(pair.subscriber, name, mid)), timeout,
                 f"first decoded {mime} frame on mid {mid}")
    assert first[3] == mime, f"mid {mid} decodes {first[3]}, not {mime}"
    later = wait(lambda: (lambda s: s if s and s[0] >= first[0] + frames else None)(mid_stats(pair.subscriber, name, mid)),
                 timeout, f"{frames} more {mime} frames on mid {mid}")
    return later


@pytest.mark.parametrize("mime", ["video/VP9", "video/AV1", "video/H264"])
def test_chromium_codec_to_chromium(sfu_server, browsers, mime):
    pair = Pair(sfu_server, browsers, mime.split("/")[1].lower())
    try:
        offer = call(pair.publisher, "addCamera", pair.tag + "pub", mime, 640, 360, False)
        reply = pair.publish(offer)
        codec = mime.split("/")[1]
        assert f" {codec}/90000" in reply["Answer"]["sdp"], reply["Answer"]["sdp"]
        sub = pair.subscribe(1)
        assert [t["Kind"] for t in sub["Tracks"]] == ["video"], sub
        assert "Unsupported" not in sub, sub
        pair.connected()
        stats = decodes(pair, sub["Tracks"][0]["Mid"], mime)
        assert stats[1:3] == [640, 360], stats
        producers = room_stats(sfu_server, pair.room)["videoProducers"]
        assert [p["codec"] for p in producers] == [codec], producers
        # Keyframes seen and the size read from them (VP9 scalability structure, AV1 sequence header, H.264 SPS).
        assert any(l["keyframes"] > 0 and l["width"] == 640 and l["height"] == 360
                   for p in producers for l in p["layers"]), producers
        print(f"{mime}: subscriber decoded {stats[0]} frames at {stats[1]}x{stats[2]}")
    finally:
        pair.close()


class AiortcThread:
    """aiortc peers on an event loop of their own (the test's channeling calls stay synchronous)."""

    def __init__(self):
        import aioice.ice
        aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def test_h264_from_aiortc_to_chromium_and_aiortc_and_unsupported_vp9(sfu_server, browsers):
    pytest.importorskip("aiortc")
    import numpy as np
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription, VideoStreamTrack
    from av import VideoFrame

    class Bars(VideoStreamTrack):
        async def recv(self):
            pts, time_base = await self.next_timestamp()
            image = np.zeros((240, 320, 3), dtype=np.uint8)
            for i in range(8):
                image[:, i * 40:(i + 1) * 40] = [(i & 1) * 255, (i & 2) * 127, (i & 4) * 63]
            frame = VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = pts, time_base
            return frame

    aio = AiortcThread()
    pair = Pair(sfu_server, browsers, "h264aio")
    viewer = Channeling(sfu_server.url, "v", pair.room)
    peers = []
    received = {"frames": 0, "size": None}
    try:
        async def offer_publisher():
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            peers.append(pc)
            tr = pc.addTransceiver(Bars(), direction="sendonly")
            tr.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("video").codecs
                                    if c.mimeType in ("video/H264", "video/rtx")])
            await pc.setLocalDescription(await pc.createOffer())
            return pc, pc.localDescription.sdp

        pub_pc, sdp = aio.run(offer_publisher())
        reply = pair.pub_ch.request("SfuPublish", {"Offer": {"type": "offer", "sdp": sdp}})
        assert reply["Type"] == "SfuAnswer", reply
        assert " H264/90000" in reply["Answer"]["sdp"]
        aio.run(pub_pc.setRemoteDescription(RTCSessionDescription(sdp=reply["Answer"]["sdp"], type="answer")))

        # Chromium decodes it.
        sub = pair.subscribe(1)
        wait(lambda: call(pair.subscriber, "state", pair.tag + "sub") == "connected", 20, "chromium subscriber")
        stats = decodes(pair, sub["Tracks"][0]["Mid"], "video/H264")
        assert stats[1:3] == [320, 240], stats

        # aiortc decodes it too.
        async def aiortc_subscriber():
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            peers.append(pc)

            @pc.on("track")
            def on_track(track):
                async def consume():
                    while True:
                        frame = await track.recv()
                        received["frames"] += 1
                        received["size"] = (frame.width, frame.height)
                asyncio.ensure_future(consume())

            pc.addTransceiver("video", direction="recvonly")
            await pc.setLocalDescription(await pc.createOffer())
            return pc, pc.localDescription.sdp

        sub_pc, sdp = aio.run(aiortc_subscriber())
        reply = viewer.request("SfuSubscribe", {"Offer": {"type": "offer", "sdp": sdp}})
        assert reply["Type"] == "SfuAnswer" and reply["Tracks"], reply
        aio.run(sub_pc.setRemoteDescription(RTCSessionDescription(sdp=reply["Answer"]["sdp"], type="answer")))
        wait(lambda: received["frames"] >= 30, 20, "aiortc decoding H.264")
        assert received["size"] == (320, 240), received

        # A VP9 publisher joins: aiortc cannot decode VP9, so a fresh aiortc offer is told so and gets only H.264.
        vp9 = Channeling(sfu_server.url, "n", pair.room)
        try:
            offer = call(pair.publisher, "addCamera", "vp9only", "video/VP9", 320, 240, False)
            r = vp9.request("SfuPublish", {"Offer": {"type": "offer", "sdp": offer["sdp"]}})
            assert r["Type"] == "SfuAnswer", r
            # A fresh aiortc connection with one video m-line: H.264 takes it; VP9 could use none.
            _, sdp = aio.run(aiortc_subscriber())
            r = viewer.request("SfuSubscribe", {"Offer": {"type": "offer", "sdp": sdp}})
            assert r["Type"] == "SfuAnswer", r
            unsupported = r.get("Unsupported") or []
            assert [(u["Kind"], u["Codec"]) for u in unsupported] == [("video", "VP9")], r
            assert unsupported[0]["Session"] == vp9.self_doc["Id"], (unsupported, vp9.self_doc)
            assert " VP9/" not in r["Answer"]["sdp"]
        finally:
            call(pair.publisher, "closePc", "vp9only")
            vp9.close()
        print(f"H.264 aiortc -> chromium {stats[0]} frames {stats[1]}x{stats[2]}; -> aiortc {received['frames']} frames")
    finally:
        for pc in peers:
            try:
                aio.run(pc.close(), timeout=5)
            except Exception:
                pass
        aio.stop()
        viewer.close()
        pair.close()


@pytest.mark.parametrize("mime", ["video/VP9", "video/H264", "video/AV1"])
def test_simulcast_switches_at_keyframes(sfu_server, browsers, mime):
    pair = Pair(sfu_server, browsers, mime.split("/")[1].lower() + "sim")
    try:
        offer = call(pair.publisher, "addCamera", pair.tag + "pub", mime, 640, 360, True)
        assert "a=simulcast:send q;h;f" in offer["sdp"], offer["sdp"]
        reply = pair.publish(offer)
        assert "a=simulcast:recv q;h;f" in reply["Answer"]["sdp"]
        sub = pair.subscribe(1)
        pair.connected()
        track, mid = sub["Tracks"][0]["Track"], sub["Tracks"][0]["Mid"]
        name = pair.tag + "sub"
        decodes(pair, mid, mime, frames=10)

        def layers():
            producer = next(p for p in room_stats(sfu_server, pair.room)["videoProducers"] if p["track"] == track)
            return producer["layers"]
        # The q and h layers run from the start (Chrome's first estimate covers them; f needs a ramp-up that the
        # VP8 simulcast test already covers). Their sizes come from the keyframes (VP9 scalability structure, H.264
        # SPS, AV1 sequence header).
        wait(lambda: [(l["width"], l["height"]) for l in layers()[:2]] == [(160, 90), (320, 180)]
             and all(l["active"] for l in layers()[:2]), 15, f"{mime} layers q and h with their sizes")
        # Explicit layers: q, then h; each switch at a keyframe of that layer, without a freeze.
        start = call(pair.subscriber, "latest", name)[0]
        for rid, size in (("q", [160, 90]), ("h", [320, 180])):
            pair.sub_ch.send("SfuLayer", {"Track": track, "Layer": rid})
            try:
                wait(lambda: (mid_stats(pair.subscriber, name, mid) or [0, 0, 0])[1:3] == size, 10, f"the {rid} layer {size}")
            except AssertionError as e:
                raise AssertionError(f"{e}; server layers {layers()}")
            time.sleep(1)
        samples = call(pair.subscriber, "allSamples", name)
        end = samples[-1][0]
        gap = longest_gap(samples, mid, start, end)
        assert gap < 1000, f"decoding stalled for {gap:.0f} ms across the switches"
        consumers = [c for c in room_stats(sfu_server, pair.room)["videoConsumers"] if c["track"] == track]
        assert consumers and consumers[0]["layerSwitches"] >= 2 and consumers[0]["currentLayer"] == 1, consumers
        print(f"{mime} simulcast: switched to q and to h, longest decode gap {gap:.0f} ms; layers {layers()}")
    finally:
        pair.close()


def test_renegotiation_adds_and_removes_a_track_on_existing_connections(sfu_server, browsers):
    pair = Pair(sfu_server, browsers, "reneg")
    try:
        first = call(pair.publisher, "addCamera", pair.tag + "pub", None, 640, 360, False)
        pair.publish(first, source="screen")  # a re-offer that lists only its new track keeps this one's source
        sub = pair.subscribe(1)
        pair.connected()
        mid_a = sub["Tracks"][0]["Mid"]
        decodes(pair, mid_a, "video/VP8", frames=10)
        transports = room_stats(sfu_server, pair.room)["transports"]
        assert transports == 2, transports
        name = pair.tag + "sub"
        t_add = call(pair.subscriber, "latest", name)[0]

        # The publisher adds a second track on the same connection.
        second = call(pair.publisher, "addCamera", pair.tag + "pub", None, 320, 240, False)
        assert second["mid"] != first["mid"]
        reply = pair.publish(second, source="camera")
        assert reply.get("Renegotiated") is True, reply
        assert sorted(t["Source"] for t in reply["Tracks"]) == ["camera", "screen"], reply["Tracks"]
        # The subscriber re-offers on its connection with one more transceiver.
        sub2 = pair.subscribe(2)
        assert sub2.get("Renegotiated") is True, sub2
        mids = {t["Mid"]: t for t in sub2["Tracks"]}
        assert mid_a in mids and len(mids) == 2, sub2["Tracks"]
        mid_b = next(m for m in mids if m != mid_a)
        assert mids[mid_b]["Source"] == "camera" and mids[mid_a]["Source"] == "screen", mids
        stats_b = decodes(pair, mid_b, "video/VP8", frames=10)
        assert stats_b[1:3] == [320, 240], stats_b
        assert room_stats(sfu_server, pair.room)["transports"] == transports, "renegotiation made new transports"

        # The second track goes away again.
        offer = call(pair.publisher, "removeTrack", pair.tag + "pub", second["mid"])
        reply = pair.pub_ch.request("SfuPublish", {"Offer": {"type": "offer", "sdp": offer}})
        assert reply["Type"] == "SfuAnswer" and reply.get("Renegotiated") is True, reply
        call(pair.publisher, "setAnswer", pair.tag + "pub", reply["Answer"]["sdp"])
        assert [t["Source"] for t in reply["Tracks"]] == ["screen"], reply["Tracks"]
        sub3 = pair.subscribe(2)
        assert sub3.get("Renegotiated") is True and [t["Mid"] for t in sub3["Tracks"]] == [mid_a], sub3
        assert "a=inactive" in section_of(sub3["Answer"]["sdp"], mid_b), sub3["Answer"]["sdp"]
        before = mid_stats(pair.subscriber, name, mid_a)[0]
        wait(lambda: mid_stats(pair.subscriber, name, mid_a)[0] > before + 15, 10, "the first track after the removal")

        # A third track later reuses the subscriber's freed m-line (same mid, a new SSRC) and decodes there.
        third = call(pair.publisher, "addCamera", pair.tag + "pub", None, 480, 270, False)
        reply = pair.publish(third, source="camera")
        assert reply.get("Renegotiated") is True, reply
        sub4 = pair.subscribe(2)
        assert sub4.get("Renegotiated") is True and sorted(t["Mid"] for t in sub4["Tracks"]) == sorted([mid_a, mid_b]), sub4
        wait(lambda: (mid_stats(pair.subscriber, name, mid_b) or [0, 0, 0])[1:3] == [480, 270], 15,
             "the third track (480x270) on the reused m-line")
        decodes(pair, mid_b, "video/VP8", frames=10)
        samples = call(pair.subscriber, "allSamples", name)
        gap = longest_gap(samples, mid_a, t_add, samples[-1][0])
        assert gap < 1000, f"the first track stalled for {gap:.0f} ms while tracks came and went"
        assert room_stats(sfu_server, pair.room)["transports"] == transports
        print(f"renegotiation: second track {stats_b[0]} frames decoded; first track's longest gap {gap:.0f} ms; "
              f"transports {transports}")
    finally:
        pair.close()
