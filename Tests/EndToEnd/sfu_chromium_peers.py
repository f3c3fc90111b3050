#!/usr/bin/env python3
"""Headless Chromium peers for the SFU end-to-end test (driven by Tests/SFUTests/Media/ChromiumEndToEndTests.swift).

Browser A publishes its fake camera (video) and fake microphone (audio) on one RTCPeerConnection. Browser B opens
two subscriber RTCPeerConnections (recvonly audio + video each). Optionally an aiortc peer subscribes too, so that
Chromium -> SFU -> aiortc is checked as well. Results come from getStats() in the pages.

Signaling is JSON lines: requests on stdout ({"op": "publish"|"subscribe", "offer": sdp, "name": ...}), answers on
stdin ({"answer": sdp} or {"error": text}); the last stdout line is {"op": "result", ...}. Logs go to stderr.
The pages are file:// pages written to a temporary directory; SDP travels Python <-> page with execute_script.
"""
import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
import traceback


STARTED = time.time()


def log(*args):
    print(f"[{time.time() - STARTED:6.2f}]", *args, file=sys.stderr, flush=True)


PAGE = r"""<!doctype html>
<html><head><meta charset="utf-8"><title>rooms sfu chromium peer</title></head>
<body>
<div id="videos"></div>
<script>
window.pcs = {};
window.logs = [];
function note(s) { window.logs.push((performance.now() / 1000).toFixed(2) + " " + s); }

function watch(name, pc) {
  pc.onconnectionstatechange = () => note(name + " connection " + pc.connectionState);
  pc.oniceconnectionstatechange = () => note(name + " ice " + pc.iceConnectionState);
}

// Publisher: fake camera + fake microphone, sendonly.
window.startPublisher = async function (name, width, height) {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: true, video: { width: { exact: width }, height: { exact: height }, frameRate: 30 } });
  const pc = new RTCPeerConnection({ iceServers: [] });
  watch(name, pc);
  window.pcs[name] = pc;
  for (const track of stream.getTracks()) {
    const t = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    if (track.kind === "video") {
      const p = t.sender.getParameters();
      p.degradationPreference = "maintain-resolution";
      try { await t.sender.setParameters(p); } catch (e) { note("setParameters: " + e); }
    }
  }
  const settings = stream.getVideoTracks()[0].getSettings();
  note(name + " camera " + settings.width + "x" + settings.height);
  await pc.setLocalDescription(await pc.createOffer());
  return pc.localDescription.sdp;
};

// Subscriber: recvonly audio + video; the video is rendered into a <video> element.
window.startSubscriber = async function (name) {
  const pc = new RTCPeerConnection({ iceServers: [] });
  watch(name, pc);
  window.pcs[name] = pc;
  const video = document.createElement("video");
  video.id = "video-" + name; video.autoplay = true; video.muted = true; video.playsInline = true;
  document.getElementById("videos").appendChild(video);
  const audio = document.createElement("audio");
  audio.autoplay = true; audio.muted = true;
  document.getElementById("videos").appendChild(audio);
  pc.ontrack = (e) => {
    note(name + " track " + e.track.kind + " mid " + e.transceiver.mid);
    const s = new MediaStream([e.track]);
    if (e.track.kind === "video") { video.srcObject = s; video.play().catch(() => {}); }
    else { audio.srcObject = s; audio.play().catch(() => {}); }
  };
  pc.addTransceiver("audio", { direction: "recvonly" });
  pc.addTransceiver("video", { direction: "recvonly" });
  await pc.setLocalDescription(await pc.createOffer());
  return pc.localDescription.sdp;
};

window.setAnswer = async function (name, sdp) {
  await window.pcs[name].setRemoteDescription({ type: "answer", sdp: sdp });
};

window.state = function (name) { return window.pcs[name].connectionState; };

window.summary = async function (name) {
  const pc = window.pcs[name];
  const out = { state: pc.connectionState, inbound: {}, outbound: {}, transport: null };
  const report = await pc.getStats();
  report.forEach((s) => {
    if (s.type === "inbound-rtp") {
      out.inbound[s.kind] = { bytesReceived: s.bytesReceived, packetsReceived: s.packetsReceived,
        packetsLost: s.packetsLost, framesDecoded: s.framesDecoded, frameWidth: s.frameWidth,
        frameHeight: s.frameHeight, nackCount: s.nackCount, pliCount: s.pliCount, ssrc: s.ssrc,
        mid: s.mid, totalAudioEnergy: s.totalAudioEnergy, audioLevel: s.audioLevel,
        retransmittedPacketsReceived: s.retransmittedPacketsReceived, framesDropped: s.framesDropped,
        keyFramesDecoded: s.keyFramesDecoded,
        codecId: s.codecId };
    } else if (s.type === "outbound-rtp") {
      out.outbound[s.kind] = { bytesSent: s.bytesSent, packetsSent: s.packetsSent, framesEncoded: s.framesEncoded,
        frameWidth: s.frameWidth, frameHeight: s.frameHeight, nackCount: s.nackCount, pliCount: s.pliCount,
        qualityLimitationReason: s.qualityLimitationReason, ssrc: s.ssrc, mid: s.mid,
        retransmittedPacketsSent: s.retransmittedPacketsSent };
    } else if (s.type === "transport") {
      out.transport = { dtlsState: s.dtlsState, srtpCipher: s.srtpCipher, tlsVersion: s.tlsVersion,
        dtlsRole: s.dtlsRole, iceState: s.iceState };
    }
  });
  report.forEach((s) => {
    for (const kind of ["audio", "video"]) {
      const i = out.inbound[kind];
      if (i && i.codecId === s.id) i.codec = s.mimeType;
    }
  });
  const video = document.getElementById("video-" + name);
  if (video) out.videoElement = [video.videoWidth, video.videoHeight];
  return out;
};
</script></body></html>
"""


class Signaling:
    """JSON lines to and from the XCTest (blocking; called from worker threads)."""

    def request(self, op, offer, name):
        print(json.dumps({"op": op, "offer": offer, "name": name}), flush=True)
        line = sys.stdin.readline()
        if not line:
            raise RuntimeError("signaling closed")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"{op} ({name}) failed: {reply['error']}")
        return reply["answer"]


def make_browser(user_dir, width, height):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                 "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required",
                 "--no-first-run", "--disable-background-timer-throttling",
                 "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
                 f"--user-data-dir={user_dir}", f"--window-size={width},{height}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                              options=options)
    driver.set_script_timeout(30)
    return driver


def call(driver, function, *args):
    """Awaits window.<function>(...args) in the page and returns its value."""
    script = ("const done = arguments[arguments.length - 1];"
              f"window.{function}(...Array.from(arguments).slice(0, -1))"
              ".then((v) => done({ok: true, value: v}), (e) => done({ok: false, error: String(e)}));")
    result = driver.execute_async_script(script, *args)
    if not result or not result.get("ok"):
        raise RuntimeError(f"{function}: {result and result.get('error')}")
    return result.get("value")


def wait_connected(driver, name, timeout=20):
    deadline = time.time() + timeout
    while True:
        state = driver.execute_script("return window.state(arguments[0]);", name)
        if state == "connected":
            return
        if state == "failed" or time.time() > deadline:
            logs = driver.execute_script("return window.logs;")
            raise RuntimeError(f"{name}: connection {state}; page log: {logs}")
        time.sleep(0.1)


async def aiortc_subscriber(signaling, name, seconds):
    """Chromium -> SFU -> aiortc: decodes what arrives and reports frame counts and size."""
    import aioice.ice
    aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    counts = {"video": 0, "audio": 0, "size": None, "peak": 0}
    tasks = []

    async def consume(track):
        while True:
            frame = await track.recv()
            counts[track.kind] += 1
            if track.kind == "video":
                counts["size"] = [frame.width, frame.height]
            else:
                samples = frame.to_ndarray()
                counts["peak"] = max(counts["peak"], int(abs(samples.astype("int32")).max()) if samples.size else 0)

    @pc.on("track")
    def on_track(track):
        tasks.append(asyncio.ensure_future(consume(track)))

    pc.addTransceiver("audio", direction="recvonly")
    pc.addTransceiver("video", direction="recvonly")
    try:
        await pc.setLocalDescription(await pc.createOffer())
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(None, signaling.request, "subscribe", pc.localDescription.sdp, name)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        deadline = time.time() + 20
        while pc.connectionState != "connected":
            if pc.connectionState == "failed" or time.time() > deadline:
                raise RuntimeError(f"{name}: connection {pc.connectionState}")
            await asyncio.sleep(0.05)
        await asyncio.sleep(seconds)
        return {"name": name, "state": pc.connectionState, "videoFrames": counts["video"],
                "audioFrames": counts["audio"], "size": counts["size"], "audioPeak": counts["peak"]}
    finally:
        for task in tasks:
            task.cancel()
        await pc.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--measure", type=float, default=6.0, help="seconds between the two getStats samples")
    parser.add_argument("--aiortc", action="store_true", help="also subscribe with an aiortc peer")
    parser.add_argument("--screenshot", default=None)
    args = parser.parse_args()

    signaling = Signaling()
    workdir = tempfile.mkdtemp(prefix="sfu-chromium-")
    page = os.path.join(workdir, "peer.html")
    with open(page, "w") as f:
        f.write(PAGE)
    url = "file://" + page
    drivers = []
    result = {"op": "result", "ok": False}
    try:
        publisher = make_browser(os.path.join(workdir, "profile-a"), 800, 600)
        drivers.append(publisher)
        publisher.get(url)
        subscriber = make_browser(os.path.join(workdir, "profile-b"), 1400, 1000)
        drivers.append(subscriber)
        subscriber.get(url)
        log("browsers up:", publisher.capabilities.get("browserVersion"))

        offer = call(publisher, "startPublisher", "pub", args.width, args.height)
        answer = signaling.request("publish", offer, "pub")
        call(publisher, "setAnswer", "pub", answer)
        wait_connected(publisher, "pub")
        log("publisher connected")
        # Let the publisher's encoder run before the subscribers join (they join mid-stream, as in real rooms).
        time.sleep(1.0)

        names = ["sub-0", "sub-1"]
        for name in names:
            offer = call(subscriber, "startSubscriber", name)
            answer = signaling.request("subscribe", offer, name)
            call(subscriber, "setAnswer", name, answer)
        for name in names:
            wait_connected(subscriber, name)
            log(name, "connected")

        log("measuring")
        # Wait for the first decoded frames, then measure growth over args.measure seconds.
        deadline = time.time() + 20
        while time.time() < deadline:
            firsts = [call(subscriber, "summary", n) for n in names]
            if all((s["inbound"].get("video") or {}).get("framesDecoded", 0) > 0 for s in firsts):
                break
            time.sleep(0.25)
        first = {n: call(subscriber, "summary", n) for n in names}
        t0 = time.time()
        aiortc_result = None
        if args.aiortc:
            aiortc_result = asyncio.run(aiortc_subscriber(signaling, "aiortc-sub", args.measure))
        remaining = args.measure - (time.time() - t0)
        if remaining > 0:
            time.sleep(remaining)
        second = {n: call(subscriber, "summary", n) for n in names}
        elapsed = time.time() - t0
        log("measured")
        pub = call(publisher, "summary", "pub")
        if args.screenshot:
            subscriber.save_screenshot(args.screenshot)
        subscribers = []
        for n in names:
            subscribers.append({"name": n, "first": first[n], "second": second[n]})
        result = {"op": "result", "ok": True, "elapsed": elapsed, "publisher": pub, "subscribers": subscribers,
                  "aiortc": aiortc_result,
                  "publisherLog": publisher.execute_script("return window.logs;"),
                  "subscriberLog": subscriber.execute_script("return window.logs;")}
    except Exception as error:  # report instead of hanging the test
        log(traceback.format_exc())
        result = {"op": "result", "ok": False, "error": repr(error)}
        for d in drivers:
            try:
                result.setdefault("pageLogs", []).append(d.execute_script("return window.logs;"))
            except Exception:
                pass
    finally:
        for d in drivers:
            try:
                for entry in d.get_log("browser")[-20:]:
                    log("console:", entry.get("message"))
            except Exception:
                pass
            try:
                d.quit()
            except Exception:
                pass
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
