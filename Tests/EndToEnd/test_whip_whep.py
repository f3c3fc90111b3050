"""WHIP publish and WHEP watch against the real binary, with aiortc peers (docs/sfu-signaling.md).

An aiortc publisher POSTs its offer to <B>api/v1/whip/<room>; an aiortc viewer POSTs to <B>api/v1/whep/<room>;
the viewer must decode the publisher's pure-blue video. Both resources are DELETEd at the end.
"""
import asyncio

import numpy as np
import pytest
import requests

import aioice.ice

# aioice drops loopback addresses; the server announces 127.0.0.1 here ([sfu] bind).
aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack  # noqa: E402
from av import VideoFrame  # noqa: E402

from conftest import default_conf, request  # noqa: E402


class BlueTrack(VideoStreamTrack):
    async def recv(self):
        pts, time_base = await self.next_timestamp()
        image = np.zeros((240, 320, 3), dtype=np.uint8)
        image[:, :, 2] = 255
        frame = VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame


def post_sdp(url: str, sdp: str) -> requests.Response:
    return requests.post(url, data=sdp.encode(), headers={"Content-Type": "application/sdp"}, timeout=10,
                         proxies={"http": None}, allow_redirects=False)


async def gathered(pc: RTCPeerConnection):
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


async def run_whip_whep(base: str):
    publisher = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    publisher.addTransceiver(BlueTrack(), direction="sendonly")
    r = await asyncio.to_thread(post_sdp, f"{base}/api/v1/whip/tv", await gathered(publisher))
    assert r.status_code == 201, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("application/sdp")
    whip_location = r.headers["Location"]
    assert whip_location.startswith("/api/v1/whip/tv/")
    await publisher.setRemoteDescription(RTCSessionDescription(r.text, "answer"))

    viewer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    viewer.addTransceiver("video", direction="recvonly")
    frames = []
    done = asyncio.Event()

    @viewer.on("track")
    def on_track(track):
        async def read():
            while len(frames) < 20:
                frame = await track.recv()
                frames.append(frame.to_ndarray(format="rgb24"))
            done.set()
        asyncio.ensure_future(read())

    # The publisher's producer exists once its answer is applied; the viewer may subscribe right away.
    r = await asyncio.to_thread(post_sdp, f"{base}/api/v1/whep/tv", await gathered(viewer))
    assert r.status_code == 201, (r.status_code, r.text[:300])
    whep_location = r.headers["Location"]
    await viewer.setRemoteDescription(RTCSessionDescription(r.text, "answer"))
    await asyncio.wait_for(done.wait(), timeout=20)
    mean = frames[-1].reshape(-1, 3).mean(axis=0)
    assert mean[2] > 200 and mean[0] < 60 and mean[1] < 60, mean
    # Per-room media counters in /api/v1/stats and /metrics.
    stats = (await asyncio.to_thread(request, "GET", base + "/api/v1/stats")).json()
    room = stats["sfu"]["rooms"]["Room:tv"]
    assert room["producers"] == 1 and room["consumers"] == 1, room
    assert room["packetsReceived"] > 0 and room["packetsSent"] > 0, room
    assert stats["sfu"]["datagramsReceived"] > 0
    metrics = (await asyncio.to_thread(request, "GET", base + "/metrics")).text
    assert "rooms_sfu_consumers 1" in metrics, metrics[-500:]
    for location in (whep_location, whip_location):
        r = await asyncio.to_thread(request, "DELETE", base + location)
        assert r.status_code == 200, r.status_code
    await viewer.close()
    await publisher.close()


@pytest.fixture(scope="module")
def sfu_server(rooms_module):
    return rooms_module(default_conf({"sfu": {"bind": "127.0.0.1"}}))


def test_whip_publisher_is_seen_by_whep_viewer(sfu_server):
    asyncio.run(run_whip_whep(sfu_server.url))


def test_whip_rejects_bad_input(sfu_server):
    base = sfu_server.url
    r = requests.post(f"{base}/api/v1/whip/tv", data=b"v=0", headers={"Content-Type": "text/plain"}, proxies={"http": None})
    assert r.status_code == 415 and r.json()["code"] == "bad_content_type"
    r = post_sdp(f"{base}/api/v1/whip/tv", "this is not sdp")
    assert r.status_code == 400 and r.json()["code"] == "sdp_rejected"
    r = post_sdp(f"{base}/api/v1/whip/tv", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n")
    assert r.status_code == 400 and r.json()["success"] is False
    r = request("GET", f"{base}/api/v1/whip/tv")
    assert r.status_code == 405
    assert sfu_server.healthy()
