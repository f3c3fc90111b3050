"""An aiortc participant that joins a Rooms room the way the web client does (docs/sfu-signaling.md).

It connects to the channeling WebSocket, says Hello to the room, sends its Status (display name), publishes a tone
and a solid-colour video with `SfuPublish`, and subscribes to everyone else's tracks with `SfuSubscribe` (a fresh
subscriber connection whenever `SfuTracks` changes the list, like static/js/media/subscriber.js). It decodes what it
receives and keeps per-session counters, colours and audio, so that tests can check content, not just packets.

The peer runs its own asyncio loop in a thread: `RoomPeer(...).start()` returns once it is in the room and publishing.
Used by Tests/WebClient/test_browser_aiortc.py and Benchmarks/WebClient/client_bench.py.
"""
from __future__ import annotations

import asyncio
import fractions
import itertools
import json
import threading
import time

import numpy as np
import aioice.ice

# aioice drops loopback addresses; these tests run on 127.0.0.1 inside their own network namespace.
aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack  # noqa: E402
from aiortc.mediastreams import MediaStreamTrack  # noqa: E402
from av import AudioFrame, VideoFrame  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

RATE = 48000


class ColourTrack(VideoStreamTrack):
    """Solid colour with a moving bright bar (so that the encoder and the decoders do real work), `fps` frames/s."""

    def __init__(self, colour, size=(320, 240), fps=15, moving_bar=False):
        super().__init__()
        self.width, self.height = size
        self.frame_time = 1 / fps
        self.moving_bar = moving_bar
        self.base = np.zeros((self.height, self.width, 3), dtype=np.uint8)
        self.base[:, :] = colour
        self.count = 0
        self.started = None

    async def recv(self):
        if self.started is None:
            self.started = time.monotonic()
        else:
            wait = self.started + self.count * self.frame_time - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        image = self.base
        if self.moving_bar:
            image = self.base.copy()
            x = (self.count * 8) % self.width
            image[:, x:x + 16] = 255
        frame = VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = int(self.count * self.frame_time * 90000)
        frame.time_base = fractions.Fraction(1, 90000)
        self.count += 1
        return frame


class ToneTrack(MediaStreamTrack):
    """A sine tone, or silence while `on` is False."""
    kind = "audio"

    def __init__(self, hz, on=True):
        super().__init__()
        self.hz = hz
        self.on = on
        self.samples = 0
        self.started = None

    async def recv(self):
        count = RATE // 50  # 20 ms
        if self.started is None:
            self.started = time.monotonic()
        else:
            self.samples += count
            wait = self.started + self.samples / RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        t = (np.arange(count) + self.samples) / RATE
        data = (np.sin(2 * np.pi * self.hz * t) * (10000 if self.on else 0)).astype(np.int16).reshape(1, -1)
        frame = AudioFrame.from_ndarray(data, format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts, frame.time_base = self.samples, fractions.Fraction(1, RATE)
        return frame


def tone_share(samples: np.ndarray, hz: float, rate: int = RATE, width: float = 40.0) -> float:
    """Share (0..1) of the sound's power between 100 Hz and 8 kHz that lies within `width` Hz of `hz`.

    Only the 20 ms blocks louder than a tenth of the loudest count, so that short beeps between silences are
    measured as well as a continuous tone."""
    block = rate // 50
    blocks = samples[: len(samples) // block * block].reshape(-1, block)
    if not len(blocks):
        return 0.0
    rms = np.sqrt((blocks ** 2).mean(axis=1))
    loud = blocks[rms > max(rms.max() / 10, 1e-4)].reshape(-1)
    if len(loud) < block * 2:
        return 0.0
    spectrum = np.abs(np.fft.rfft(loud * np.hanning(len(loud)))) ** 2
    freqs = np.fft.rfftfreq(len(loud), 1 / rate)
    band = spectrum[(freqs > 100) & (freqs < 8000)].sum()
    near = spectrum[np.abs(freqs - hz) <= width].sum()
    return float(near / band) if band > 0 else 0.0


class Received:
    """What arrived from one remote session: decoded video frames and audio samples."""

    def __init__(self):
        self.video_frames = 0
        self.video_size = None
        self.video_mean = None
        self.audio = []  # mono float arrays, the newest few seconds

    def add_video(self, frame):
        self.video_frames += 1
        self.video_size = (frame.width, frame.height)
        if self.video_frames % 5 == 1:
            rgb = frame.to_ndarray(format="rgb24")
            self.video_mean = [float(v) for v in rgb.reshape(-1, 3).mean(axis=0)]

    def add_audio(self, frame):
        channels = len(frame.layout.channels)
        samples = frame.to_ndarray().reshape(-1, channels)[:, 0].astype(np.float64) / 32768
        self.audio.append(samples)
        del self.audio[:-250]  # 5 s of 20 ms frames

    def last_audio(self, seconds=2.0):
        if not self.audio:
            return np.zeros(0)
        return np.concatenate(self.audio)[-int(RATE * seconds):]


class RoomPeer:
    def __init__(self, base_url: str, room: str, name: str, colour=(255, 0, 0), tone_hz=440.0, size=(320, 240), fps=15,
                 moving_bar=False, tone_on=True):
        self.ws_url = base_url.replace("http://", "ws://", 1).rstrip("/") + "/ws"
        self.room, self.name = room, name
        self.colour, self.tone_hz, self.size, self.fps, self.moving_bar = colour, tone_hz, size, fps, moving_bar
        self.id = ""
        self.received: dict[str, Received] = {}
        self.errors: list[str] = []
        self._iids = itertools.count(1)
        self._pending: dict[str, asyncio.Future] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"room-peer-{name}", daemon=True)
        self._lock = threading.Lock()
        self._ws = None
        self._publisher = None
        self._subscriber = None
        self._sub_mids: dict[str, dict] = {}
        self._tasks: list[asyncio.Task] = []
        self._tracks_version = 0
        self.tone = ToneTrack(tone_hz, tone_on)

    # -- public, called from the test thread

    def start(self, timeout=20.0) -> "RoomPeer":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout)
        return self

    def stop(self):
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def snapshot(self) -> dict:
        """Per remote session: video frames decoded, size, mean RGB; plus the peer's errors."""
        with self._lock:
            return {sid: {"videoFrames": r.video_frames, "videoSize": r.video_size, "videoMean": r.video_mean,
                          "audioFrames": len(r.audio)} for sid, r in self.received.items()}

    def set_tone(self, on: bool):
        """Start or stop the tone (silence in between; the audio track keeps sending)."""
        self.tone.on = on

    def tone_share(self, session: str, hz: float) -> float:
        with self._lock:
            r = self.received.get(session)
            samples = r.last_audio() if r else np.zeros(0)
        return tone_share(samples, hz)

    # -- signaling

    async def _start(self):
        self._ws = await connect(self.ws_url, open_timeout=10, max_size=None)
        first = json.loads(await self._ws.recv())
        assert first["Data"]["Type"] == "Self", first
        self.id = first["Data"]["Id"]
        self._tasks.append(asyncio.ensure_future(self._read()))
        self._tasks.append(asyncio.ensure_future(self._keepalive()))
        reply = await self._request("Hello", {"Version": "1.0", "Ua": "aiortc room peer", "Name": self.room, "Type": ""})
        if reply["Type"] != "Welcome":
            raise RuntimeError(f"Hello refused: {reply}")
        await self._send("Status", {"Type": "Status", "Status": {"displayName": self.name, "buddyPicture": None, "message": None}})
        await self._publish()
        reply = await self._request("SfuSubscribe", {})
        await self._subscribe(reply.get("Tracks") or [])

    async def _stop(self):
        for task in self._tasks:
            task.cancel()
        for pc in (self._publisher, self._subscriber):
            if pc:
                await pc.close()
        if self._ws:
            await self._ws.close()

    async def _send(self, kind, payload, iid=None):
        envelope = {"Type": kind, kind: payload}
        if iid:
            envelope["Iid"] = iid
        await self._ws.send(json.dumps(envelope))

    async def _request(self, kind, payload, timeout=10.0):
        iid = f"p{next(self._iids)}"
        future = asyncio.get_running_loop().create_future()
        self._pending[iid] = future
        await self._send(kind, payload, iid)
        return await asyncio.wait_for(future, timeout)

    async def _read(self):
        async for frame in self._ws:
            envelope = json.loads(frame)
            data = envelope.get("Data") or {}
            iid = envelope.get("Iid")
            if iid in self._pending:
                self._pending.pop(iid).set_result(data)
            elif data.get("Type") == "SfuTracks":
                self._tracks_version += 1
                version = self._tracks_version
                # Debounced like a browser's event loop would: the newest list wins.
                asyncio.get_running_loop().call_later(0.05, lambda v=version, t=data.get("Tracks") or []: self._resubscribe(v, t))

    async def _keepalive(self):
        while True:
            await asyncio.sleep(5)
            await self._send("Alive", {"Type": "Alive", "Alive": int(time.time() * 1000)})

    # -- media

    async def _publish(self):
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._publisher = pc
        audio = pc.addTransceiver(self.tone, direction="sendonly")
        video = pc.addTransceiver(ColourTrack(self.colour, self.size, self.fps, self.moving_bar), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        reply = await self._request("SfuPublish", {
            "Offer": {"type": "offer", "sdp": pc.localDescription.sdp},
            "Tracks": [{"Mid": audio.mid, "Kind": "audio", "Source": "microphone"},
                       {"Mid": video.mid, "Kind": "video", "Source": "camera"}]})
        if reply["Type"] != "SfuAnswer":
            raise RuntimeError(f"SfuPublish refused: {reply}")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["Answer"]["sdp"], type="answer"))

    def _resubscribe(self, version, tracks):
        if version == self._tracks_version:
            self._tasks.append(asyncio.ensure_future(self._subscribe(tracks)))

    async def _subscribe(self, tracks):
        wanted = sorted(t["Track"] for t in tracks if t.get("Session") != self.id)
        if wanted == sorted(info["Track"] for info in self._sub_mids.values()):
            return
        old = self._subscriber
        if not wanted:
            self._subscriber, self._sub_mids = None, {}
        else:
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            mids: dict[str, dict] = {}

            @pc.on("track")
            def on_track(track):
                for transceiver in pc.getTransceivers():
                    if transceiver.receiver.track is track:
                        info = mids.get(transceiver.mid)
                        if info:
                            self._tasks.append(asyncio.ensure_future(self._consume(track, info["Session"])))

            for t in tracks:
                if t.get("Session") != self.id:
                    pc.addTransceiver("audio" if t["Kind"] == "audio" else "video", direction="recvonly")
            await pc.setLocalDescription(await pc.createOffer())
            reply = await self._request("SfuSubscribe", {"Offer": {"type": "offer", "sdp": pc.localDescription.sdp}})
            if reply["Type"] != "SfuAnswer":
                self.errors.append(f"SfuSubscribe refused: {reply}")
                await pc.close()
                return
            mids.update({str(t["Mid"]): t for t in reply.get("Tracks") or []})
            await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["Answer"]["sdp"], type="answer"))
            self._subscriber, self._sub_mids = pc, mids
        if old:
            await old.close()

    async def _consume(self, track, session):
        with self._lock:
            received = self.received.setdefault(session, Received())
        add = received.add_video if track.kind == "video" else received.add_audio
        try:
            while True:
                frame = await track.recv()
                with self._lock:
                    add(frame)
        except Exception:  # the track ended (new subscriber connection or the peer left)
            return


def main():
    """Run one peer as its own process (benchmarks start several: one Python process would share one core's GIL).
    Prints `ready <session id>` once it publishes, and runs until stdin closes."""
    import argparse
    import sys
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--room", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--colour", default="255,0,0")
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--moving-bar", action="store_true")
    args = parser.parse_args()
    peer = RoomPeer(args.url, args.room, args.name, colour=tuple(int(v) for v in args.colour.split(",")),
                    size=tuple(int(v) for v in args.size.split("x")), fps=args.fps, moving_bar=args.moving_bar).start()
    print("ready", peer.id, flush=True)
    sys.stdin.read()
    peer.stop()


if __name__ == "__main__":
    main()
