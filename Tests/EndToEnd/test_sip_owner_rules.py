"""Conference owner rules on the phone side (docs/conferences.md, "Owner rules"): the owner dials in with the
conference's `ownerAccessId`, everyone else with its `accessId`. `waitForOwner`: callers wait (a "please wait" prompt,
not in the room) until the owner is in; `delOnOwnerLeave`: when the owner hangs up, the others hear a goodbye and get a
BYE, and the conference is deleted. Phones are sipp; what is in the room is read from the stats and the MX API."""
import time

import pytest

from conftest import poll, request, stats
from sip_helpers import SIPP, SippProcess, free_port_pair, free_udp_port, pcmu_tone_pcap, scenario, sip_conf, sipp_report

pytestmark = pytest.mark.skipif(SIPP is None, reason="sipp (Debian sip-tester) is not installed")


@pytest.fixture
def srv(rooms):
    port = free_port_pair()
    server = rooms(sip_conf(port, t1="100", interDigitTimeout="2s"))
    server.sip_port = port
    return server


def mx(srv, method: str, path: str, token: str, **kw):
    return request(method, srv.url + "/api/mx/" + path, headers={"Authorization": f"Bearer {token}"}, **kw)


def token(srv) -> str:
    auth = request("POST", srv.url + "/api/mx/auth", auth=("client1", "s3cret"),
                   data={"username": "alice", "password": "pw", "grant_type": "password"})
    assert auth.status_code == 200, auth.text
    return auth.json()["access_token"]


def conference(srv, t: str, **fields) -> dict:
    body = {"name": "Owner rules", "type": "Permanent", "startDate": 0, **fields}
    created = mx(srv, "POST", "conferences", t, json=body)
    assert created.status_code == 201, created.text
    return created.json()


def phones_in_rooms(srv) -> int:
    return stats(srv)["sip"]["phonesInRooms"]


def participants(srv, t: str, conference_id: str) -> int:
    return mx(srv, "GET", f"conferences/{conference_id}", t).json()["participantCount"]


def tone(tmp_path, seconds: float):
    path = tmp_path / f"tone-{seconds}.pcap"
    pcmu_tone_pcap(path, 440, seconds=seconds)
    return path


def test_owner_pin_is_generated_unique_and_checked(srv):
    t = token(srv)
    c = conference(srv, t, accessId=55500001, waitForOwner=True)
    assert c["ownerAccessId"] != c["accessId"] and 10_000_000 <= c["ownerAccessId"] <= 99_999_999, c
    # Without owner rules no owner PIN is made up; one given is kept.
    assert "ownerAccessId" not in conference(srv, t, accessId=55500002)
    assert conference(srv, t, accessId=55500003, ownerAccessId=55500004)["ownerAccessId"] == 55500004
    # An owner PIN is an access id like the others: unique across both kinds, not the conference's own.
    clash = mx(srv, "POST", "conferences", t, json={"name": "x", "type": "Permanent", "accessId": 55500005,
                                                   "ownerAccessId": 55500002})
    assert clash.status_code == 409 and clash.json()["field"] == "ownerAccessId", clash.text
    clash = mx(srv, "POST", "conferences", t, json={"name": "x", "type": "Permanent", "accessId": 55500004})
    assert clash.status_code == 409 and clash.json()["field"] == "accessId", clash.text
    same = mx(srv, "POST", "conferences", t, json={"name": "x", "type": "Permanent", "accessId": 55500006,
                                                  "ownerAccessId": 55500006})
    assert same.status_code == 400 and same.json()["field"] == "ownerAccessId", same.text
    bad = mx(srv, "POST", "conferences", t, json={"name": "x", "type": "Permanent", "accessId": 55500007,
                                                 "ownerAccessId": "12ab"})
    assert bad.status_code == 400 and bad.json()["field"] == "ownerAccessId", bad.text
    # A PUT that leaves the owner PIN out keeps the one handed out while an owner rule needs it.
    kept = mx(srv, "PUT", f"conferences/{c['Id']}", t, json={"name": "renamed", "type": "Permanent", "accessId": 55500001,
                                                           "waitForOwner": True})
    assert kept.status_code == 200 and kept.json()["ownerAccessId"] == c["ownerAccessId"], kept.text


def test_callers_wait_for_the_owner(srv, tmp_path):
    t = token(srv)
    c = conference(srv, t, accessId=55501234, waitForOwner=True)
    # The guest types the PIN at ~1.5 s, talks from ~6 s and hangs up at ~30 s.
    guest = SippProcess(tmp_path, scenario(["55501234"], tone_pcap=tone(tmp_path, 24), talk_ms=24000, display="Guest"),
                        srv.sip_port, free_udp_port(), timeout=60)
    owner = None
    try:
        assert poll(lambda: "waiting for the owner" in srv.log(), timeout=10), srv.log()[-3000:]
        time.sleep(4)  # long past the 'joining' prompt a guest without rules would have heard
        assert stats(srv)["sip"]["calls"] == 1 and phones_in_rooms(srv) == 0, stats(srv)["sip"]
        assert participants(srv, t, c["Id"]) == 0
        owner = SippProcess(tmp_path, scenario([str(c["ownerAccessId"])], tone_pcap=tone(tmp_path, 10), talk_ms=10000,
                                               display="Owner"), srv.sip_port, free_udp_port(), timeout=60)
        # The owner is seated after its PIN and 'joining'; the guest follows after its own 'joining'.
        assert poll(lambda: phones_in_rooms(srv) == 2, timeout=15, interval=0.1), (stats(srv)["sip"], srv.log()[-3000:])
        assert participants(srv, t, c["Id"]) == 2
        for name, phone in (("owner", owner), ("guest", guest)):
            result = phone.wait()
            assert result.returncode == 0, f"{name}:\n{sipp_report(result, srv)}"
    finally:
        guest.kill()
        if owner:
            owner.kill()
    # Without delOnOwnerLeave the conference stays.
    assert mx(srv, "GET", f"conferences/{c['Id']}", t).status_code == 200


def test_owner_leaving_ends_the_conference(srv, tmp_path):
    t = token(srv)
    c = conference(srv, t, accessId=55505678, delOnOwnerLeave=True)
    # The owner talks ~14 s after its PIN and hangs up (~20 s); the guest stays until Rooms sends BYE.
    owner = SippProcess(tmp_path, scenario([str(c["ownerAccessId"])], tone_pcap=tone(tmp_path, 14), talk_ms=14000,
                                           display="Owner"), srv.sip_port, free_udp_port(), timeout=60)
    time.sleep(1)
    guest = SippProcess(tmp_path, scenario(["55505678"], tone_pcap=tone(tmp_path, 30), hangup="rooms", display="Guest"),
                        srv.sip_port, free_udp_port(), timeout=60)
    try:
        assert poll(lambda: phones_in_rooms(srv) == 2, timeout=15, interval=0.1), (stats(srv)["sip"], srv.log()[-3000:])
        result = owner.wait()
        assert result.returncode == 0, f"owner:\n{sipp_report(result, srv)}"
        left = time.monotonic()
        result = guest.wait()
        assert result.returncode == 0, f"the guest got no BYE after the owner left:\n{sipp_report(result, srv)}"
        # Goodbye prompt (~4.5 s), then BYE.
        assert time.monotonic() - left < 12
    finally:
        owner.kill()
        guest.kill()
    assert "the owner left conference" in srv.log()
    assert poll(lambda: mx(srv, "GET", f"conferences/{c['Id']}", t).status_code == 404, timeout=5), "not deleted"
    assert poll(lambda: stats(srv)["sip"]["calls"] == 0, timeout=5), stats(srv)["sip"]
