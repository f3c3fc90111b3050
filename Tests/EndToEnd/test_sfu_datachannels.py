"""Data channels through the SFU (docs/sfu-signaling.md, "Data channels"), with aiortc peers in a private network.

Three aiortc peers join one room over the channeling WebSocket and publish a data-only connection (`SfuPublish` with
an `m=application` offer) that opens a channel labelled "chat". What one sends reaches the two others on their "chat"
channel, in order, never the sender: text wrapped as {"From": <session id>, "Data": <text>}, binary as sent (a 60 KiB
message too). Garbage inside one peer's DTLS (random SCTP packets, checksummed packets with bogus chunks) disturbs
nobody; a peer that leaves is gone from the stats and the others keep talking.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import struct
import time
from pathlib import Path

import pytest

import aioice.ice

# aioice drops loopback addresses; the SFU announces 127.0.0.1 inside the namespace.
aioice.ice.get_host_addresses = lambda use_ipv4=True, use_ipv6=True: ["127.0.0.1"]

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from google_crc32c import value as crc32c  # noqa: E402  (aiortc's own dependency)

from conftest import RoomsServer, default_conf, hello, http_session, ws_recv_until, ws_self, ws_send  # noqa: E402
from test_sfu_network import MEDIA_PORT, in_private_network  # noqa: E402

ROOM = "datachannels"
BIG = 60 * 1024


def noop():
    return "just lo"


class Peer:
    """One participant: a channeling session and its data-only publisher connection with a "chat" channel."""

    def __init__(self, name: str, url: str):
        self.name = name
        self.conn, self_doc = ws_self(url)
        self.id = self_doc["Id"]
        assert hello(self.conn, ROOM)["Type"] == "Welcome"
        self.count = 0
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.channel = self.pc.createDataChannel("chat")
        self.received: list[str | bytes] = []
        self.opened = asyncio.Event()
        self.channel.on("open", self.opened.set)
        self.channel.on("message", self.received.append)

    def request(self, kind: str, payload: dict) -> dict:
        self.count += 1
        iid = f"{self.name}{self.count}"
        ws_send(self.conn, {"Type": kind, kind: payload, "Iid": iid})
        return ws_recv_until(self.conn, lambda e: e.get("Iid") == iid, timeout=10)["Data"]

    async def publish(self):
        await self.pc.setLocalDescription(await self.pc.createOffer())
        reply = await asyncio.to_thread(self.request, "SfuPublish",
                                        {"Offer": {"type": "offer", "sdp": self.pc.localDescription.sdp}, "Tracks": []})
        assert reply["Type"] == "SfuAnswer", reply
        answer = reply["Answer"]["sdp"]
        assert "m=application" in answer and "a=sctp-port:5000" in answer and "a=max-message-size:262144" in answer, answer
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        return answer

    async def leave(self):
        await self.pc.close()
        self.conn.close()


async def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {what}")
        await asyncio.sleep(0.05)


def unwrap(message) -> tuple[str, str]:
    assert isinstance(message, str), message
    doc = json.loads(message)
    return doc["From"], doc["Data"]


def garbage_sctp(rng: random.Random, local_port: int, remote_port: int, tag: int, n: int) -> bytes:
    """Every 2nd packet random bytes (wrong checksum); the others a correct SCTP common header and checksum with
    random chunks of types that must not end the association (DATA at random TSNs/streams with odd PPIDs,
    so that usrsctp's chunk parser sees them. Never ABORT/SHUTDOWN/INIT, an empty DATA chunk or a SACK of
    data never sent: those legitimately end it (RFC 9260)."""
    if n % 2 == 0:
        return os.urandom(rng.randint(1, 1200))
    chunks = b""
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice([0, 4, 0x3F, 0x7F, 0xBF, 0xFF])
        body = os.urandom(rng.randint(1, 64))  # RFC 9260 §6.2: an empty DATA chunk earns an ABORT
        if kind == 0:  # DATA: TSN, stream, SSN, PPID, then payload
            body = struct.pack("!IHHI", rng.getrandbits(32), rng.randint(0, 65535), 0, rng.choice([50, 51, 53, 99])) + body
        length = 4 + len(body)
        chunks += struct.pack("!BBH", kind, rng.getrandbits(8), length)
        chunks += body + b"\0" * (-len(body) % 4)
    header = struct.pack("!HHI", local_port, remote_port, tag)
    checksum = crc32c(header + b"\0\0\0\0" + chunks)
    return header + struct.pack("<I", checksum) + chunks


async def round_of_messages(peers: list[Peer]):
    """Each peer sends one message; each other peer gets it, wrapped with the sender's id."""
    for sender in peers:
        receivers = [p for p in peers if p is not sender]
        before = {p.name: len(p.received) for p in receivers}
        text = f"round {time.monotonic()} from {sender.name}"
        sender.channel.send(text)
        for peer in receivers:
            await wait_for(lambda: len(peer.received) > before[peer.name], 10, f"{peer.name} hears {sender.name}")
            assert unwrap(peer.received[-1]) == (sender.id, text)


async def exchange(workdir: str) -> dict:
    server = RoomsServer(Path(workdir) / "server",
                         default_conf({"sfu": {"bind": "127.0.0.1", "port": str(MEDIA_PORT)}})).start()
    session = http_session()
    peers: list[Peer] = []
    try:
        a, b, c = (Peer(name, server.ws_url) for name in ("a", "b", "c"))
        peers = [a, b, c]
        for peer in peers:
            await peer.publish()
        for peer in peers:
            await asyncio.wait_for(peer.opened.wait(), 20)

        # A sends text, binary, a 60 KiB binary, a 60 KiB text and an empty text message, in this order.
        big_binary = bytes(random.Random(1).getrandbits(8) for _ in range(BIG))
        big_text = "".join(random.Random(2).choice("abcdefghij\"\\ é") for _ in range(BIG - 4096))
        sent = ["hello from a", bytes(range(256)), big_binary, big_text, ""]
        for message in sent:
            a.channel.send(message)
        for peer in (b, c):
            await wait_for(lambda: len(peer.received) >= len(sent), 20, f"{peer.name} gets a's messages")
        await asyncio.sleep(0.5)
        for peer in (b, c):
            got = peer.received
            assert len(got) == len(sent), [type(m) for m in got]
            assert unwrap(got[0]) == (a.id, "hello from a")
            assert got[1] == bytes(range(256))
            assert got[2] == big_binary
            assert unwrap(got[3]) == (a.id, big_text)
            assert unwrap(got[4]) == (a.id, "")
        assert a.received == [], "the sender must not get its own messages back"

        # B answers: A and C hear it, B does not.
        b.channel.send("reply from b")
        for peer in (a, c):
            await wait_for(lambda: any(isinstance(m, str) and "reply from b" in m for m in peer.received), 10,
                           f"{peer.name} hears b")
        assert unwrap(a.received[-1]) == (b.id, "reply from b")
        await asyncio.sleep(0.3)
        assert len(b.received) == len(sent), "b must not get its own message back"

        # Garbage inside A's DTLS association. Random bytes (bad checksums) are dropped and disturb nobody, A included.
        dtls = a.pc.sctp.transport
        rng = random.Random(8261)
        for n in range(300):
            await dtls._send_data(os.urandom(rng.randint(1, 1200)))
        await asyncio.sleep(0.5)
        await round_of_messages([a, b, c])
        # Checksummed packets with A's verification tag and bogus chunks: usrsctp may answer what it takes for a
        # protocol violation with an ABORT, which ends A's association only; B and C must not notice.
        for n in range(300):
            await dtls._send_data(garbage_sctp(rng, 5000, a.pc.sctp._remote_port or 5000,
                                               a.pc.sctp._remote_verification_tag, n))
        await asyncio.sleep(1)
        assert server.healthy()
        a_survived = a.channel.readyState == "open"
        await round_of_messages([a, b, c] if a_survived else [b, c])

        stats_before = session.get(server.u("api/v1/stats"), timeout=10).json()["sfu"]["rooms"][f"Room:{ROOM}"]

        # C leaves (closes its peer connection and its session); A and B keep talking.
        await c.leave()
        c_count = len(c.received)
        await wait_for(lambda: len(session.get(server.u("api/v1/stats"), timeout=10).json()["sfu"]["rooms"]
                                   [f"Room:{ROOM}"]["dataChannels"]) == 2, 15, "c's connection gone")
        await round_of_messages([a, b] if a_survived else [b])
        assert len(c.received) == c_count

        stats_after = session.get(server.u("api/v1/stats"), timeout=10).json()["sfu"]["rooms"][f"Room:{ROOM}"]
        metrics = session.get(server.u("metrics"), timeout=10).text
        return {"ids": {p.name: p.id for p in peers}, "aSurvivedGarbage": a_survived, "before": stats_before, "after": stats_after,
                "metrics": [line for line in metrics.splitlines() if line.startswith("rooms_sfu_data")],
                "healthy": server.healthy(), "log": server.log()[-3000:]}
    finally:
        for peer in peers:
            try:
                await peer.leave()
            except Exception:
                pass
        server.stop()


def scenario(workdir: str) -> dict:
    return asyncio.run(exchange(workdir))


def test_data_channel_messages_reach_the_other_participants(tmp_path):
    result = in_private_network(noop, scenario, str(tmp_path), timeout=150)
    assert result["healthy"]
    # usrsctp answers some mixes of bogus chunks with an ABORT (seen here after a burst of ERRORs): that ends A's
    # association only, which the asserts below allow for; B and C are checked either way.
    ids = result["ids"]
    before = {d["participant"]: d for d in result["before"]["dataChannels"]}
    assert set(before) == set(ids.values()), before
    a, b, c = before[ids["a"]], before[ids["b"]], before[ids["c"]]
    assert all(d["connected"] and d["channelsOpen"] == 1 for d in (b, c)), before
    assert a["connected"] == result["aSurvivedGarbage"], (a, result["aSurvivedGarbage"])
    # b and c got a's 5, b's 1 (c only), and one per other peer per round; nothing was dropped.
    assert a["messagesReceived"] >= 6 and a["bytesReceived"] >= 256 + 2 * BIG - 4096, a
    assert b["messagesReceived"] == 1 + 2 and c["messagesReceived"] == 2, (b, c)
    assert b["messagesSent"] >= 5 + 2 and c["messagesSent"] >= 5 + 1 + 2, (b, c)
    assert all(d["messagesDropped"] == 0 for d in (a, b, c)), before
    after = {d["participant"] for d in result["after"]["dataChannels"]}
    assert after == {ids["a"], ids["b"]}, result["after"]
    open_now = 2 if result["aSurvivedGarbage"] else 1
    assert any(line.startswith(f"rooms_sfu_data_channels_open {open_now}") for line in result["metrics"]), result["metrics"]


async def speaker_and_whip(workdir: str) -> dict:
    """A publishes a loud tone (RFC 6464 levels from aiortc) with a data channel over the channeling socket; B watches
    over WHEP with a "rooms" channel and hears the server's Speaker event naming A; a WHIP publisher's chat messages
    reach B wrapped with `whip:<resource>`."""
    from sfu_aiortc_peers import ToneTrack

    server = RoomsServer(Path(workdir) / "server",
                         default_conf({"sfu": {"bind": "127.0.0.1", "port": str(MEDIA_PORT)}})).start()
    session = http_session()
    pcs = []
    try:
        a = Peer("a", server.ws_url)
        pcs.append(a.pc)
        a.pc.addTrack(ToneTrack())
        await a.publish()
        await asyncio.wait_for(a.opened.wait(), 20)
        await asyncio.sleep(2)  # the router picks the loudest publisher every 500 ms

        viewer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pcs.append(viewer)
        viewer.addTransceiver("audio", direction="recvonly")
        events: list[str] = []
        chat: list[str] = []
        rooms_channel = viewer.createDataChannel("rooms")
        rooms_channel.on("message", events.append)
        chat_channel = viewer.createDataChannel("chat")
        chat_channel.on("message", chat.append)
        await viewer.setLocalDescription(await viewer.createOffer())
        r = session.post(server.u(f"api/v1/whep/{ROOM}"), data=viewer.localDescription.sdp.encode(),
                         headers={"Content-Type": "application/sdp"}, timeout=10)
        assert r.status_code == 201, (r.status_code, r.text[:300])
        await viewer.setRemoteDescription(RTCSessionDescription(r.text, "answer"))

        def speaker_events():
            return [json.loads(e) for e in events if isinstance(e, str) and '"Type":"Speaker"' in e]
        # A has been talking for seconds before the viewer's "rooms" channel opens: the server sends the current
        # speaker when the channel opens (changes would follow).
        await wait_for(lambda: rooms_channel.readyState == "open", 20, "viewer's channels open")
        await wait_for(speaker_events, 10, "a Speaker event")

        whip = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pcs.append(whip)
        whip_chat = whip.createDataChannel("chat")
        whip_open = asyncio.Event()
        whip_chat.on("open", whip_open.set)
        whip.addTransceiver(ToneTrack(), direction="sendonly")
        await whip.setLocalDescription(await whip.createOffer())
        r = session.post(server.u(f"api/v1/whip/{ROOM}"), data=whip.localDescription.sdp.encode(),
                         headers={"Content-Type": "application/sdp"}, timeout=10)
        assert r.status_code == 201, (r.status_code, r.text[:300])
        whip_resource = r.headers["Location"].rsplit("/", 1)[1]
        await whip.setRemoteDescription(RTCSessionDescription(r.text, "answer"))
        await asyncio.wait_for(whip_open.wait(), 20)
        whip_chat.send("hello from whip")
        await wait_for(lambda: chat, 10, "viewer hears the WHIP publisher")
        return {"a": a.id, "speakerEvents": speaker_events(), "chat": chat, "whipResource": whip_resource,
                "aReceived": a.received}
    finally:
        for pc in pcs:
            await pc.close()
        server.stop()


def test_server_events_and_whip_whep_data_channels(tmp_path):
    result = in_private_network(noop, lambda: asyncio.run(speaker_and_whip(str(tmp_path))), timeout=120)
    events = result["speakerEvents"]
    assert events, "no Speaker event on the viewer's rooms channel"
    assert events[0]["Session"] == result["a"] and 0 < events[0]["Level"] <= 127, events
    assert [unwrap(m) for m in result["chat"]] == [("whip:" + result["whipResource"], "hello from whip")]
    # The viewer never sent anything; A got the WHIP publisher's message on its own "chat" channel.
    assert [unwrap(m) for m in result["aReceived"]] == [("whip:" + result["whipResource"], "hello from whip")]


DATA_PAGE = r"""<!doctype html>
<html><head><meta charset="utf-8"><title>rooms data channel peer</title></head><body><script>
window.pcs = {};
window.logs = [];
window.received = [];
function note(s) { window.logs.push((performance.now() / 1000).toFixed(2) + " " + s); }
function checksum(bytes) { let s = 0; for (let i = 0; i < bytes.length; i++) s = (s * 31 + bytes[i]) >>> 0; return s; }
window.startData = async function (name) {
  const pc = new RTCPeerConnection({ iceServers: [] });
  pc.onconnectionstatechange = () => note(name + " connection " + pc.connectionState);
  window.pcs[name] = pc;
  const channel = pc.createDataChannel("chat");
  channel.binaryType = "arraybuffer";
  channel.onopen = () => note("chat open");
  channel.onmessage = (e) => {
    if (typeof e.data === "string") { window.received.push({ text: e.data }); return; }
    const bytes = new Uint8Array(e.data);
    window.received.push({ length: bytes.length, checksum: checksum(bytes), head: Array.from(bytes.slice(0, 8)) });
  };
  window.channel = channel;
  await pc.setLocalDescription(await pc.createOffer());
  return pc.localDescription.sdp;
};
window.setAnswer = async function (name, sdp) { await window.pcs[name].setRemoteDescription({ type: "answer", sdp }); };
window.channelState = async function () { return window.channel.readyState; };
window.sendText = async function (text) { window.channel.send(text); };
window.sendPattern = async function (n) {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 7 + 3) & 255;
  window.channel.send(bytes);
};
window.receivedMessages = async function () { return window.received; };
</script></body></html>
"""


def checksum(data: bytes) -> int:
    s = 0
    for b in data:
        s = (s * 31 + b) & 0xFFFFFFFF
    return s


async def chromium_and_aiortc(workdir: str) -> dict:
    """Headless Chromium (WHIP, data-only) and an aiortc peer (channeling) in one room exchange text and binary."""
    from sfu_chromium_peers import call, make_browser

    server = RoomsServer(Path(workdir) / "server",
                         default_conf({"sfu": {"bind": "127.0.0.1", "port": str(MEDIA_PORT)}})).start()
    session = http_session()
    page = Path(workdir) / "data.html"
    page.write_text(DATA_PAGE)
    driver = None
    peer = None
    try:
        peer = Peer("p", server.ws_url)
        await peer.publish()
        await asyncio.wait_for(peer.opened.wait(), 20)

        driver = await asyncio.to_thread(make_browser, os.path.join(workdir, "profile"), 640, 480)
        await asyncio.to_thread(driver.get, "file://" + str(page))
        offer = await asyncio.to_thread(call, driver, "startData", "pub")
        r = session.post(server.u(f"api/v1/whip/{ROOM}"), data=offer.encode(), headers={"Content-Type": "application/sdp"},
                         timeout=10)
        assert r.status_code == 201, (r.status_code, r.text[:300])
        resource = r.headers["Location"].rsplit("/", 1)[1]
        await asyncio.to_thread(call, driver, "setAnswer", "pub", r.text)
        deadline = time.monotonic() + 20
        while await asyncio.to_thread(call, driver, "channelState") != "open":
            assert time.monotonic() < deadline, driver.execute_script("return window.logs;")
            await asyncio.sleep(0.1)

        await asyncio.to_thread(call, driver, "sendText", "hello from chromium")
        await asyncio.to_thread(call, driver, "sendPattern", BIG)
        await wait_for(lambda: len(peer.received) >= 2, 15, "aiortc hears chromium")
        pattern = bytes((i * 7 + 3) & 255 for i in range(BIG))

        peer.channel.send("hello from aiortc")
        peer.channel.send(bytes(range(256)))
        peer.channel.send(pattern)
        deadline = time.monotonic() + 15
        while len(got := await asyncio.to_thread(call, driver, "receivedMessages")) < 3:
            assert time.monotonic() < deadline, got
            await asyncio.sleep(0.1)
        return {"resource": resource, "peer": peer.id, "aiortcGot": peer.received[:2], "chromiumGot": got,
                "patternChecksum": checksum(pattern), "bytesChecksum": checksum(bytes(range(256)))}
    finally:
        if driver:
            driver.quit()
        if peer:
            await peer.leave()
        server.stop()


def test_chromium_and_aiortc_exchange_data_channel_messages(tmp_path):
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("chromium/chromedriver not installed (scripts/install-deps test)")
    result = in_private_network(noop, lambda: asyncio.run(chromium_and_aiortc(str(tmp_path))), timeout=150)
    text, binary = result["aiortcGot"]
    assert unwrap(text) == ("whip:" + result["resource"], "hello from chromium")
    assert binary == bytes((i * 7 + 3) & 255 for i in range(BIG))
    got = result["chromiumGot"]
    assert json.loads(got[0]["text"]) == {"From": result["peer"], "Data": "hello from aiortc"}, got
    assert got[1] == {"length": 256, "checksum": result["bytesChecksum"], "head": list(range(8))}, got
    assert got[2]["length"] == BIG and got[2]["checksum"] == result["patternChecksum"], got
