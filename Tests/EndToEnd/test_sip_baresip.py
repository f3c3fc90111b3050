"""A real softphone in a room: baresip calls Rooms, types the PIN as RFC 4733 events, plays 440 Hz and records what it
hears; an aiortc participant of the room plays 1 kHz and records. Each recording must contain the other's tone and not
its own (mix-minus), checked by Goertzel power. Once with PCMU (narrowband, resampled 16 ↔ 8 kHz in the bridge) and
once with G.722 (wideband, no resampling)."""
import time

import pytest

from conftest import poll, stats
from sip_helpers import (BARESIP, BARESIP_MODULES, Baresip, free_port_pair, peer_result, relative_power, server_sip_log,
                         sip_conf, start_peer, tone_wav)

pytestmark = pytest.mark.skipif(BARESIP is None, reason="baresip is not installed (scripts/install-deps test)")


def phones_in_rooms(srv) -> int:
    return stats(srv)["sip"]["phonesInRooms"]


@pytest.mark.parametrize("codec, module, rate", [("PCMU", "g711", 8000), ("G722", "g722", 16000)])
def test_baresip_and_browser_hear_each_other_not_themselves(rooms, tmp_path, codec, module, rate):
    if not (BARESIP_MODULES / f"{module}.so").exists():
        pytest.skip(f"baresip has no {module} module")
    sip_port = free_port_pair()
    srv = rooms(sip_conf(sip_port, interDigitTimeout="2s"))
    wav = tmp_path / "tone440.wav"
    tone_wav(wav, 440, seconds=40, rate=rate)  # longer than the call: aufile goes silent at its end
    # The peer records until after the phone has hung up; its result is the last 4 s it heard of the phone.
    peer = start_peer(srv, "standup", tone=1000, seconds=20)
    phone = Baresip(tmp_path, wav, rate, codecs=(module,)).start()
    try:
        phone.command("dial", f"sip:rooms@127.0.0.1:{sip_port}")
        assert phone.wait_event("CALL_ESTABLISHED", 10), f"no call:\n{phone.log()[-3000:]}\n{server_sip_log(srv)}"
        time.sleep(1.0)  # into the welcome prompt; a digit interrupts it
        phone.send_digits("1234#")
        assert poll(lambda: phones_in_rooms(srv) == 1, timeout=10, interval=0.1), \
            f"the PIN typed on baresip did not get it into the room:\n{server_sip_log(srv)}\n{phone.log()[-2000:]}"
        joined = time.monotonic()
        time.sleep(7)
        phone.command("hangup")
        assert phone.wait_event("CALL_CLOSED", 5), phone.log()[-2000:]
        talked = time.monotonic() - joined
    finally:
        phone.stop()
    assert f"answered with {codec}" in srv.log(), server_sip_log(srv)
    assert f"Set audio decoder: {codec} {rate}Hz" in phone.log(), phone.log()[-3000:]
    assert poll(lambda: stats(srv)["sip"]["calls"] == 0, timeout=5), stats(srv)["sip"]

    heard = peer_result(peer)
    # The room hears the phone's 440 Hz; the SFU never sends the peer its own 1 kHz.
    assert heard["power"]["440.0"] > 0.3, heard
    assert heard["power"]["1000.0"] < 0.05, heard

    recorded_rate, recording = phone.heard()
    assert recorded_rate == rate
    # What baresip heard in its last 4 s in the room: the room's 1 kHz, not its own 440 Hz (mix-minus).
    last = recording[-int(min(4, talked - 1) * rate):]
    powers = {f: relative_power(last, f, rate) for f in (440, 1000)}
    assert powers[1000] > 0.3, f"{codec}: baresip heard {powers}"
    assert powers[440] < 0.05, f"{codec}: baresip heard itself: {powers}"
