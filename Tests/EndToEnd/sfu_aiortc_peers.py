#!/usr/bin/env python3
"""aiortc peers for the SFU end-to-end test (driven by Tests/SFUTests/Media/AiortcEndToEndTests.swift).

One publisher sends pure red 320x240 video and a 440 Hz tone; two subscribers receive both through the SFU,
decode them and check the content. While they receive, 10,000 random datagrams are sent to the media port.

Signaling is JSON lines: requests on stdout ({"op": "publish"|"subscribe", "offer": sdp}), answers on stdin
({"answer": sdp} or {"error": text}); the last stdout line is {"op": "result", ...}. Logs go to stderr.
"""
import argparse
import asyncio
import fractions
import json
import os
import random
import socket
import sys
import time

import numpy as np
import aioice.ice

# aioice drops loopback addresses; the SFU in the test listens on 127.0.0.1 only.
aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack  # noqa: E402
from aiortc.mediastreams import MediaStreamTrack  # noqa: E402
from av import AudioFrame, VideoFrame  # noqa: E402

WIDTH, HEIGHT, TONE_HZ, RATE = 320, 240, 440.0, 48000


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class RedTrack(VideoStreamTrack):
    def __init__(self):
        super().__init__()
        image = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
        image[:, :, 0] = 255
        self._image = image

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame.from_ndarray(self._image, format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame


class ToneTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, frequency=TONE_HZ):
        super().__init__()
        self._frequency = frequency
        self._samples = 0
        self._start = None

    async def recv(self):
        count = RATE // 50  # 20 ms
        if self._start is None:
            self._start = time.time()
        else:
            self._samples += count
            wait = self._start + self._samples / RATE - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
        t = (np.arange(count) + self._samples) / RATE
        data = (np.sin(2 * np.pi * self._frequency * t) * 12000).astype(np.int16).reshape(1, -1)
        frame = AudioFrame.from_ndarray(data, format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts, frame.time_base = self._samples, fractions.Fraction(1, RATE)
        return frame


class Signaling:
    def __init__(self):
        self.reader = None

    async def open(self):
        loop = asyncio.get_running_loop()
        self.reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(self.reader), sys.stdin)

    async def request(self, op, offer):
        print(json.dumps({"op": op, "offer": offer}), flush=True)
        reply = json.loads(await self.reader.readline())
        if "error" in reply:
            raise RuntimeError(f"{op} failed: {reply['error']}")
        return reply["answer"]


class Receiver:
    """Counts and checks what one subscriber decodes."""

    def __init__(self, name):
        self.name = name
        self.video_times = []
        self.video_means = []
        self.size = None
        self.audio = []
        self.audio_times = []

    async def consume_video(self, track):
        while True:
            frame = await track.recv()
            rgb = frame.to_ndarray(format="rgb24")
            self.size = (frame.width, frame.height)
            self.video_means.append([float(x) for x in rgb.reshape(-1, 3).mean(axis=0)])
            self.video_times.append(time.time())

    async def consume_audio(self, track):
        while True:
            frame = await track.recv()
            channels = len(frame.layout.channels)
            samples = frame.to_ndarray().reshape(-1, channels)[:, 0].astype(np.float64)
            self.audio.append(samples)
            self.audio_times.append(time.time())

    def dominant_frequency(self):
        if not self.audio:
            return None
        samples = np.concatenate(self.audio)[-RATE:]  # the last second
        spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
        spectrum[0] = 0
        return float(np.fft.rfftfreq(len(samples), 1 / RATE)[int(np.argmax(spectrum))])

    def summary(self, flood_end):
        last = self.video_means[-10:]
        mean = [float(np.mean([m[i] for m in last])) for i in range(3)] if last else None
        return {
            "name": self.name,
            "videoFrames": len(self.video_times),
            "videoFramesAfterFlood": sum(1 for t in self.video_times if t > flood_end),
            "audioFrames": len(self.audio),
            "audioFramesAfterFlood": sum(1 for t in self.audio_times if t > flood_end),
            "meanRGB": mean,
            "size": list(self.size) if self.size else None,
            "audioDominantHz": self.dominant_frequency(),
        }


async def wait_connected(pc, what, timeout=20):
    deadline = time.time() + timeout
    while pc.connectionState != "connected":
        if pc.connectionState == "failed" or time.time() > deadline:
            raise RuntimeError(f"{what}: connection {pc.connectionState}")
        await asyncio.sleep(0.05)


def flood(port, count):
    """Random datagrams from an address the SFU never saw: every first-byte class, including STUN-looking ones."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rng = random.Random(7983)
    sent = 0
    for i in range(count):
        data = bytearray(os.urandom(rng.randint(1, 1200)))
        data[0] = [rng.randint(0, 3), rng.randint(20, 63), rng.randint(128, 191), rng.randint(0, 255)][i % 4]
        if i % 8 == 0 and len(data) >= 20:  # a STUN header with the magic cookie, garbage after it
            data[0], data[4:8] = 0, b"\x21\x12\xa4\x42"
        try:
            sock.sendto(bytes(data), ("127.0.0.1", port))
            sent += 1
        except OSError:
            time.sleep(0.001)
        if i % 500 == 0:
            time.sleep(0.005)  # keep it a flood, not a kernel-buffer overflow test
    sock.close()
    return sent


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--subscribers", type=int, default=2)
    parser.add_argument("--flood", type=int, default=10000)
    args = parser.parse_args()
    signaling = Signaling()
    await signaling.open()
    config = RTCConfiguration(iceServers=[])
    pcs = []
    tasks = []
    try:
        publisher = RTCPeerConnection(config)
        pcs.append(publisher)
        publisher.addTrack(ToneTrack())
        publisher.addTrack(RedTrack())
        await publisher.setLocalDescription(await publisher.createOffer())
        answer = await signaling.request("publish", publisher.localDescription.sdp)
        await publisher.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await wait_connected(publisher, "publisher")
        log("publisher connected")

        receivers = []
        for n in range(args.subscribers):
            pc = RTCPeerConnection(config)
            pcs.append(pc)
            receiver = Receiver(f"subscriber-{n}")
            receivers.append(receiver)

            @pc.on("track")
            def on_track(track, receiver=receiver):
                consume = receiver.consume_video if track.kind == "video" else receiver.consume_audio
                tasks.append(asyncio.ensure_future(consume(track)))

            pc.addTransceiver("audio", direction="recvonly")
            pc.addTransceiver("video", direction="recvonly")
            await pc.setLocalDescription(await pc.createOffer())
            answer = await signaling.request("subscribe", pc.localDescription.sdp)
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
            await wait_connected(pc, receiver.name)
            log(f"{receiver.name} connected")

        deadline = time.time() + 30
        while any(len(r.video_times) < 10 or len(r.audio) < 60 for r in receivers) and time.time() < deadline:
            await asyncio.sleep(0.1)
        log("media flowing:", [(len(r.video_times), len(r.audio)) for r in receivers])

        started = time.time()
        sent = await asyncio.get_running_loop().run_in_executor(None, flood, args.port, args.flood)
        flood_end = time.time()
        log(f"flood: {sent} datagrams in {flood_end - started:.2f} s")
        await asyncio.sleep(3)

        states = [pc.connectionState for pc in pcs]
        print(json.dumps({"op": "result", "ok": True, "floodSent": sent, "connectionStates": states,
                          "subscribers": [r.summary(flood_end) for r in receivers]}), flush=True)
    except Exception as error:  # report instead of hanging the test
        print(json.dumps({"op": "result", "ok": False, "error": repr(error)}), flush=True)
    finally:
        for task in tasks:
            task.cancel()
        for pc in pcs:
            await pc.close()


if __name__ == "__main__":
    asyncio.run(main())
