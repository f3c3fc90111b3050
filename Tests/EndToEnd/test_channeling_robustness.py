"""Channeling bad input, limits and throttling (conformance 67-72; channeling-api.md §1).

After every bad-input case a second, unrelated session must still get Alive answers and the server must be alive.
"""

import json
import time
import uuid

import pytest
from websockets.exceptions import ConnectionClosed

from channeling_helpers import Clients, RawWS, m_alive, m_signal, pad_to
from conftest import default_conf, stats

MIB = 1 << 20


@pytest.fixture(scope="module")
def srv(rooms_module):
    return rooms_module(default_conf())


@pytest.fixture
def clients():
    c = Clients()
    yield c
    c.close()


@pytest.fixture
def bystander(srv, clients):
    """A session in a room with the victim's peer; checked after each case."""
    return clients(srv)


def healthy(srv, *cs):
    assert srv.alive(), srv.log()[-3000:]
    for c in cs:
        c.alive_ok()


# -- 67: invalid JSON ---------------------------------------------------------------------------------------------------

BAD_TEXT = [
    "", " ", "{", "}", "[", "null", "true", "42", '"Alive"', "[]", "{}", '{"Type":', "{'Type':'Alive'}",
    '{"Type":"Alive","Alive":{"Type":"Alive","Alive":1},"Iid":"x"', '{"Type":"Alive"}}',
    '{"Type":"Alive","Alive":{"Type":"Alive","Alive":1},"Iid":"x"} trailing',
    "\u0000", "\ufeff{}", "NaN", '{"Type":"Alive","Alive":{"Alive":NaN},"Iid":"x"}',
    '{"Type":"Alive","Alive":{"Alive":1e400},"Iid":"x"}',
]


@pytest.mark.parametrize("text", BAD_TEXT, ids=range(len(BAD_TEXT)))
def test_67_invalid_json(srv, clients, bystander, text):
    a = clients(srv)
    a.send_text(text)
    a.expect_nothing(0.4)
    healthy(srv, a, bystander)


# -- 69: wrong field types, per message type ---------------------------------------------------------------------------

def wrong_types(b):
    return [
        {"Type": 5},
        {"Type": None, "Iid": "n"},
        {"Type": "Alive", "Alive": {"Type": "Alive", "Alive": 1}, "Iid": 7},
        {"Type": "Alive", "Alive": {"Alive": "x"}, "Iid": "a"},
        {"Type": "Alive", "Alive": "x", "Iid": "a"},
        {"Type": "Alive", "Alive": {"Type": 1, "Alive": 1}, "Iid": "a"},
        {"Type": "Alive", "Alive": {"Type": "Alive", "Alive": 18446744073709551616}, "Iid": "a"},
        {"Type": "Alive", "Alive": {"Type": "Alive", "Alive": 1}, "Hello": 5, "Iid": "a"},  # wrong type elsewhere
        {"Type": "Self", "Self": {}, "Iid": ["s"]},
        {"Type": "Hello", "Hello": "x", "Iid": "h"},
        {"Type": "Hello", "Hello": {"Name": 5}, "Iid": "h"},
        {"Type": "Hello", "Hello": {"Name": "r", "Ua": ["x"]}, "Iid": "h"},
        {"Type": "Hello", "Hello": {"Name": "r", "Credentials": "1234"}, "Iid": "h"},
        {"Type": "Hello", "Hello": {"Name": "r", "Credentials": {"PIN": 1234}}, "Iid": "h"},
        {"Type": "Room", "Room": {"Name": 5}, "Iid": "r"},
        {"Type": "Room", "Room": [], "Iid": "r"},
        {"Type": "Offer", "Offer": {"Type": "Offer", "To": 5, "Offer": {"sdp": "x"}}},
        {"Type": "Offer", "Offer": "x"},
        {"Type": "Answer", "Answer": {"Type": "Answer", "To": [b], "Answer": {}}},
        {"Type": "Candidate", "Candidate": {"Type": "Candidate", "To": {"x": b}, "Candidate": {}}},
        {"Type": "Bye", "Bye": {"Type": "Bye", "To": True, "Bye": None}},
        {"Type": "Chat", "Chat": {"To": 1, "Type": "Chat", "Chat": {"Message": "x"}}},
        {"Type": "Chat", "Chat": {"To": b, "Type": "Chat", "Chat": {"Message": 5}}},
        {"Type": "Chat", "Chat": {"To": b, "Type": "Chat", "Chat": {"Message": "x", "NoEcho": "yes"}}},
        {"Type": "Chat", "Chat": {"To": b, "Type": "Chat", "Chat": {"Message": "x", "Mid": 5}}},
        {"Type": "Chat", "Chat": {"To": b, "Type": "Chat", "Chat": {"Message": "x", "Status": "typing"}}},
        {"Type": "Chat", "Chat": {"To": b, "Type": "Chat", "Chat": {"Message": "x", "Status": {"SeenMids": "m"}}}},
        {"Type": "Chat", "Chat": {"To": b, "Type": "Chat", "Chat": {"Status": {"FileInfo": {"size": "big"}}}}},
        {"Type": "Chat", "Chat": {"To": b, "Type": "Chat", "Chat": {"Status": {"ContactRequest": {"Success": 1}}}}},
        {"Type": "Status", "Status": "x"},
        {"Type": "Status", "Status": [1, 2]},
        {"Type": "Conference", "Conference": {"Id": "c", "Type": "Conference", "Conference": b}},
        {"Type": "Conference", "Conference": {"Id": "c", "Type": "Conference", "Conference": [1, b]}},
        {"Type": "Sessions", "Sessions": {"Type": "Sessions", "Sessions": {"Type": "session", "Token": 5}}, "Iid": "s"},
        {"Type": "Sessions", "Sessions": "x", "Iid": "s"},
        {"Type": "Authentication", "Authentication": {"Authentication": {"Userid": 1, "Nonce": "n"}}, "Iid": "a"},
        {"Type": "Authentication", "Authentication": 5, "Iid": "a"},
        {"Type": "Users", "Iid": 1.5},
    ]


N_WRONG = len(wrong_types("x"))


@pytest.mark.parametrize("idx", range(N_WRONG))
def test_69_wrong_field_types_dropped(srv, clients, idx):
    a, b = clients(srv), clients(srv)
    room = f"w-{uuid.uuid4().hex[:8]}"
    a.join(room)
    b.join(room)
    a.drain(0.2)
    doc = wrong_types(b.id)[idx]
    a.send(doc)
    a.expect_nothing(0.4)
    b.expect_nothing(0.1)
    healthy(srv, a, b)
    # nothing changed: both still in the room
    assert {u["Id"] for u in b.users()["Users"]} == {a.id, b.id}


def test_null_fields_are_empty(srv, clients):
    a = clients(srv)
    a.send({"Type": "Alive", "Alive": {"Type": "Alive", "Alive": 5}, "Iid": None, "Hello": None})
    env = a.recv()
    assert env["Data"] == {"Type": "Alive", "Alive": 5} and "Iid" not in env
    # unknown keys are ignored
    a.send({"Type": "Alive", "Alive": {"Type": "Alive", "Alive": 6, "Zzz": [1]}, "Iid": "u", "Extra": {"x": 1}})
    assert a.recv()["Data"] == {"Type": "Alive", "Alive": 6}


def test_alive_max_uint64_echoed_exactly(srv, clients):
    a = clients(srv)
    n = 18446744073709551615
    frame = a.request(m_alive(n))
    assert frame["Data"]["Alive"] == n


# -- 70: binary frames --------------------------------------------------------------------------------------------------

def test_70_binary_frames_ignored(srv, clients, bystander):
    a = clients(srv)
    a.conn.send(json.dumps(m_alive(1, "bin")).encode())  # valid JSON, but binary: ignored
    a.conn.send(b"\x00\xff" * 1000)
    a.expect_nothing(0.5)
    healthy(srv, a, bystander)


def test_invalid_utf8_text_frame(srv, clients, bystander):
    raw = RawWS(srv.port)
    try:
        raw.read_frame(5)  # Self
        raw.send_frame(0x1, b'{"Type":"Alive","Alive":{"Type":"Alive","Alive":1},"Iid":"\xff\xfe"}')
        # the server may close (1007) or ignore the frame; it must not crash
        time.sleep(0.3)
    finally:
        raw.close()
    healthy(srv, bystander)


def test_fragmented_message_reassembled(srv, clients):
    a = clients(srv)
    text = json.dumps(m_alive(77, "frag"))
    a.conn.send(iter([text[:5], text[5:20], text[20:]]))
    env = a.recv()
    assert env["Iid"] == "frag" and env["Data"]["Alive"] == 77


# -- 71: size limit -----------------------------------------------------------------------------------------------------

def test_71_exactly_one_mib_is_processed(srv, clients, bystander):
    a = clients(srv)
    text = pad_to(m_alive(71, "big"), MIB)
    assert len(text.encode()) == MIB
    a.send_text(text)
    env = a.recv(10)
    assert env["Iid"] == "big" and env["Data"] == {"Type": "Alive", "Alive": 71}
    healthy(srv, a, bystander)


def test_71_one_byte_over_closes_1009(srv, clients, bystander):
    a, b = clients(srv), clients(srv)
    room = f"big-{uuid.uuid4().hex[:8]}"
    a.join(room)
    b.join(room)
    a.drain(0.2)
    text = pad_to(m_alive(72, "big"), MIB + 1)
    a.send_text(text)
    with pytest.raises(ConnectionClosed) as ei:
        while True:
            a.conn.recv(timeout=10)
    assert ei.value.rcvd is not None and ei.value.rcvd.code == 1009, ei.value
    # the other member sees A disconnect, and keeps working
    assert b.recv_type("Left")["Data"] == {"Type": "Left", "Id": a.id, "Status": "hard"}
    healthy(srv, b, bystander)


def test_71_big_offer_forwarded(srv, clients):
    a, b = clients(srv), clients(srv)
    doc = m_signal("Offer", b.id, {"sdp": "", "type": "offer"})
    base = len(json.dumps(doc, separators=(",", ":")).encode())
    doc["Offer"]["Offer"]["sdp"] = "s" * (MIB - base)
    text = json.dumps(doc, separators=(",", ":"))
    assert len(text.encode()) == MIB
    a.send_text(text)
    env = b.recv(10)
    assert env["Data"]["Offer"]["sdp"] == "s" * (MIB - base)


def test_71_fragmented_message_over_limit(srv, clients, bystander):
    a = clients(srv)
    text = pad_to(m_alive(73, "fragbig"), MIB + 1)
    chunk = 64 * 1024
    a.conn.send(iter([text[i:i + chunk] for i in range(0, len(text), chunk)]))
    with pytest.raises(ConnectionClosed) as ei:
        while True:
            a.conn.recv(timeout=10)
    assert ei.value.rcvd is not None and ei.value.rcvd.code == 1009, ei.value
    healthy(srv, bystander)


# -- deep nesting, floods -----------------------------------------------------------------------------------------------

def test_deeply_nested_json(srv, clients, bystander):
    a = clients(srv)
    depth = 200_000
    text = ('{"Type":"Offer","Offer":{"Type":"Offer","To":"nobody","Offer":{"x":' + "[" * depth + "]" * depth
            + "}}}")
    a.send_text(text)
    a.send_text('{"Type":"Status","Status":{"Type":"Status","Status":' + '{"a":' * 100_000 + "1" + "}" * 100_000
                + "}}")
    a.expect_nothing(0.5)
    healthy(srv, a, bystander)


def test_moderate_nesting_forwarded(srv, clients):
    a, b = clients(srv), clients(srv)
    inner = {"sdp": "x"}
    cur = inner
    for _ in range(100):
        cur["n"] = {}
        cur = cur["n"]
    a.send(m_signal("Offer", b.id, inner))
    assert b.recv()["Data"]["Offer"] == inner


def test_flood_of_garbage_is_delayed_not_fatal(srv, clients, bystander):
    a = clients(srv)
    for i in range(60):
        a.send_text("{garbage" + str(i))
    # another connection is not throttled by A's flood
    t0 = time.monotonic()
    bystander.alive_ok()
    assert time.monotonic() - t0 < 1.0
    a.alive_ok(timeout=10)
    healthy(srv, a, bystander)


def test_many_connections_open_and_close(srv, bystander):
    before = stats(srv)["hub"]["connections"]
    cs = Clients()
    try:
        for _ in range(40):
            cs(srv)
        assert stats(srv)["hub"]["connections"] >= before + 40
    finally:
        cs.close()
    deadline = time.monotonic() + 5
    while stats(srv)["hub"]["connections"] != before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stats(srv)["hub"]["connections"] == before
    healthy(srv, bystander)


def test_abrupt_tcp_close_mid_frame(srv, bystander):
    raw = RawWS(srv.port)
    raw.read_frame(5)
    # announce a 1000-byte masked text frame, send 10 bytes, vanish
    raw.sock.sendall(bytes([0x81, 0x80 | 126]) + (1000).to_bytes(2, "big") + b"\0\0\0\0" + b"x" * 10)
    raw.close()
    time.sleep(0.2)
    healthy(srv, bystander)


@pytest.mark.parametrize("token", ["", "%", "a" * 4000, "..%2F..", "eyJ9", "\u00e9"])
def test_forged_resume_tokens(srv, clients, token):
    c = clients(srv, token=token.encode("utf-8").decode("latin-1") if token == "\u00e9" else token)
    assert c.me["Userid"] == "" and c.id
    healthy(srv, c)


def test_token_from_other_server_is_not_accepted(srv, rooms_module, clients):
    other = rooms_module(default_conf())  # its own generated secrets
    x = clients(other)
    c = clients(srv, token=x.token)
    assert c.id != x.id and c.sid != x.sid
    healthy(srv, c)


# -- 72: throttle -------------------------------------------------------------------------------------------------------

def test_72_throttle_45_alives(srv, clients, bystander):
    a = clients(srv)
    t0 = time.monotonic()
    for i in range(45):
        a.send(m_alive(i, f"t{i}"))
    times = {}
    deadline = t0 + 6
    while len(times) < 45 and time.monotonic() < deadline:
        env = a.recv(max(0.01, deadline - time.monotonic()))
        assert env["Data"]["Type"] == "Alive"
        times[env["Iid"]] = time.monotonic() - t0
    assert len(times) == 45, sorted(times)
    order = [int(k[1:]) for k, _ in sorted(times.items(), key=lambda kv: kv[1])]
    assert order == list(range(45)), order  # in order, none lost
    assert times["t19"] < 0.7, times["t19"]           # the first 20 at once
    assert 0.8 <= times["t20"] <= 1.5, times["t20"]   # the 21st waits for the window
    assert 1.7 <= times["t44"] <= 2.7, times["t44"]   # the last after about 2 s
    healthy(srv, bystander)
