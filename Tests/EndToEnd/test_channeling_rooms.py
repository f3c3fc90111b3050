"""Channeling rooms: PIN rooms, Conference rooms, global room, default room, join/creation authorization
(conformance 82-95, 97; channeling-api.md §5, §6.2, §6.4)."""

import uuid

import pytest

from channeling_helpers import Clients, m_chat, m_conference, m_hello, m_room, m_status, session_ids
from conftest import default_conf, register, stats


@pytest.fixture(scope="module")
def srv(rooms_module):
    return rooms_module(default_conf())


@pytest.fixture(scope="module")
def glob_srv(rooms_module):
    return rooms_module(default_conf({"app": {"globalRoom": "glob"}}))


@pytest.fixture(scope="module")
def nodefault(rooms_module):
    return rooms_module(default_conf({"app": {"defaultRoomEnabled": "false"}}))


@pytest.fixture(scope="module")
def authcreate(rooms_module):
    return rooms_module(default_conf({"app": {"authorizeRoomCreation": "true"}}))


@pytest.fixture(scope="module")
def authjoin(rooms_module):
    return rooms_module(default_conf({"app": {"authorizeRoomJoin": "true"}}))


@pytest.fixture(scope="module")
def authjoin_nousers(rooms_module):
    return rooms_module(default_conf({"app": {"authorizeRoomJoin": "true", "authorizeRoomCreation": "true"},
                                      "users": {"enabled": "false"}}))


@pytest.fixture
def clients():
    c = Clients()
    yield c
    c.close()


def rn(prefix="r"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def login(srv, c):
    """Register the session's user over REST and authenticate over the WebSocket; returns the user id."""
    r = register(srv, c.me)
    assert r.status_code == 200, r.text
    reg = r.json()
    env = c.request({"Type": "Authentication", "Authentication": {
        "Type": "Authentication", "Authentication": {"Userid": reg["userid"], "Nonce": reg["nonce"]}}})
    assert env["Data"]["Type"] == "Self" and env["Data"]["Userid"] == reg["userid"], env
    return reg["userid"]


# -- PIN rooms (85-92) -------------------------------------------------------------------------------------------------

def test_85_pin_room(srv, clients):
    a, b = clients(srv), clients(srv)
    p = rn("p")
    w = a.join(p, credentials={"PIN": "1234"})
    assert w["Room"] == {"Type": "Room", "Name": p, "Credentials": None}  # the PIN is not echoed in Welcome
    for creds, code in ((None, "authorization_required"),
                        ({"PIN": "9999"}, "invalid_credentials"),
                        ({"PIN": "12345"}, "invalid_credentials"),
                        ({"PIN": "123"}, "invalid_credentials"),
                        ({"PIN": ""}, "invalid_credentials"),
                        ({}, "invalid_credentials")):
        kw = {} if creds is None else {"credentials": creds}
        env = b.request(m_hello(p, **kw))
        assert env["Data"]["Type"] == "Error", env
        assert env["Data"]["Code"] == code, (creds, env)
        assert env["Data"]["Message"], env
        assert env["From"] == b.id
    a.expect_nothing(0.3)  # no Joined for any failed attempt
    w = b.join(p, credentials={"PIN": "1234"})
    assert set(session_ids(w["Users"])) == {a.id, b.id}
    assert a.recv_type("Joined")["Data"]["Id"] == b.id


def test_85_null_credentials_mean_absent(srv, clients):
    a, b = clients(srv), clients(srv)
    p = rn("p")
    a.join(p, credentials={"PIN": "1"})
    assert b.hello(p, credentials=None)["Code"] == "authorization_required"


def test_86_credentials_for_room_without_pin(srv, clients):
    a, b = clients(srv), clients(srv)
    r = rn()
    a.join(r)
    assert b.hello(r, credentials={})["Code"] == "authorization_not_required"
    assert b.hello(r, credentials={"PIN": "1"})["Code"] == "authorization_not_required"
    assert b.hello(r, credentials={"PIN": ""})["Code"] == "authorization_not_required"
    a.expect_nothing(0.3)
    b.join(r)


def test_87_empty_pin_on_new_room(srv, clients):
    a, b = clients(srv), clients(srv)
    r = rn()
    assert a.hello(r, credentials={"PIN": ""})["Code"] == "authorization_not_required"
    # the room was created without a PIN
    b.join(r)
    assert session_ids(b.users()["Users"]) == [b.id]


def test_92_pin_kept_right_after_last_member_leaves(srv, clients):
    a = clients(srv)
    p = rn("p")
    a.join(p, credentials={"PIN": "4321"})
    a.send({"Type": "Leave", "Leave": {}})
    a.alive_ok()
    b = clients(srv)
    assert b.hello(p)["Code"] == "authorization_required"
    assert b.hello(p, credentials={"PIN": "0000"})["Code"] == "invalid_credentials"
    a.close()
    assert b.hello(p)["Code"] == "authorization_required"
    w = b.join(p, credentials={"PIN": "4321"})
    assert session_ids(w["Users"]) == [b.id]


def test_88_pin_change_reaches_all_members(srv, clients):
    a, b, c = clients(srv), clients(srv), clients(srv)
    p = rn("p")
    a.join(p, credentials={"PIN": "1"})
    b.join(p, credentials={"PIN": "1"})
    c.join(p, credentials={"PIN": "1"})
    env = b.request(m_room(p, {"PIN": "2"}))
    assert env["Data"] == {"Type": "Room", "Name": p, "Credentials": {"PIN": "2"}}
    for x in (a, c):
        got = x.recv_type("Room")
        assert got["Data"] == {"Type": "Room", "Name": p, "Credentials": {"PIN": "2"}} and got["From"] == b.id
    d = clients(srv)
    assert d.hello(p, credentials={"PIN": "1"})["Code"] == "invalid_credentials"
    d.join(p, credentials={"PIN": "2"})


# -- Conference rooms (93-95) ------------------------------------------------------------------------------------------

def conf_doc(name, ids):
    return {"Data": {"Id": f"Conference:{name}", "Type": "Conference", "Conference": ids},
            "To": f"Conference:{name}"}


def test_93_conference_room(srv, clients):
    a, b = clients(srv), clients(srv)
    name = "conf/" + uuid.uuid4().hex[:8]
    w = a.join(name)
    assert w["Room"]["Type"] == "Conference"
    a.expect_nothing(0.3)  # alone: no Conference document
    w = b.hello(name)  # the joiner gets its Welcome first, then the Conference document
    assert w["Type"] == "Welcome" and w["Room"]["Type"] == "Conference"
    env_b = b.recv_type("Conference")
    assert env_b == conf_doc(name, [a.id, b.id]), env_b
    assert a.recv_type("Joined")["Data"]["Id"] == b.id
    env_a = a.recv_type("Conference")
    assert env_a == conf_doc(name, [a.id, b.id]), env_a
    # a third member: everybody gets the full list
    c = clients(srv)
    c.hello(name)
    for x in (a, b, c):
        env = x.recv_type("Conference")
        assert env == conf_doc(name, [a.id, b.id, c.id]), env
    # nothing when somebody leaves
    c.send({"Type": "Leave", "Leave": {}})
    for x in (a, b):
        x.recv_type("Left")
        x.expect_nothing(0.3)


def test_94_client_conference_not_forwarded_in_conference_room(srv, clients):
    a, b = clients(srv), clients(srv)
    name = "conf/" + uuid.uuid4().hex[:8]
    a.join(name)
    b.join(name)
    a.drain(0.3)
    b.drain(0.3)
    a.send(m_conference([a.id, b.id]))
    b.expect_nothing(0.5)
    a.expect_nothing(0.1)
    b.alive_ok()


def test_93_room_update_in_conference_room(srv, clients):
    a, b = clients(srv), clients(srv)
    name = "conf/" + uuid.uuid4().hex[:8]
    a.join(name)
    b.join(name)
    a.drain(0.3)
    b.drain(0.3)
    env = a.request(m_room(name))
    assert env["Data"] == {"Type": "Conference", "Name": name, "Credentials": None}  # quirk kept (§6.4)
    got = b.recv_until(lambda e: "Name" in e["Data"])  # the Room broadcast (its Type is the room type)
    assert got["Data"] == {"Type": "Conference", "Name": name, "Credentials": None} and got["From"] == a.id
    for x in (a, b):
        env = x.recv_until(lambda e: e["Data"].get("Id") == f"Conference:{name}")
        assert env == conf_doc(name, [a.id, b.id])


def test_95_hello_type_conference(srv, clients):
    a, b = clients(srv), clients(srv)
    name = rn("plain")
    w = a.join(name, room_type="Conference")
    assert w["Room"] == {"Type": "Conference", "Name": name, "Credentials": None}
    b.hello(name, room_type="Conference")
    assert b.recv_type("Conference") == conf_doc(name, [a.id, b.id])
    # the same name without a type is a different (normal) room
    c = clients(srv)
    w = c.join(name)
    assert w["Room"]["Type"] == "Room" and session_ids(w["Users"]) == [c.id]


def test_any_hello_type_creates_room_of_that_type(srv, clients):
    a = clients(srv)
    name = rn()
    w = a.join(name, room_type="Foo")
    assert w["Room"]["Type"] == "Foo"
    stats_ids = stats(srv, details=True)["hub"]["idsinroom"]
    assert stats_ids.get(f"Foo:{name}") == [a.id]


def test_roomtypes_regex_is_unanchored_at_end_only_as_written(srv, clients):
    a = clients(srv)
    # `^conf/.+` needs at least one character after the slash
    assert a.join("conf/")["Room"]["Type"] == "Room"
    assert a.join("xconf/a")["Room"]["Type"] == "Room"
    assert a.join("conf/a/b")["Room"]["Type"] == "Conference"


# -- global room (97) --------------------------------------------------------------------------------------------------

def test_97_global_room(glob_srv, clients):
    g, b = clients(glob_srv), clients(glob_srv)
    g.join("glob")
    room = rn()
    w = b.join(room)
    assert set(session_ids(w["Users"])) == {b.id, g.id}
    g.expect_nothing(0.4)  # B's Joined in its room does not reach G
    g.send(m_status({"displayName": "global"}))
    env = b.recv_type("Status")
    assert env["From"] == g.id and env["Data"]["Status"] == {"displayName": "global"}
    # B's Users lists G too
    assert set(session_ids(b.users()["Users"])) == {b.id, g.id}
    # B's status and room chat do not reach G
    b.send(m_status({"displayName": "b"}))
    b.send(m_chat("", {"Message": "room only", "NoEcho": True}))
    g.expect_nothing(0.5)
    # G's room chat reaches B
    g.send(m_chat("", {"Message": "to everybody", "NoEcho": True}))
    assert b.recv_type("Chat")["Data"]["Chat"]["Message"] == "to everybody"


def test_97_global_member_joined_reaches_other_rooms(glob_srv, clients):
    b = clients(glob_srv)
    room = rn()
    b.join(room)
    g = clients(glob_srv)
    g.join("glob")
    env = b.recv_type("Joined")
    assert env["Data"]["Id"] == g.id and env["From"] == g.id


def test_97_global_member_left_reaches_other_rooms(glob_srv, clients):
    g = clients(glob_srv)
    g.join("glob")
    b = clients(glob_srv)
    room = rn()
    w = b.join(room)
    assert g.id in session_ids(w["Users"])
    g.send({"Type": "Leave", "Leave": {}})
    env = b.recv_type("Left")
    assert env["Data"] == {"Type": "Left", "Id": g.id, "Status": "soft"}
    assert g.id not in session_ids(b.users()["Users"])


# -- default room, authorization (82-84) -------------------------------------------------------------------------------

def test_82_default_room_disabled(nodefault, clients):
    a = clients(nodefault)
    d = a.hello("")
    assert d["Type"] == "Error" and d["Code"] == "default_room_disabled"
    assert a.hello("x")["Type"] == "Welcome"


def test_82_default_room_enabled(srv, clients):
    a = clients(srv)
    w = a.join("")
    assert w["Room"] == {"Type": "Room", "Name": "", "Credentials": None}


def test_83_authorize_room_creation(authcreate, clients):
    a, u = clients(authcreate), clients(authcreate)
    r = rn()
    assert a.hello(r)["Code"] == "room_join_requires_account"
    login(authcreate, u)
    u.join(r)
    w = a.join(r)
    assert set(session_ids(w["Users"])) == {a.id, u.id}


def test_84_authorize_room_join(authjoin, clients):
    a, u = clients(authjoin), clients(authjoin)
    r = rn()
    assert a.hello(r)["Code"] == "room_join_requires_account"
    login(authjoin, u)
    w = u.join(r)
    assert [x.get("Userid") for x in w["Users"]] == [u.me.get("Userid") or w["Users"][0]["Userid"]]
    assert w["Users"][0]["Userid"]
    assert a.hello(r)["Code"] == "room_join_requires_account"  # even for an existing room
    a.alive_ok()


def test_84_authorize_without_users_has_no_effect(authjoin_nousers, clients):
    a, b = clients(authjoin_nousers), clients(authjoin_nousers)
    r = rn()
    a.join(r)
    b.join(r)
