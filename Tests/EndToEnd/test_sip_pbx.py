"""SIP dial-in with real peers around the server: kamailio as the PBX Rooms registers with (and its restart), two phones
and a browser in one room (mix-minus for each), hold and resume across the RTP timeout, BYE from the room side (server
shutdown, a silent phone), and bad input on the SIP port. Phones are sipp; the browser is the aiortc room peer; audio
is checked by content (Goertzel power of each test tone)."""
import random
import socket
import time

import pytest

from conftest import poll, stats
from sip_helpers import (BYE_FROM_PHONE, BYE_FROM_ROOMS, KAMAILIO, SIPP, Kamailio, RtpRecorder, SippProcess, build,
                         free_port_pair, free_udp_port, invite, pause, pcmu_tone_pcap, peer_result, pin_steps, play,
                         reinvite, run_sipp, scenario, server_sip_log, sip_conf, sip_options, sipp_report, start_peer)

pytestmark = pytest.mark.skipif(SIPP is None, reason="sipp (Debian sip-tester) is not installed")
needs_kamailio = pytest.mark.skipif(KAMAILIO is None, reason="kamailio is not installed")

# Short timers so that the whole file stays within a few minutes.
FAST = {"t1": "100", "interDigitTimeout": "2s"}


def sip_server(rooms, **sip):
    port = free_port_pair()
    srv = rooms(sip_conf(port, **{**FAST, **sip}))
    srv.sip_port = port
    return srv


def sip_stats(srv) -> dict:
    return stats(srv)["sip"]


def wait_in_room(srv, phones: int, timeout: float) -> bool:
    return bool(poll(lambda: sip_stats(srv)["phonesInRooms"] == phones, timeout=timeout, interval=0.05))


def tone(tmp_path, frequency: float, seconds: float):
    path = tmp_path / f"tone{int(frequency)}-{seconds}.pcap"
    if not path.exists():
        pcmu_tone_pcap(path, frequency, seconds=seconds)
    return path


# ---------------------------------------------------------------------------------------------------------------------
# 1. kamailio as the PBX


@pytest.fixture
def kamailio(tmp_path):
    k = Kamailio(tmp_path)
    k.start()
    yield k
    k.stop()


def registrations(srv) -> int:
    return sip_stats(srv).get("registrations", 0)


def pbx_call(srv, kamailio, tmp_path, talk_seconds: int):
    """A phone calls sip:rooms@<kamailio>, types the PIN and plays 440 Hz; the room peer plays 1 kHz. Returns what each
    heard (the peer's result, the phone's powers)."""
    # The phone is in the room from ~7 s (sipp's PIN ends at ~4.4 s, then the 2.6 s 'joining' prompt) and talks from
    # ~6 s until its BYE at ~6 s + talk; the peer stays half a second longer.
    peer = start_peer(srv, "standup", tone=1000, seconds=6.5 + talk_seconds)
    media_port = free_udp_port()
    recorder = RtpRecorder(media_port)
    started = time.monotonic()
    try:
        result = run_sipp(tmp_path, scenario(["1234"], tone_pcap=tone(tmp_path, 440, talk_seconds), talk_ms=talk_seconds * 1000),
                          kamailio.port, media_port, timeout=60)
    finally:
        recorder.stop()
    assert result.returncode == 0, f"call through kamailio failed:\n{sipp_report(result, srv)}\n--- kamailio ---\n{kamailio.log()[-2000:]}"
    heard = peer_result(peer)
    # 3 s of the call while the phone is in the room and the peer still there.
    phone = recorder.powers([440, 1000], since=started + 2.5 + talk_seconds, until=started + 5.5 + talk_seconds)
    return heard, phone


@needs_kamailio
def test_call_through_kamailio_and_reregistration_after_its_restart(rooms, kamailio, tmp_path):
    srv = sip_server(rooms, register=f"sip:127.0.0.1:{kamailio.port}", registerUser="rooms", registerExpires="30",
                     allow="127.0.0.1")
    assert poll(lambda: sip_stats(srv).get("registration", "").startswith("registered"), timeout=10), \
        f"Rooms did not register with kamailio: {sip_stats(srv)}\n{server_sip_log(srv)}\n--- kamailio ---\n{kamailio.log()[-3000:]}"
    # kamailio routes to the binding: an OPTIONS to rooms@kamailio is answered by Rooms.
    assert sip_options(kamailio.port, "rooms") == "SIP/2.0 200 OK"

    heard, phone = pbx_call(srv, kamailio, tmp_path, talk_seconds=7)
    assert heard["power"]["440.0"] > 0.3, f"the room did not hear the phone that called through kamailio: {heard}"
    assert phone[1000] > 0.3 and phone[440] < 0.05, f"the phone (through kamailio) heard {phone}"
    assert poll(lambda: sip_stats(srv)["calls"] == 0, timeout=5), sip_stats(srv)

    # Restart kamailio right after a refresh, so that the next one is still ~15 s away: the restarted kamailio has no
    # binding until Rooms registers again by itself.
    count = registrations(srv)
    assert poll(lambda: registrations(srv) > count, timeout=20), f"no registration refresh within 20 s: {sip_stats(srv)}"
    kamailio.restart()
    assert sip_options(kamailio.port, "rooms") == "SIP/2.0 404 Not Found", "the restarted kamailio still knows Rooms?"
    count = registrations(srv)
    assert poll(lambda: sip_options(kamailio.port, "rooms", timeout=0.5) == "SIP/2.0 200 OK", timeout=25, interval=0.5), \
        f"Rooms did not register again with the restarted kamailio: {sip_stats(srv)}\n{server_sip_log(srv)}\n" \
        f"--- kamailio ---\n{kamailio.log()[-3000:]}"
    assert registrations(srv) > count

    heard, phone = pbx_call(srv, kamailio, tmp_path, talk_seconds=6)
    assert heard["power"]["440.0"] > 0.3, f"after kamailio's restart the room did not hear the phone: {heard}"
    assert phone[1000] > 0.3, f"after kamailio's restart the phone heard {phone}"


# ---------------------------------------------------------------------------------------------------------------------
# 2. Two phones and a browser


def test_two_phones_and_a_browser_each_hear_the_others(rooms, tmp_path):
    srv = sip_server(rooms)
    peer = start_peer(srv, "standup", tone=1000, seconds=16, measure=[440, 700, 1000])
    phones = {}
    for frequency in (440, 700):
        media_port = free_udp_port()
        xml = scenario(["1234"], tone_pcap=tone(tmp_path, frequency, 12), talk_ms=12000,
                       display=f"Phone {frequency}")
        phones[frequency] = (RtpRecorder(media_port), media_port, xml)
    started = time.monotonic()
    running = {f: SippProcess(tmp_path, xml, srv.sip_port, media_port, timeout=60) for f, (_, media_port, xml) in phones.items()}
    results = {f: p.wait() for f, p in running.items()}
    for recorder, _, _ in phones.values():
        recorder.stop()
    for f, result in results.items():
        assert result.returncode == 0, f"phone {f} Hz failed:\n{sipp_report(result, srv)}"
    heard = peer_result(peer)

    # Both phones talk from ~6 s to ~18 s after they dialled; the window is well inside.
    window = {"since": started + 10, "until": started + 15}
    a = phones[440][0].powers([440, 700, 1000], **window)
    b = phones[700][0].powers([440, 700, 1000], **window)
    for f, (recorder, _, _) in phones.items():
        # 20 ms frames on the wall clock: 250 in 5 s (a mixer that drifted by its own run time sent ~210).
        count = recorder.packet_count(**window)
        assert 235 <= count <= 265, f"phone {f} Hz got {count} packets in 5 s, not 250\n{server_sip_log(srv)}"
    assert a[700] > 0.15 and a[1000] > 0.15 and a[440] < 0.05, f"phone A (440 Hz) heard {a}"
    assert b[440] > 0.15 and b[1000] > 0.15 and b[700] < 0.05, f"phone B (700 Hz) heard {b}"
    # The browser hears each phone on its own track, and not itself.
    tracks = heard["tracks"]
    assert any(t["440.0"] > 0.5 and t["700.0"] < 0.05 for t in tracks), f"no track of phone A: {heard}"
    assert any(t["700.0"] > 0.5 and t["440.0"] < 0.05 for t in tracks), f"no track of phone B: {heard}"
    assert heard["power"]["1000.0"] < 0.05, heard
    assert {"Phone 440", "Phone 700"} <= set(heard["participants"]), heard


# ---------------------------------------------------------------------------------------------------------------------
# 3. Hold and resume


def test_hold_longer_than_the_rtp_timeout_then_resume(rooms, tmp_path):
    srv = sip_server(rooms, rtpTimeout="4s")
    # sipp's PIN takes ~3 s (1.55 s to 4.4 s); then the phone talks 300 Hz while it joins (4.6-9.1 s), holds at ~9.6 s and
    # sends no RTP at all until it resumes at ~15.6 s (6.5 s, beyond the 4 s RTP timeout); 1.5 s after resuming (as a
    # phone switching back from music on hold might) it talks 440 Hz until its BYE at ~24 s.
    # The resumed stream is a new one (new SSRC) numbered lower than the first, as a phone restarting its RTP may.
    before, after = tmp_path / "before-hold.pcap", tmp_path / "after-hold.pcap"
    pcmu_tone_pcap(before, 300, seconds=4.5, seq=20000, ssrc=1111)
    pcmu_tone_pcap(after, 440, seconds=7, seq=5000, ssrc=2222)
    steps = [invite(), pause(1500), *pin_steps(["1234"], wait_ms=3000), play(before), pause(5000),
             reinvite("sendonly", cseq=10), pause(6000),
             reinvite("sendrecv", cseq=11), pause(1500), play(after), pause(7000), BYE_FROM_PHONE]
    peer = start_peer(srv, "standup", tone=1000, seconds=22.5, measure=[300, 440, 1000])
    phone = SippProcess(tmp_path, build(steps, "hold and resume"), srv.sip_port, free_udp_port(), timeout=60)
    time.sleep(12)  # on hold since ~9.6 s
    held = sip_stats(srv)
    time.sleep(3)  # ~6 s without RTP
    still_held = sip_stats(srv)
    result = phone.wait()
    assert result.returncode == 0, f"hold/resume failed (Rooms hung up?):\n{sipp_report(result, srv)}"
    assert held["calls"] == 1 and still_held["calls"] == 1 and still_held["phonesInRooms"] == 1, (held, still_held)
    assert "no RTP" not in srv.log(), server_sip_log(srv)
    heard = peer_result(peer)
    assert heard["power"]["440.0"] > 0.3 and heard["power"]["300.0"] < 0.05, f"after resuming the room heard {heard}"


# ---------------------------------------------------------------------------------------------------------------------
# 4. BYE from the room side


def test_server_shutdown_sends_bye_to_the_phone(rooms, tmp_path):
    srv = sip_server(rooms)
    steps = [invite(), pause(1500), *pin_steps(["1234"]), play(tone(tmp_path, 440, 20)), BYE_FROM_ROOMS]
    phone = SippProcess(tmp_path, build(steps, "bye on shutdown"), srv.sip_port, free_udp_port(), timeout=40)
    try:
        assert wait_in_room(srv, 1, timeout=15), f"the phone did not reach the room: {sip_stats(srv)}\n{server_sip_log(srv)}"
        time.sleep(0.5)
        stopping = time.monotonic()
        srv.stop(graceful=True)
        assert srv._last_exit == 0, f"server exited with {srv._last_exit} on SIGTERM\n{server_sip_log(srv)}"
        result = phone.wait()
    finally:
        phone.kill()
    assert result.returncode == 0, f"the phone got no BYE when the server stopped:\n{sipp_report(result, srv)}"
    assert time.monotonic() - stopping < 10


def test_phone_without_rtp_is_hung_up(rooms, tmp_path):
    srv = sip_server(rooms, rtpTimeout="4s")
    # The PIN is the last RTP the phone sends (RFC 4733 events); then silence on the wire until Rooms hangs up.
    steps = [invite(), pause(1500), *pin_steps(["1234"], wait_ms=0), BYE_FROM_ROOMS]
    started = time.monotonic()
    phone = SippProcess(tmp_path, build(steps, "silent phone"), srv.sip_port, free_udp_port(), timeout=30)
    try:
        joined = wait_in_room(srv, 1, timeout=10)
        result = phone.wait()
    finally:
        phone.kill()
    elapsed = time.monotonic() - started
    assert joined, f"the phone did not reach the room before the timeout: {sip_stats(srv)}\n{server_sip_log(srv)}"
    assert result.returncode == 0, f"no BYE for a phone without RTP:\n{sipp_report(result, srv)}"
    # Last RTP at ~4.4 s (end of sipp's PIN), 4 s timeout checked every second: the BYE comes at ~8.4-9.5 s.
    assert 7.5 < elapsed < 13, f"BYE after {elapsed:.1f} s\n{server_sip_log(srv)}"
    srv.wait_log(r"no RTP for \d+ s", timeout=2)
    assert poll(lambda: sip_stats(srv)["calls"] == 0 and sip_stats(srv)["phonesInRooms"] == 0, timeout=5), sip_stats(srv)


# ---------------------------------------------------------------------------------------------------------------------
# 5. Bad input on the SIP port


def _headers(method: str, port: int, local: int, branch: str, cseq: int = 1, extra: str = "") -> str:
    return (f"{method} sip:rooms@127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch={branch};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:fuzz@127.0.0.1:{local}>;tag=f{branch[-6:]}\r\nTo: <sip:rooms@127.0.0.1:{port}>\r\n"
            f"Call-ID: {branch}@127.0.0.1\r\nCSeq: {cseq} {method}\r\nContact: <sip:fuzz@127.0.0.1:{local}>\r\n{extra}")


def _branch() -> str:
    return "z9hG4bK" + "".join(random.choice("0123456789abcdef") for _ in range(16))


class UdpProbe:
    def __init__(self, port: int):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.local = self.sock.getsockname()[1]

    def send(self, data: bytes):
        self.sock.sendto(data, ("127.0.0.1", self.port))

    def responses(self, wait: float) -> list[str]:
        """Every datagram received within `wait` seconds, as text."""
        got, deadline = [], time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                got.append(self.sock.recv(65535).decode(errors="replace"))
            except socket.timeout:
                break
        return got

    def final_status(self, wait: float = 2.0) -> str | None:
        for text in self.responses(wait):
            line = text.split("\r\n", 1)[0]
            if not line.startswith("SIP/2.0 1"):
                return line
        return None


def test_bad_input_on_the_sip_port(rooms, tmp_path):
    srv = sip_server(rooms)
    port = srv.sip_port

    # Garbage, a response-shaped line, and a request line without the headers a response needs: no answer at all.
    for junk in (bytes(random.getrandbits(8) for _ in range(300)), b"\x00\x01\x02\x03" * 50, b"SIP/2.0 200 OK\r\n\r\n",
                 b"INVITE sip:rooms@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n", b"hello world\r\n\r\n"):
        probe = UdpProbe(port)
        probe.send(junk)
        assert probe.responses(0.5) == [], f"an answer to unparsable input {junk[:40]!r}"

    # Content-Length larger than the datagram's body (RFC 3261 §18.3): 400.
    probe = UdpProbe(port)
    branch = _branch()
    probe.send((_headers("OPTIONS", port, probe.local, branch, extra="Content-Length: 500\r\n") + "\r\nshort body").encode())
    status = probe.final_status()
    assert status and status.startswith("SIP/2.0 400"), f"wrong Content-Length answered {status!r}"

    # The largest datagram UDP can carry, with one absurdly long header line: 400 or 513, not silence.
    probe = UdpProbe(port)
    head = _headers("OPTIONS", port, probe.local, _branch())
    pad = 65507 - len(head) - len("X-Pad: \r\nContent-Length: 0\r\n\r\n")
    probe.send((head + "X-Pad: " + "a" * pad + "\r\nContent-Length: 0\r\n\r\n").encode())
    status = probe.final_status()
    assert status and (status.startswith("SIP/2.0 400") or status.startswith("SIP/2.0 513")), \
        f"a 64 KB request with a 64 KB header line answered {status!r}"

    # An INVITE whose SDP is broken: 100 Trying, then 488 (no audio we can use); ACKed like any failed INVITE.
    probe = UdpProbe(port)
    branch = _branch()
    body = "v=0\r\nthis is not sdp\r\nm=audio banana RTP/AVP\r\n"
    probe.send((_headers("INVITE", port, probe.local, branch, extra="Content-Type: application/sdp\r\n")
                + f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
    responses = probe.responses(2.0)
    finals = [r for r in responses if not r.startswith("SIP/2.0 1")]
    assert finals and finals[0].startswith("SIP/2.0 488"), f"broken SDP answered {[r.split(chr(13))[0] for r in responses]}"
    to = next(line for line in finals[0].split("\r\n") if line.lower().startswith("to:"))
    ack = _headers("ACK", port, probe.local, branch).replace(f"To: <sip:rooms@127.0.0.1:{port}>", to)
    probe.send((ack + "Content-Length: 0\r\n\r\n").encode())

    # 100 KB over TCP (UDP cannot carry it): 513 Message Too Large; its length is known, so the server skips it and
    # the connection stays usable (closing with the body unread would reset it and lose the 513).
    with socket.create_connection(("127.0.0.1", port), timeout=5) as tcp:
        local = tcp.getsockname()[1]
        body = "a" * 100_000
        tcp.sendall((_headers("OPTIONS", port, local, _branch()).replace("SIP/2.0/UDP", "SIP/2.0/TCP")
                     + f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
        status = _read_response(tcp)
        assert status.startswith("SIP/2.0 513"), f"a 100 KB message over TCP answered {status!r}"
        tcp.sendall((_headers("OPTIONS", port, local, _branch()).replace("SIP/2.0/UDP", "SIP/2.0/TCP")
                     + "Content-Length: 0\r\n\r\n").encode())
        status = _read_response(tcp)
        assert status == "SIP/2.0 200 OK", f"after the 513 an OPTIONS on the same connection answered {status!r}"

    # Garbage over TCP: the connection is closed (and nothing answered).
    with socket.create_connection(("127.0.0.1", port), timeout=3) as tcp:
        tcp.sendall(b"\x16\x03\x01\x02\x00" + bytes(random.getrandbits(8) for _ in range(500)) + b"\r\n\r\n")
        received = _read_until_closed(tcp, 5)
    assert received is not None, "the TCP connection stayed open after garbage"
    assert received == b"", f"garbage over TCP answered {received[:200]!r}"

    # The server is fine: healthy, counted what it dropped and answered, and takes an ordinary call.
    assert srv.healthy() and srv.alive()
    after = sip_stats(srv)
    assert after["calls"] == 0, after
    assert poll(lambda: sip_options(port) == "SIP/2.0 200 OK", timeout=3)
    media_port = free_udp_port()
    recorder = RtpRecorder(media_port)
    try:
        result = run_sipp(tmp_path, scenario(["1234"], tone_pcap=tone(tmp_path, 440, 2), talk_ms=2000), port, media_port, timeout=30)
    finally:
        recorder.stop()
    assert result.returncode == 0, f"a call after the bad input failed:\n{sipp_report(result, srv)}"
    assert len(recorder.samples()) > 8000 * 4, "the phone heard (almost) nothing: prompts missing"


def _read_response(sock: socket.socket, timeout: float = 3) -> str:
    """The status line of the next final response on a TCP connection ('' if it closed, 'timeout' if none came)."""
    data, deadline = b"", time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        while b"\r\n\r\n" in data:
            head, data = data.split(b"\r\n\r\n", 1)
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith((b"content-length:", b"l:"))), 0)
            data = data[length:]
            status = head.split(b"\r\n", 1)[0].decode(errors="replace")
            if not status.startswith("SIP/2.0 1"):
                return status
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            return ""
        data += chunk
    return "timeout"


def _read_until_closed(sock: socket.socket, timeout: float) -> bytes | None:
    """What the server sent before closing the connection; None if it is still open after `timeout`."""
    data, deadline = b"", time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return None
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk
    return None
