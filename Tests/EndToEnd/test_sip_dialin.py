"""SIP dial-in end to end: sipp phones call the real binary, type a PIN (RFC 4733 or SIP INFO) and talk with an aiortc
participant of the room. Audio is checked by content in both directions, including mix-minus (a phone never hears
itself)."""
import time

import pytest

from conftest import poll, request, stats
from sip_helpers import (SIPP, RtpRecorder, free_udp_port, g722_decode, pcmu_tone_pcap, peer_result, relative_power, run_sipp,
                         scenario, sip_conf, start_peer, tone_pcap)

pytestmark = pytest.mark.skipif(SIPP is None, reason="sipp (Debian sip-tester) is not installed")


@pytest.fixture
def sip_server(rooms):
    sip_port = free_udp_port()
    srv = rooms(sip_conf(sip_port))
    srv.sip_port = sip_port
    return srv


def test_phone_and_browser_hear_each_other_not_themselves(sip_server, tmp_path):
    srv = sip_server
    peer = start_peer(srv, "standup", tone=1000, seconds=26)
    media_port = free_udp_port()
    tone = tmp_path / "tone440.pcap"
    pcmu_tone_pcap(tone, 440, seconds=12)
    recorder = RtpRecorder(media_port)
    try:
        result = run_sipp(tmp_path, scenario(["1234"], tone_pcap=tone, talk_ms=13000), srv.sip_port, media_port)
    finally:
        recorder.stop()
    assert result.returncode == 0, f"sipp failed: {result.stdout[-1500:]} {result.stderr[-1500:]}"
    heard = peer_result(peer)
    # The room participant hears the phone's 440 Hz (and its own 1 kHz is not sent back to it by the SFU).
    assert heard["power"]["440.0"] > 0.3, heard
    assert heard["power"]["1000.0"] < 0.05, heard
    assert any(name.startswith("Phone +49") and "5678" in name and "0123" not in name for name in heard["participants"]), heard
    # The phone's avatar tile arrives as VP8 video (2 fps still picture).
    assert heard["videoFrames"] >= 4 and heard["videoSize"] == [320, 240], heard
    # The phone hears the room's 1 kHz, but not its own 440 Hz (mix-minus).
    phone = recorder.samples(last_seconds=5)
    assert len(phone) >= 5 * 8000 * 0.9, f"the phone got {len(phone) / 8000:.1f} s of audio"
    assert relative_power(phone, 1000, 8000) > 0.3, relative_power(phone, 1000, 8000)
    assert relative_power(phone, 440, 8000) < 0.05, relative_power(phone, 440, 8000)


def test_g722_only_phone_gets_wideband_with_rtp_clock_8000(sip_server, tmp_path):
    """A phone offering only G.722 (it got 488 before G.722 was supported): the room hears its 440 Hz; the phone hears the
    browser's 5 kHz, which only a 16 kHz path carries (G.711 stops at 4 kHz); on the wire Rooms sends payload type 9,
    160 bytes per 20 ms and timestamps 160 apart (RFC 3551's 8000 clock for 16 kHz audio)."""
    srv = sip_server
    peer = start_peer(srv, "standup", tone=5000, seconds=18, measure=[440, 5000])
    media_port = free_udp_port()
    tone = tmp_path / "tone440-g722.pcap"
    tone_pcap(tone, 440, seconds=8, codec="G722")
    recorder = RtpRecorder(media_port)
    try:
        result = run_sipp(tmp_path, scenario(["1234"], tone_pcap=tone, talk_ms=9000, codec="G722"), srv.sip_port, media_port)
    finally:
        recorder.stop()
    assert result.returncode == 0, f"sipp failed: {result.stdout[-1500:]} {result.stderr[-1500:]}"
    assert "answered with G722" in srv.log()
    heard = peer_result(peer)
    assert heard["power"]["440.0"] > 0.3 and heard["power"]["5000.0"] < 0.05, heard
    audio = [(p, ts) for (pt, p), ts in zip(recorder.payloads, recorder.timestamps) if pt == 9]
    assert len(audio) > 400 and len(audio) == len(recorder.payloads), "Rooms sent something other than G.722"
    assert {len(p) for p, _ in audio} == {160}
    steps = {(b - a) & 0xFFFFFFFF for (_, a), (_, b) in zip(audio, audio[1:])}
    assert steps == {160}, f"timestamp steps {steps}"
    phone = g722_decode(b"".join(p for p, _ in audio))[-5 * 16000:]
    powers = {f: relative_power(phone, f, 16000) for f in (440, 5000)}
    assert powers[5000] > 0.3 and powers[440] < 0.05, f"the G.722 phone heard {powers}"


def test_pin_by_sip_info_joins_a_scheduled_conference(sip_server, tmp_path):
    srv = sip_server
    auth = request("POST", srv.url + "/api/mx/auth", auth=("client1", "s3cret"),
                   data={"username": "alice", "password": "pw", "grant_type": "password"})
    assert auth.status_code == 200, auth.text
    token = auth.json()["access_token"]
    conf = request("POST", srv.url + "/api/mx/conferences", headers={"Authorization": f"Bearer {token}"},
                   json={"name": "Board", "accessId": 47281964, "type": "Once", "startDate": int(time.time()) - 60, "duration": 30})
    assert conf.status_code in (200, 201), conf.text
    room = "conf-" + conf.json()["Id"]
    peer = start_peer(srv, room, tone=1000, seconds=18)
    media_port = free_udp_port()
    tone = tmp_path / "tone440.pcap"
    pcmu_tone_pcap(tone, 440, seconds=8)
    result = run_sipp(tmp_path, scenario(["47281964"], method="info", tone_pcap=tone, talk_ms=9000), srv.sip_port, media_port)
    assert result.returncode == 0, f"sipp failed: {result.stdout[-1500:]} {result.stderr[-1500:]}"
    heard = peer_result(peer)
    assert heard["power"]["440.0"] > 0.3, heard


def test_three_wrong_pins_hang_up(sip_server, tmp_path):
    srv = sip_server
    media_port = free_udp_port()
    started = time.time()
    result = run_sipp(tmp_path, scenario(["1111", "2222", "3333"], hangup="rooms"), srv.sip_port, media_port)
    assert result.returncode == 0, f"Rooms did not hang up: {result.stdout[-1500:]} {result.stderr[-1500:]}"
    assert time.time() - started < 40
    assert poll(lambda: stats(srv)["sip"]["calls"] == 0, timeout=5)


def test_calls_from_sources_outside_the_allow_list_get_403(rooms, tmp_path):
    sip_port = free_udp_port()
    srv = rooms(sip_conf(sip_port, allow="10.0.0.0/8"))
    xml = scenario(["1234"]).split("  <recv response=\"100\"")[0] + '  <recv response="403"/>\n</scenario>\n'
    result = run_sipp(tmp_path, xml, sip_port, free_udp_port())
    assert result.returncode == 0, f"expected 403: {result.stdout[-1500:]} {result.stderr[-1500:]}"
