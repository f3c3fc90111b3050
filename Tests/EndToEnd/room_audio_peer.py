#!/usr/bin/env python3
"""An aiortc participant of a room, as the web client would be: joins over the channeling WebSocket, publishes a tone
with SfuPublish, subscribes to every audio track of the room (again whenever SfuTracks changes) and records what it
hears. Used by the SIP dial-in tests to check audio between phones and the room by content.

Prints {"op": "ready"} once published, then after --seconds one result line:
{"op": "result", "ok": true, "power": {"<Hz>": <relative power over the window>, ...}, "participants": [...]}.
"""
import argparse
import asyncio
import json
import sys
import time

import numpy as np
import websockets

from sfu_aiortc_peers import RATE, ToneTrack, log, wait_connected  # also patches aioice for loopback
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription


def relative_power(samples, frequency, rate=RATE):
    """Goertzel power of `frequency` over the signal's energy: about 1 for a pure tone of it, about 0 without it."""
    if len(samples) == 0:
        return 0.0
    k = 2 * np.cos(2 * np.pi * frequency / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = float(x) + k * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - k * s1 * s2
    energy = float(np.sum(samples.astype(np.float64) ** 2))
    return 0.0 if energy == 0 else 2 * power / (len(samples) * energy)


class Peer:
    def __init__(self, url, room, frequency):
        self.url, self.room, self.frequency = url, room, frequency
        self.config = RTCConfiguration(iceServers=[])
        self.pcs, self.tasks = [], []
        self.audio = []  # (time, samples at 48 kHz)
        self.by_track = {}  # track number (in order of arrival) -> [samples at 48 kHz]
        self.names = {}
        self.tracks = (0, 0)
        self.video_frames = 0
        self.video_size = None
        self.pending = {}

    async def request(self, ws, doc, reply_type):
        iid = str(len(self.pending) + 1)
        doc["Iid"] = iid
        future = asyncio.get_running_loop().create_future()
        self.pending[iid] = future
        await ws.send(json.dumps(doc))
        reply = await asyncio.wait_for(future, 15)
        if reply.get("Type") == "Error" or (reply.get("Data") or {}).get("Type") == "Error":
            raise RuntimeError(f"{doc['Type']} failed: {reply}")
        return reply

    async def read(self, ws):
        async for text in ws:
            message = json.loads(text)
            data = message.get("Data", message)
            iid = message.get("Iid")
            if iid in self.pending and not self.pending[iid].done():
                self.pending.pop(iid).set_result(data)
                continue
            kind = data.get("Type")
            if kind in ("Joined", "Status"):
                status = (data.get("Status") or {})
                if isinstance(status, dict) and status.get("displayName"):
                    self.names[data.get("Id")] = status["displayName"]
            elif kind == "SfuTracks":
                others = [t for t in data.get("Tracks", []) if t.get("Session") != self.id]
                tracks = (sum(t.get("Kind") == "audio" for t in others), sum(t.get("Kind") == "video" for t in others))
                if tracks != self.tracks:
                    self.tracks = tracks
                    asyncio.ensure_future(self.subscribe(ws, *tracks))

    async def subscribe(self, ws, count, video=0):
        if count + video == 0:
            return
        pc = RTCPeerConnection(self.config)
        self.pcs.append(pc)

        @pc.on("track")
        def on_track(track):
            self.tasks.append(asyncio.ensure_future(self.record(track)))

        for _ in range(count):
            pc.addTransceiver("audio", direction="recvonly")
        for _ in range(video):
            pc.addTransceiver("video", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        reply = await self.request(ws, {"Type": "SfuSubscribe", "SfuSubscribe": {"Offer": {"type": "offer", "sdp": pc.localDescription.sdp}}}, "SfuAnswer")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=reply["Answer"]["sdp"], type="answer"))
        await wait_connected(pc, "subscriber")
        log(f"subscribed to {count} audio and {video} video tracks")

    async def record(self, track):
        while track.kind == "video":
            frame = await track.recv()
            self.video_frames += 1
            self.video_size = [frame.width, frame.height]
        chunks = self.by_track.setdefault(len(self.by_track), [])
        while True:
            frame = await track.recv()
            channels = len(frame.layout.channels)
            samples = frame.to_ndarray().reshape(-1, channels)[:, 0].astype(np.float64)
            self.audio.append((time.time(), samples))
            chunks.append(samples)

    def window(self, seconds):
        """The last `seconds` of received audio, in arrival order (frames stop when a phone hangs up, so this is
        what was heard last, not wall-clock time)."""
        chunks = [s for _, s in self.audio]
        return np.concatenate(chunks)[-int(seconds * RATE):] if chunks else np.zeros(0)

    async def run(self, seconds, frequencies):
        async with websockets.connect(self.url.replace("http", "ws") + "/ws", max_size=2**22) as ws:
            first = json.loads(await ws.recv())
            self.id = (first.get("Data") or first).get("Id")
            reader = asyncio.ensure_future(self.read(ws))
            await self.request(ws, {"Type": "Hello", "Hello": {"Version": "1.0.0", "Ua": "aiortc test peer", "Name": self.room}}, "Welcome")
            await ws.send(json.dumps({"Type": "Status", "Status": {"Status": {"displayName": "aiortc"}}}))
            publisher = RTCPeerConnection(self.config)
            self.pcs.append(publisher)
            publisher.addTrack(ToneTrack(self.frequency))
            await publisher.setLocalDescription(await publisher.createOffer())
            reply = await self.request(ws, {"Type": "SfuPublish", "SfuPublish": {"Offer": {"type": "offer", "sdp": publisher.localDescription.sdp},
                                                                               "Tracks": [{"Mid": "0", "Kind": "audio", "Source": "microphone"}]}}, "SfuAnswer")
            await publisher.setRemoteDescription(RTCSessionDescription(sdp=reply["Answer"]["sdp"], type="answer"))
            await wait_connected(publisher, "publisher")
            print(json.dumps({"op": "ready"}), flush=True)
            await asyncio.sleep(seconds)
            last = self.window(4)
            result = {"op": "result", "ok": True, "seconds": round(len(last) / RATE, 2),
                      "power": {str(f): round(relative_power(last, f), 3) for f in frequencies},
                      # Each received track on its own (its last 4 s): who said what, when several phones talk.
                      "tracks": [{str(f): round(relative_power(np.concatenate(c)[-4 * RATE:], f), 3) for f in frequencies}
                                 for c in self.by_track.values() if c],
                      "participants": sorted(self.names.values()),
                      "videoFrames": self.video_frames, "videoSize": self.video_size}
            reader.cancel()
            print(json.dumps(result), flush=True)
        for task in self.tasks:
            task.cancel()
        for pc in self.pcs:
            await pc.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--room", required=True)
    parser.add_argument("--tone", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--measure", type=float, nargs="*", default=[440.0, 1000.0])
    args = parser.parse_args()
    try:
        await Peer(args.url, args.room, args.tone).run(args.seconds, args.measure)
    except Exception as error:  # report instead of hanging the test
        print(json.dumps({"op": "result", "ok": False, "error": repr(error)}), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
