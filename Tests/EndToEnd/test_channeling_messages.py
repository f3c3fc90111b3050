"""Channeling: every message type between two and three sessions (conformance 61, 64-66, 74-81, 88-91, 94,
98-105, 109, 112; stats 41-42; channeling-api.md §2, §4, §6, §7)."""

import re
import time
import uuid
from datetime import datetime

import pytest

from channeling_helpers import (
    Clients,
    data_type,
    m_alive,
    m_chat,
    m_conference,
    m_hello,
    m_room,
    m_sessions,
    m_signal,
    m_status,
    session_ids,
)
from conftest import default_conf, poll, stats


@pytest.fixture(scope="module")
def srv(rooms_module):
    return rooms_module(default_conf())


@pytest.fixture
def clients():
    c = Clients()
    yield c
    c.close()


def room_name(prefix="r"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def pair(srv, clients, room=None):
    """A and B joined to the same fresh room; B's Joined already consumed by A."""
    room = room or room_name()
    a, b = clients(srv), clients(srv)
    a.join(room)
    b.join(room)
    a.recv_until(lambda e: e["Data"].get("Type") == "Joined" and e["Data"]["Id"] == b.id)
    return a, b, room


# -- Self, Alive (61, 74) --------------------------------------------------------------------------------------------

def test_61_self_request_with_iid(srv, clients):
    a = clients(srv)
    a.send({"Type": "Self", "Self": {}, "Iid": "s"})
    env = a.recv()
    assert env["Iid"] == "s", env
    assert env["From"] == a.id and "To" not in env and "A" not in env
    d = env["Data"]
    assert d["Type"] == "Self" and d["Id"] == a.id and d["Sid"] == a.sid
    assert d["Token"] and d["ApiVersion"] == 1.4
    assert isinstance(d["Turn"], dict) and isinstance(d["Stun"], list)


def test_61_self_without_iid_has_no_iid(srv, clients):
    a = clients(srv)
    a.send({"Type": "Self", "Self": {}})
    env = a.recv()
    assert env["Data"]["Type"] == "Self" and "Iid" not in env, env


def test_74_alive_echo(srv, clients):
    a = clients(srv)
    a.send({"Type": "Alive", "Alive": {"Type": "Alive", "Alive": 123}, "Iid": "x"})
    env = a.recv()
    assert env == {"Data": {"Type": "Alive", "Alive": 123}, "From": a.id, "Iid": "x"}


def test_alive_variants(srv, clients):
    a = clients(srv)
    # Type echoed as sent (empty), no Iid → reply without Iid
    a.send({"Type": "Alive", "Alive": {"Type": "", "Alive": 1700000000000}})
    env = a.recv()
    assert env == {"Data": {"Type": "", "Alive": 1700000000000}, "From": a.id}
    # missing payload → no reply; negative / fractional → dropped
    a.send({"Type": "Alive", "Iid": "none"})
    a.send({"Type": "Alive", "Alive": {"Type": "Alive", "Alive": -1}, "Iid": "neg"})
    a.send({"Type": "Alive", "Alive": {"Type": "Alive", "Alive": 1.5}, "Iid": "frac"})
    a.expect_nothing(0.7)
    a.alive_ok()


# -- Hello / Welcome / Joined / Left (75-81) ---------------------------------------------------------------------------

def test_76_welcome_shape(srv, clients):
    a = clients(srv)
    room = room_name()
    a.send(m_hello(room, iid="hh", ua="ua-A"))
    env = a.recv()
    assert env["Iid"] == "hh" and env["From"] == a.id and "A" not in env
    d = env["Data"]
    assert d["Type"] == "Welcome"
    assert d["Room"] == {"Type": "Room", "Name": room, "Credentials": None}
    assert len(d["Users"]) == 1
    u = d["Users"][0]
    assert u["Type"] == "Online" and u["Id"] == a.id and u["Ua"] == "ua-A" and u["Prio"] == 100
    assert "Userid" not in u and "Status" not in u
    assert u.get("Rev") == 1


def test_75_legacy_id_field(srv, clients):
    a, b = clients(srv), clients(srv)
    room = room_name("foobar")
    w = a.hello(room, legacy_id=True)
    assert w["Type"] == "Welcome" and w["Room"]["Name"] == room
    w2 = b.join(room)
    assert set(session_ids(w2["Users"])) == {a.id, b.id}


def test_77_joined_broadcast(srv, clients):
    a, b = clients(srv), clients(srv)
    room = room_name()
    a.join(room, ua="ua-A")
    wb = b.join(room, ua="ua-B")
    assert set(session_ids(wb["Users"])) == {a.id, b.id}
    env = a.recv_type("Joined")
    assert env["From"] == b.id and env["A"] and "To" not in env and "Iid" not in env
    d = env["Data"]
    assert d == {"Type": "Joined", "Id": b.id, "Ua": "ua-B", "Prio": 100}
    b.expect_nothing(0.3)  # the joiner does not get its own Joined


def test_three_sessions_see_each_other(srv, clients):
    room = room_name()
    a, b, c = clients(srv), clients(srv), clients(srv)
    a.join(room)
    b.join(room)
    a.recv_type("Joined")
    wc = c.join(room)
    assert set(session_ids(wc["Users"])) == {a.id, b.id, c.id}
    for x in (a, b):
        assert x.recv_type("Joined")["Data"]["Id"] == c.id
    # Status from C reaches A and B
    c.send(m_status({"displayName": "Carol", "buddyPicture": None, "message": None}))
    for x in (a, b):
        env = x.recv_type("Status")
        assert env["From"] == c.id and env["Data"]["Status"]["displayName"] == "Carol"
    # room chat from B reaches A and C, not B
    b.send(m_chat("", {"Message": "hi all", "NoEcho": True}))
    for x in (a, c):
        env = x.recv_type("Chat")
        assert env["From"] == b.id and env["Data"]["To"] == "" and env["Data"]["Chat"]["Message"] == "hi all"
    b.expect_nothing(0.3)
    # signaling between every ordered pair
    for s in (a, b, c):
        for r in (a, b, c):
            if s is r:
                continue
            s.send(m_signal("Offer", r.id, {"sdp": f"o-{s.id[:6]}", "type": "offer"}))
            env = r.recv_type("Offer")
            assert env["From"] == s.id and env["Data"]["Offer"]["sdp"] == f"o-{s.id[:6]}"
            r.send(m_signal("Answer", s.id, {"sdp": "ans", "type": "answer"}))
            assert s.recv_type("Answer")["From"] == r.id
            s.send(m_signal("Candidate", r.id, {"candidate": "c", "sdpMid": "0", "sdpMLineIndex": 0}))
            assert r.recv_type("Candidate")["From"] == s.id
    # the third party never sees unicasts
    for x in (a, b, c):
        x.expect_nothing(0.2)
    # C leaves: A and B get Left soft
    c.send({"Type": "Leave", "Leave": {}})
    for x in (a, b):
        d = x.recv_type("Left")["Data"]
        assert d == {"Type": "Left", "Id": c.id, "Status": "soft"}
    wa = a.users()
    assert set(session_ids(wa["Users"])) == {a.id, b.id}


def test_78_hello_other_room(srv, clients):
    a, b, room = pair(srv, clients)
    room2 = room_name()
    c = clients(srv)
    c.join(room2)
    a.join(room2)
    env = b.recv_type("Left")
    assert env["Data"] == {"Type": "Left", "Id": a.id, "Status": "soft"} and env["From"] == a.id and env["A"]
    assert c.recv_type("Joined")["Data"]["Id"] == a.id


def test_79_failing_hello_still_leaves(srv, clients):
    a, b, room = pair(srv, clients)
    # create a PIN room with a third session
    p = clients(srv)
    pin_room = room_name("pin")
    p.join(pin_room, credentials={"PIN": "1"})
    err = a.hello(pin_room)
    assert err["Type"] == "Error" and err["Code"] == "authorization_required"
    assert b.recv_type("Left")["Data"] == {"Type": "Left", "Id": a.id, "Status": "soft"}
    p.expect_nothing(0.3)  # no Joined for a failed join
    assert a.users()["Code"] == "not_in_room"


def test_hello_same_room_rejoins(srv, clients):
    a, b, room = pair(srv, clients)
    w = a.join(room)
    assert set(session_ids(w["Users"])) == {a.id, b.id}
    assert b.recv_type("Joined")["Data"]["Id"] == a.id


def test_80_leave(srv, clients):
    a, b, room = pair(srv, clients)
    a.send({"Type": "Leave", "Leave": {}})
    assert b.recv_type("Left")["Data"] == {"Type": "Left", "Id": a.id, "Status": "soft"}
    a.expect_nothing(0.3)
    d = a.users()
    assert d["Type"] == "Error" and d["Code"] == "not_in_room" and d["Message"]
    a.send({"Type": "Leave", "Leave": {}})  # outside a room: nothing
    a.expect_nothing(0.3)
    b.expect_nothing(0.1)
    assert session_ids(b.users()["Users"]) == [b.id]


def test_81_disconnect_left_hard(srv, clients):
    a, b, room = pair(srv, clients)
    a.close()
    env = b.recv_type("Left")
    assert env["Data"] == {"Type": "Left", "Id": a.id, "Status": "hard"} and env["From"] == a.id


def test_users_list(srv, clients):
    a, b, room = pair(srv, clients)
    env = b.request({"Type": "Users", "Users": {}})
    assert env["From"] == b.id
    d = env["Data"]
    assert d["Type"] == "Users"
    assert [u["Type"] for u in d["Users"]] == ["Online", "Online"]
    assert set(session_ids(d["Users"])) == {a.id, b.id}


# -- Room update (88-91) -----------------------------------------------------------------------------------------------

def test_88_room_sets_pin(srv, clients):
    a, b, room = pair(srv, clients)
    env = a.request(m_room(room, {"PIN": "5555"}))
    assert env["Data"] == {"Type": "Room", "Name": room, "Credentials": {"PIN": "5555"}}
    got = b.recv_type("Room")
    assert got["Data"] == {"Type": "Room", "Name": room, "Credentials": {"PIN": "5555"}}
    assert got["From"] == a.id and got["A"]
    c = clients(srv)
    assert c.hello(room)["Code"] == "authorization_required"
    assert c.hello(room, credentials={"PIN": "1234"})["Code"] == "invalid_credentials"
    assert c.hello(room, credentials={"PIN": "5555"})["Type"] == "Welcome"


def test_89_room_pin_removed_and_kept(srv, clients):
    a = clients(srv)
    room = room_name()
    a.join(room, credentials={"PIN": "77"})
    env = a.request(m_room(room))  # no Credentials: unchanged
    assert env["Data"] == {"Type": "Room", "Name": room, "Credentials": None}
    b = clients(srv)
    assert b.hello(room)["Code"] == "authorization_required"
    env = a.request(m_room(room, {"PIN": ""}))
    assert env["Data"]["Credentials"] == {"PIN": ""}
    assert b.hello(room)["Type"] == "Welcome"


def test_90_room_errors(srv, clients):
    a = clients(srv)
    d = a.request(m_room("x"))["Data"]
    assert d["Type"] == "Error" and d["Code"] == "not_in_room"
    room = room_name()
    a.join(room)
    d = a.request(m_room(room + "-other"))["Data"]
    assert d["Code"] == "not_in_room"
    d = a.request(m_room(room, room_type="Conference"))["Data"]
    assert d["Code"] == "not_in_room"
    d = a.request({"Type": "Room"})["Data"]
    assert d["Type"] == "Error" and d["Code"] == "bad_request"
    a.alive_ok()


def test_91_room_type_is_default_type(srv, clients):
    a = clients(srv)
    room = room_name()
    a.join(room)
    d = a.request(m_room(room, room_type="Room"))["Data"]
    assert d == {"Type": "Room", "Name": room, "Credentials": None}


# -- Status (112) ------------------------------------------------------------------------------------------------------

def test_112_status_broadcast(srv, clients):
    a, b, room = pair(srv, clients)
    rev0 = [u for u in b.users()["Users"] if u["Id"] == a.id][0]["Rev"]
    st = {"displayName": "Alice", "buddyPicture": None, "message": "hello"}
    a.send(m_status(st))
    env = b.recv_type("Status")
    assert env["From"] == a.id and env["A"] and "To" not in env and "Iid" not in env
    assert env["Data"] == {"Type": "Status", "Id": a.id, "Rev": rev0 + 1, "Prio": 100, "Status": st}
    a.expect_nothing(0.3)
    # replaced, not merged; Users shows it
    a.send(m_status({"displayName": "A2"}))
    assert b.recv_type("Status")["Data"]["Status"] == {"displayName": "A2"}
    entry = [u for u in b.users()["Users"] if u["Id"] == a.id][0]
    assert entry["Status"] == {"displayName": "A2"} and entry["Rev"] == rev0 + 2
    # null status → Status omitted
    a.send(m_status(None))
    d = b.recv_type("Status")["Data"]
    assert "Status" not in d and d["Rev"] == rev0 + 3
    # missing payload: ignored
    a.send({"Type": "Status"})
    b.expect_nothing(0.4)
    a.alive_ok()


def test_status_outside_room_is_kept_for_later(srv, clients):
    a, b = clients(srv), clients(srv)
    room = room_name()
    b.join(room)
    a.send(m_status({"displayName": "early"}))
    w = a.join(room)
    entry = [u for u in w["Users"] if u["Id"] == a.id][0]
    assert entry["Status"] == {"displayName": "early"}
    assert b.recv_type("Joined")["Data"]["Status"] == {"displayName": "early"}


# -- Offer/Answer/Candidate/Bye (98-101) -------------------------------------------------------------------------------

def test_98_offer_forwarded(srv, clients):
    a, b = clients(srv), clients(srv)  # no room needed
    inner = {"sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n", "type": "offer"}
    a.send(m_signal("Offer", b.id, inner))
    env = b.recv()
    assert set(env) == {"Data", "From", "To", "A"}, env
    assert env["Data"] == {"Type": "Offer", "To": b.id, "Offer": inner}
    assert env["From"] == a.id and env["To"] == b.id and env["A"]
    a.expect_nothing(0.3)


@pytest.mark.parametrize("kind,inner", [
    ("Answer", {"sdp": "v=0", "type": "answer"}),
    ("Candidate", {"candidate": "candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host", "sdpMid": "0",
                   "sdpMLineIndex": 0}),
    ("Bye", {"Reason": "busy"}),
    ("Bye", None),
])
def test_signal_kinds_forwarded(srv, clients, kind, inner):
    a, b = clients(srv), clients(srv)
    a.send(m_signal(kind, b.id, inner))
    env = b.recv()
    assert env["Data"] == {"Type": kind, "To": b.id, kind: inner}
    assert env["From"] == a.id and env["To"] == b.id and env["A"]


def test_100_private_keys_arrive_unchanged(srv, clients):
    a, b = clients(srv), clients(srv)
    inner = {"sdp": "x", "type": "offer", "_token": "tok-1", "_id": "id-2", "_conference": "conf-3",
             "nested": {"list": [1, 2.5, "s", None, True, {"k": []}], "e": {}}, "unicode": "ü€😀\"\\"}
    for kind in ("Offer", "Answer", "Candidate"):
        a.send(m_signal(kind, b.id, inner))
        assert b.recv()["Data"][kind] == inner


def test_99_dropped_signals(srv, clients):
    a, b = clients(srv), clients(srv)
    a.send(m_signal("Offer", b.id))                 # no inner Offer
    a.send(m_signal("Offer", b.id, "not-an-object"))
    a.send(m_signal("Answer", b.id, None))
    a.send(m_signal("Answer", b.id, [1, 2]))
    a.send(m_signal("Candidate", b.id, None))      # Candidate null
    a.send(m_signal("Candidate", b.id))            # Candidate missing
    a.send({"Type": "Bye"})                        # no outer payload
    b.expect_nothing(0.7)
    a.expect_nothing(0.1)
    a.send(m_signal("Bye", b.id, None))
    assert b.recv()["Data"] == {"Type": "Bye", "To": b.id, "Bye": None}
    a.alive_ok()
    b.alive_ok()


def test_101_unknown_recipient(srv, clients):
    a, b = clients(srv), clients(srv)
    ghost = "nobody-" + uuid.uuid4().hex
    a.send(m_signal("Offer", ghost, {"sdp": "x", "type": "offer"}))
    a.send(m_signal("Candidate", ghost, {"candidate": "x"}))
    a.send(m_signal("Bye", ghost, {"Reason": "abort"}))
    a.send(m_chat(ghost, {"Message": "x", "NoEcho": True}))
    a.send(m_conference([ghost]))
    a.expect_nothing(0.6)
    b.expect_nothing(0.1)
    a.alive_ok()


def test_data_type_forced_to_kind(srv, clients):
    a, b = clients(srv), clients(srv)
    a.send({"Type": "Offer", "Offer": {"Type": "Answer", "To": b.id, "Offer": {"sdp": "x"}}})
    env = b.recv()
    assert env["Data"]["Type"] == "Offer" and env["Data"]["Offer"] == {"sdp": "x"}


# -- Chat (102-105) ----------------------------------------------------------------------------------------------------

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def test_102_private_chat_with_mid(srv, clients):
    a, b = clients(srv), clients(srv)
    a.send(m_chat(b.id, {"Mid": "m1", "Message": "hi", "NoEcho": True}))
    env = b.recv_type("Chat")
    assert env["From"] == a.id and env["To"] == b.id and env["A"]
    d = env["Data"]
    assert d["To"] == b.id and d["Type"] == "Chat"
    c = d["Chat"]
    assert c["Message"] == "hi" and c["Mid"] == "m1" and c["NoEcho"] is True
    assert RFC3339.match(c["Time"]), c["Time"]
    t = datetime.fromisoformat(c["Time"].replace("Z", "+00:00"))
    assert abs(t.timestamp() - time.time()) < 10
    sent = a.recv_type("Chat")
    assert sent["From"] == a.id and sent["To"] == a.id
    assert sent["Data"]["To"] == b.id
    sc = sent["Data"]["Chat"]
    assert sc["Mid"] == "m1" and sc["Status"] == {"State": "sent"} and sc["Message"] == ""
    a.expect_nothing(0.3)


def test_102_sent_status_also_for_unknown_recipient(srv, clients):
    a = clients(srv)
    ghost = "ghost-" + uuid.uuid4().hex
    a.send(m_chat(ghost, {"Mid": "m9", "Message": "x", "NoEcho": True}))
    env = a.recv_type("Chat")
    assert env["Data"]["To"] == ghost and env["Data"]["Chat"]["Status"] == {"State": "sent"}


def test_103_echo_without_noecho(srv, clients):
    a, b = clients(srv), clients(srv)
    a.send(m_chat(b.id, {"Message": "echo me"}))
    echo = a.recv_type("Chat")
    assert echo["From"] == a.id and echo["To"] == a.id
    assert echo["Data"]["Chat"]["Message"] == "echo me" and echo["Data"]["To"] == b.id
    got = b.recv_type("Chat")
    assert got["Data"]["Chat"]["Message"] == "echo me"
    a.expect_nothing(0.3)  # no Mid → no "sent"


def test_104_room_chat(srv, clients):
    a, b, room = pair(srv, clients)
    c = clients(srv)  # not in the room
    a.send(m_chat("", {"Message": "to room", "NoEcho": True}))
    env = b.recv_type("Chat")
    assert env["From"] == a.id and "To" not in env and env["A"]
    assert env["Data"]["To"] == "" and env["Data"]["Chat"]["Message"] == "to room"
    a.expect_nothing(0.3)
    c.expect_nothing(0.1)
    # outside a room nobody gets it
    c.send(m_chat("", {"Message": "void", "NoEcho": True}))
    c.expect_nothing(0.3)
    a.expect_nothing(0.1)
    b.expect_nothing(0.1)


def test_105_chat_fields_filtered(srv, clients):
    a, b = clients(srv), clients(srv)
    a.send(m_chat(b.id, {"Message": "m", "NoEcho": True, "Extra": 1,
                         "Status": {"Typing": "start", "Bogus": "x"}}))
    c = b.recv_type("Chat")["Data"]["Chat"]
    assert "Extra" not in c
    assert c["Status"] == {"Typing": "start"}
    a.send(m_chat(b.id, {"Message": "", "NoEcho": True, "Status": {"SeenMids": ["a", "b"]}}))
    assert b.recv_type("Chat")["Data"]["Chat"]["Status"] == {"SeenMids": ["a", "b"]}
    a.send(m_chat(b.id, {"Message": "", "NoEcho": True, "Status": {"State": "delivered", "Mid": "m7"}}))
    assert b.recv_type("Chat")["Data"]["Chat"]["Status"] == {"State": "delivered", "Mid": "m7"}
    a.send(m_chat(b.id, {"Message": "file", "NoEcho": True, "Status": {
        "FileInfo": {"id": "f1", "chunks": 3, "name": "a.txt", "size": 40000, "type": "text/plain"}}}))
    fi = b.recv_type("Chat")["Data"]["Chat"]["Status"]["FileInfo"]
    assert fi == {"id": "f1", "chunks": 3, "name": "a.txt", "size": 40000, "type": "text/plain"}
    a.send(m_chat(b.id, {"Message": "", "NoEcho": True, "Status": {"AutoCall": {"Id": "x", "Type": "conference"}}}))
    assert b.recv_type("Chat")["Data"]["Chat"]["Status"]["AutoCall"] == {"Id": "x", "Type": "conference"}


def test_chat_missing_inner_is_ignored(srv, clients):
    a, b = clients(srv), clients(srv)
    a.send(m_chat(b.id, None))
    a.send({"Type": "Chat"})
    b.expect_nothing(0.5)
    a.expect_nothing(0.1)
    a.alive_ok()


# -- Conference in a normal room (94) ----------------------------------------------------------------------------------

def test_94_conference_forwarded_in_normal_room(srv, clients):
    a, b, room = pair(srv, clients)
    c = clients(srv)  # listed but not in the room: no membership check
    d = clients(srv)  # not listed
    a.send(m_conference([a.id, b.id, c.id], conf_id="cx"))
    for x in (b, c):
        env = x.recv_type("Conference")
        assert env["From"] == a.id and env["To"] == x.id and env["A"]
        assert env["Data"] == {"Id": "cx", "Type": "Conference", "Conference": [a.id, b.id, c.id]}
    a.expect_nothing(0.3)
    d.expect_nothing(0.1)


def test_94_conference_over_100_ids_dropped(srv, clients):
    a, b = clients(srv), clients(srv)
    ids = [b.id] + [f"x{i}" for i in range(100)]
    a.send(m_conference(ids))
    b.expect_nothing(0.5)
    ids = [b.id] + [f"x{i}" for i in range(99)]  # exactly 100: delivered
    a.send(m_conference(ids))
    assert b.recv_type("Conference")["Data"]["Conference"] == ids


# -- Sessions type session (109) ---------------------------------------------------------------------------------------

def test_109_sessions_by_attestation(srv, clients):
    a, b = clients(srv), clients(srv)
    b.send(m_signal("Offer", a.id, {"sdp": "x"}))
    att = a.recv_type("Offer")["A"]
    env = a.request(m_sessions("session", att))
    d = env["Data"]
    assert d["Type"] == "Sessions"
    assert d["Sessions"] == {"Token": att, "Type": "session"}
    assert len(d["Users"]) == 1
    u = d["Users"][0]
    assert u["Type"] == "" and u["Id"] == b.id and u["Prio"] == 100
    # garbage → bad_attestation; tampered → bad_attestation
    d = a.request(m_sessions("session", "garbage"))["Data"]
    assert d["Type"] == "Error" and d["Code"] == "bad_attestation"
    tampered = att[:-3] + ("AAA" if not att.endswith("AAA") else "BBB")
    assert a.request(m_sessions("session", tampered))["Data"]["Code"] == "bad_attestation"
    # unknown type → bad_request; no payload → bad_request
    assert a.request(m_sessions("foo", att))["Data"]["Code"] == "bad_request"
    assert a.request({"Type": "Sessions"})["Data"]["Code"] == "bad_request"
    # B gone → no_such_session
    b.close()
    assert poll(lambda: a.request(m_sessions("session", att))["Data"].get("Code") == "no_such_session", 3)


def test_attestation_is_stable_per_session(srv, clients):
    a, b, room = pair(srv, clients)
    a.send(m_chat(b.id, {"Message": "1", "NoEcho": True}))
    a.send(m_signal("Offer", b.id, {"sdp": "2"}))
    e1, e2 = b.recv_type("Chat"), b.recv_type("Offer")
    assert e1["A"] == e2["A"] and e1["A"]


# -- ignored and unknown types (68, 6.13) ------------------------------------------------------------------------------

@pytest.mark.parametrize("t", ["Screenshare", "Presentation", "YouTubeVideo", "Talking", "Welcome", "Joined", "Left",
                               "Error", "Nope", ""])
def test_68_ignored_types_with_iid(srv, clients, t):
    a, b, room = pair(srv, clients)
    a.send({"Type": t, t or "x": {"Type": t, "To": b.id}, "Iid": "ignored"})
    a.expect_nothing(0.4)
    b.expect_nothing(0.1)
    a.alive_ok()


def test_lowercase_keys_optional_but_harmless(srv, clients):
    """Other-case keys may be accepted (Go rules) or dropped; either way no error and the session stays usable."""
    a = clients(srv)
    a.send({"type": "alive", "alive": {"type": "Alive", "alive": 9}, "iid": "lc"})
    frames = a.drain(0.5)
    for f in frames:
        assert f["Data"].get("Type") != "Error", f
    a.alive_ok()


# -- resume (64-66) ----------------------------------------------------------------------------------------------------

def test_64_resume_after_close_same_identity(srv, clients):
    a = clients(srv)
    a.close()
    a2 = clients(srv, token=a.token)
    assert a2.id == a.id and a2.sid == a.sid and a2.me["Userid"] == ""
    a2.alive_ok()


def test_64_resume_does_not_restore_room(srv, clients):
    a, b, room = pair(srv, clients)
    a.close()
    assert b.recv_type("Left")["Data"]["Status"] == "hard"
    a2 = clients(srv, token=a.token)
    assert a2.users()["Code"] == "not_in_room"
    assert session_ids(b.users()["Users"]) == [b.id]


def test_65_resume_while_open_closes_old_without_left(srv, clients):
    a, b, room = pair(srv, clients)
    a2 = clients(srv, token=a.token)
    assert a2.id == a.id and a2.sid == a.sid
    # the new connection rejoins at once: B sees no Left at all (only a Joined)
    a2.join(room)
    frames = b.drain(4.0)  # longer than the grace period
    assert not [f for f in frames if f["Data"].get("Type") == "Left"], frames
    assert [f for f in frames if f["Data"].get("Type") == "Joined" and f["Data"]["Id"] == a.id], frames
    assert session_ids(b.users()["Users"]).count(a.id) == 1
    # the old socket really is gone; the new one works and gets room traffic
    b.send(m_chat("", {"Message": "after resume", "NoEcho": True}))
    assert a2.recv_type("Chat")["Data"]["Chat"]["Message"] == "after resume"
    a2.alive_ok()


def test_65_old_socket_is_closed(srv, clients):
    a = clients(srv)
    clients(srv, token=a.token)
    from websockets.exceptions import ConnectionClosed
    deadline = time.monotonic() + 5
    closed = False
    while time.monotonic() < deadline:
        try:
            a.conn.recv(timeout=0.5)
        except ConnectionClosed:
            closed = True
            break
        except TimeoutError:
            continue
    assert closed, "old connection still open after resume"


def test_66_no_ghost_after_resume_without_hello(srv, clients):
    a, b, room = pair(srv, clients)
    a.send(m_status({"displayName": "old"}))
    b.recv_type("Status")
    a2 = clients(srv, token=a.token)
    # no immediate Left (the resumed client gets a grace period to rejoin)
    early = b.drain(1.0)
    assert not [f for f in early if f["Data"].get("Type") == "Left" and f["Data"].get("Status") == "hard"], early

    def no_ghost():
        return a.id not in session_ids(b.users()["Users"])

    assert poll(no_ghost, 6.0, 0.25), b.users()
    # B is alone in the room now; A2 works and is in no room
    assert session_ids(b.users()["Users"]) == [b.id]
    assert a2.users()["Code"] == "not_in_room"
    # A2 can rejoin and is listed once
    a2.join(room)
    assert session_ids(b.users()["Users"]).count(a.id) == 1


def test_resume_keeps_disconnect_semantics(srv, clients):
    """After a resume the new connection's close gives the normal Left hard to room members."""
    a, b, room = pair(srv, clients)
    a2 = clients(srv, token=a.token)
    a2.join(room)
    b.recv_until(lambda e: e["Data"].get("Type") == "Joined" and e["Data"]["Id"] == a.id)
    a2.close()
    env = b.recv_until(lambda e: e["Data"].get("Type") == "Left")
    assert env["Data"] == {"Type": "Left", "Id": a.id, "Status": "hard"}


# -- stats (41, 42) ----------------------------------------------------------------------------------------------------

def test_41_stats_counters(srv, clients):
    before = stats(srv)["hub"]
    a = clients(srv)
    b = clients(srv)
    mid = stats(srv)["hub"]
    assert mid["count"] == before["count"] + 2
    assert mid["connections"] == before["connections"] + 2
    assert mid["sessions"] == mid["connections"]
    room = room_name()
    a.join(room)
    b.join(room)
    a.send(m_chat("", {"Message": "x", "NoEcho": True}))
    b.recv_type("Chat")
    after = stats(srv)["hub"]
    assert after["broadcastchatmessages"] == mid["broadcastchatmessages"] + 1
    assert after["rooms"] >= 1
    a.send(m_chat(b.id, {"Message": "x", "NoEcho": True}))
    b.recv_type("Chat")
    assert stats(srv)["hub"]["unicastchatmessages"] == after["unicastchatmessages"] + 1
    a.close()
    assert poll(lambda: stats(srv)["hub"]["connections"] == after["connections"] - 1, 3)
    assert stats(srv)["hub"]["count"] == after["count"]


def test_42_stats_details_idsinroom(srv, clients):
    a, b, room = pair(srv, clients)
    d = stats(srv, details=True)["hub"]
    assert set(d["idsinroom"][f"Room:{room}"]) == {a.id, b.id}
    assert a.id in d["sessionsbyid"] and b.id in d["sessionsbyid"]
    assert a.id in d["connectionsbyidx"].values()
    a.send({"Type": "Leave", "Leave": {}})
    b.recv_type("Left")
    d = stats(srv, details=True)["hub"]
    assert d["idsinroom"].get(f"Room:{room}", []) == [b.id]


# -- details of Hello and Error texts -----------------------------------------------------------------------------------

def test_hello_without_payload(srv, clients):
    a = clients(srv)
    env = a.request({"Type": "Hello"})
    assert env["Data"] == {"Type": "Error", "Code": "bad_request", "Message": "message did not contain Hello"}
    env = a.request({"Type": "Hello", "Hello": None})
    assert env["Data"]["Code"] == "bad_request"
    a.alive_ok()


def test_error_messages_for_not_in_room(srv, clients):
    a = clients(srv)
    assert a.users() == {"Type": "Error", "Code": "not_in_room",
                         "Message": "Cannot list users without a current room"}
    assert a.request(m_room("x"))["Data"] == {"Type": "Error", "Code": "not_in_room",
                                              "Message": "Cannot update other rooms"}


def test_ua_and_rev_stored_even_when_hello_fails(srv, clients):
    a, b, room = pair(srv, clients)
    rev1 = [u for u in b.users()["Users"] if u["Id"] == a.id][0]["Rev"]
    p = clients(srv)
    pin_room = room_name("pin")
    p.join(pin_room, credentials={"PIN": "x"})
    assert a.hello(pin_room, ua="ua-failed")["Code"] == "authorization_required"
    b.recv_type("Left")
    a.join(room, ua="ua-again")
    j = b.recv_type("Joined")["Data"]
    assert j["Ua"] == "ua-again" and "Rev" not in j
    entry = [u for u in b.users()["Users"] if u["Id"] == a.id][0]
    assert entry["Rev"] == rev1 + 2, (rev1, entry)


def test_66_left_soft_after_grace_when_not_rejoined(srv, clients):
    a, b, room = pair(srv, clients)
    clients(srv, token=a.token)
    t0 = time.monotonic()
    env = b.recv_until(lambda e: e["Data"].get("Type") == "Left", 8)
    assert env["Data"] == {"Type": "Left", "Id": a.id, "Status": "soft"}, env
    assert time.monotonic() - t0 >= 1.0, "Left came before any grace period"
    b.expect_nothing(0.5)  # exactly one Left
