"""Channeling authentication and contacts, end to end with REST registration
(conformance 42 usersbyid, 52, 53, 55-58, 106-111; channeling-api.md §3, §4, §6.7, §6.11, §6.12)."""

import base64
import hashlib
import hmac
import time
import uuid

import pytest

from channeling_helpers import HEX64, Clients, m_auth, m_chat, m_sessions, session_ids
from conftest import default_conf, patch_session, poll, register, sharedsecret_combo, stats

SECRETS = {"sessionSecret": HEX64, "encryptionSecret": HEX64}


@pytest.fixture(scope="module")
def srv(rooms_module):
    return rooms_module(default_conf({"app": dict(SECRETS)}))


@pytest.fixture(scope="module")
def nousers(rooms_module):
    return rooms_module(default_conf({"app": dict(SECRETS), "users": {"enabled": "false"}}))


@pytest.fixture(scope="module")
def nocontacts(rooms_module):
    return rooms_module(default_conf({"app": dict(SECRETS), "modules": {"contacts": "false"}}))


@pytest.fixture(scope="module")
def hdr(rooms_module):
    return rooms_module(default_conf({"app": dict(SECRETS),
                                      "users": {"mode": "httpheader", "sharedsecret_secret": None}}))


@pytest.fixture
def clients():
    c = Clients()
    yield c
    c.close()


def rn(prefix="r"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def suserid(userid: str) -> str:
    return base64.b64encode(hmac.new(bytes.fromhex(HEX64), userid.encode(), hashlib.sha256).digest()).decode()


def reg(srv, c) -> dict:
    r = register(srv, c.me)
    assert r.status_code == 200, r.text
    return r.json()


def login(srv, c) -> str:
    doc = reg(srv, c)
    env = c.request(m_auth(doc["userid"], doc["nonce"]))
    assert env["Data"]["Type"] == "Self" and env["Data"]["Userid"] == doc["userid"], env
    c.me = env["Data"]
    return doc["userid"]


# -- 52 ----------------------------------------------------------------------------------------------------------------

def test_52_authentication(srv, clients):
    a, b = clients(srv), clients(srv)
    room = rn()
    a.join(room)
    b.join(room)
    a.recv_type("Joined")
    rev0 = [u for u in b.users()["Users"] if u["Id"] == a.id][0]["Rev"]
    doc = reg(srv, a)
    a.send(m_auth(doc["userid"], doc["nonce"]))  # the client sends it without Iid
    env = a.recv_type("Self")
    assert "Iid" not in env and env["From"] == a.id
    me = env["Data"]
    assert me["Id"] == a.id and me["Sid"] == a.sid
    assert me["Userid"] == doc["userid"]
    assert me["Suserid"] == suserid(doc["userid"])
    assert me["Token"] and me["Token"] != a.token
    st = b.recv_type("Status")
    assert st["From"] == a.id
    assert st["Data"]["Id"] == a.id and st["Data"]["Userid"] == doc["userid"] and st["Data"]["Rev"] > rev0
    entry = [u for u in b.users()["Users"] if u["Id"] == a.id][0]
    assert entry["Userid"] == doc["userid"]
    # with an Iid the Self reply carries it
    c = clients(srv)
    d2 = reg(srv, c)
    env = c.request(m_auth(d2["userid"], d2["nonce"]))
    assert env["Data"]["Type"] == "Self" and env["Data"]["Userid"] == d2["userid"]


def test_52_authentication_outside_room(srv, clients):
    a = clients(srv)
    uid = login(srv, a)
    assert a.me["Suserid"] == suserid(uid)
    a.alive_ok()


def test_42_stats_users(srv, clients):
    a = clients(srv)
    before = stats(srv)["hub"]["users"]
    uid = login(srv, a)
    h = stats(srv, details=True)["hub"]
    assert h["users"] == before + 1
    assert uid in h["usersbyid"], h.get("usersbyid")
    assert h["sessionsbyid"][a.id].get("Userid") == uid
    a.close()
    assert poll(lambda: uid not in stats(srv, details=True)["hub"].get("usersbyid", {}), 3)


# -- 53, 55, 56 --------------------------------------------------------------------------------------------------------

def test_53_nonce_single_use_across_resume(srv, clients):
    a = clients(srv)
    old_token = a.token  # minted before authentication: carries no Userid
    doc = reg(srv, a)
    assert a.request(m_auth(doc["userid"], doc["nonce"]))["Data"]["Type"] == "Self"
    a.close()
    a2 = clients(srv, token=old_token)
    assert a2.id == a.id and a2.sid == a.sid and a2.me["Userid"] == ""
    d = a2.request(m_auth(doc["userid"], doc["nonce"]))["Data"]
    assert d["Type"] == "Error" and d["Code"] == "invalid_session_token", d
    a2.alive_ok()


def test_53_superseded_nonce(srv, clients):
    a = clients(srv)
    doc = reg(srv, a)
    time.sleep(1.1)  # a deterministic nonce scheme (allowed) gives a different nonce only in another second
    combo, secret = sharedsecret_combo(doc["userid"], int(time.time()) + 3600)
    r = patch_session(srv, a.id, {"id": a.id, "sid": a.sid, "useridcombo": combo, "secret": secret})
    assert r.status_code == 200, r.text
    newer = r.json()["nonce"]
    assert newer != doc["nonce"]
    d = a.request(m_auth(doc["userid"], doc["nonce"]))["Data"]
    assert d["Type"] == "Error" and d["Code"] == "invalid_session_token", d
    d = a.request(m_auth(doc["userid"], newer))["Data"]
    assert d["Type"] == "Self" and d["Userid"] == doc["userid"]


def test_55_userid_mismatch(srv, clients):
    a = clients(srv)
    doc = reg(srv, a)
    d = a.request(m_auth("someone-else@local", doc["nonce"]))["Data"]
    assert d["Type"] == "Error" and d["Code"] == "invalid_session_token"
    assert a.users()["Code"] == "not_in_room"  # still healthy
    a.alive_ok()


def test_56_already_authenticated_and_bad_request(srv, clients):
    a = clients(srv)
    uid = login(srv, a)
    d = a.request(m_auth(uid, "whatever"))["Data"]
    assert d["Type"] == "Error" and d["Code"] == "already_authenticated"
    b = clients(srv)
    d = b.request({"Type": "Authentication"})["Data"]
    assert d["Type"] == "Error" and d["Code"] == "bad_request"
    d = b.request({"Type": "Authentication", "Authentication": {"Type": "Authentication"}})["Data"]
    assert d["Type"] == "Error" and d["Code"] == "bad_request"


@pytest.mark.parametrize("nonce", ["", "forged", "A" * 300])
def test_forged_nonces(srv, clients, nonce):
    a = clients(srv)
    doc = reg(srv, a)  # a real nonce is stored; the forged one must not match it
    d = a.request(m_auth(doc["userid"], nonce))["Data"]
    assert d["Type"] == "Error" and d["Code"] == "invalid_session_token"
    a.alive_ok()


def test_nonce_without_any_issued(srv, clients):
    a = clients(srv)
    d = a.request(m_auth("x@local", "x"))["Data"]
    assert d["Code"] == "invalid_session_token"


def test_nonce_of_other_session(srv, clients):
    a, b = clients(srv), clients(srv)
    doc = reg(srv, a)
    reg(srv, b)  # b has its own nonce stored
    d = b.request(m_auth(doc["userid"], doc["nonce"]))["Data"]
    assert d["Code"] == "invalid_session_token"
    assert a.request(m_auth(doc["userid"], doc["nonce"]))["Data"]["Userid"] == doc["userid"]


# -- 57, 58 ------------------------------------------------------------------------------------------------------------

def test_57_httpheader_upgrade(hdr, clients):
    a = clients(hdr, headers={"X-Users": "alice"})
    assert a.me["Userid"] == "alice" and a.me["Suserid"] == suserid("alice")
    b = clients(hdr)
    r = patch_session(hdr, b.id, {"id": b.id, "sid": b.sid}, headers={"X-Users": "bob"})
    assert r.status_code == 200 and r.json()["userid"] == "bob"
    env = b.request(m_auth("bob", r.json()["nonce"]))
    assert env["Data"]["Userid"] == "bob"


def test_58_token_restores_userid(srv, clients):
    a = clients(srv)
    uid = login(srv, a)
    token = a.me["Token"]
    a.close()
    a2 = clients(srv, token=token)
    assert a2.id == a.id and a2.me["Userid"] == uid and a2.me["Suserid"] == suserid(uid)
    # the restored session is authenticated: it cannot authenticate again and is counted as a user
    assert a2.request(m_auth(uid, "x"))["Data"]["Code"] == "already_authenticated"
    assert uid in stats(srv, details=True)["hub"]["usersbyid"]


def test_58_users_disabled_ignores_token_userid(srv, nousers, clients):
    a = clients(srv)
    login(srv, a)
    token = a.me["Token"]
    a.close()
    b = clients(nousers, token=token)  # same secrets: the token decodes
    assert b.id == a.id and b.sid == a.sid
    assert b.me["Userid"] == "" and b.me["Suserid"] == ""


# -- contacts (106-111) ------------------------------------------------------------------------------------------------

def contact_request(a, b, **kw):
    cr = {"Id": "cr-" + uuid.uuid4().hex[:6], "Success": False, **kw}
    a.send(m_chat(b.id, {"Message": "", "NoEcho": True, "Status": {"ContactRequest": cr}}))
    return cr


def test_106_contact_request_accept_lookup_and_left(srv, clients):
    a, b = clients(srv), clients(srv)
    ua, ub = login(srv, a), login(srv, b)
    cr = contact_request(a, b)
    env = b.recv_type("Chat")
    assert env["From"] == a.id
    got = env["Data"]["Chat"]["Status"]["ContactRequest"]
    assert got["Id"] == cr["Id"] and got["Success"] is False and got["Userid"] == ua and got["Token"]
    token = got["Token"]
    # B accepts
    b.send(m_chat(a.id, {"Message": "", "NoEcho": True,
                         "Status": {"ContactRequest": {"Id": cr["Id"], "Success": True, "Token": token}}}))
    acc = a.recv_type("Chat")["Data"]["Chat"]["Status"]["ContactRequest"]
    assert acc["Success"] is True and acc["Userid"] == ub and acc["Id"] == cr["Id"]
    # lookups from both sides
    d = a.request(m_sessions("contact", token))["Data"]
    assert d["Type"] == "Sessions" and d["Sessions"] == {"Token": token, "Type": "contact"}
    assert [(u["Type"], u["Id"], u["Userid"]) for u in d["Users"]] == [("", b.id, ub)]
    d = b.request(m_sessions("contact", token))["Data"]
    assert [(u["Id"], u["Userid"]) for u in d["Users"]] == [(a.id, ua)]
    # A is subscribed to B: it gets B's Left hard although they share no room
    b.close()
    env = a.recv_type("Left")
    assert env["Data"] == {"Type": "Left", "Id": b.id, "Status": "hard"} and env["From"] == b.id


def test_106_contact_decline(srv, clients):
    a, b = clients(srv), clients(srv)
    login(srv, a), login(srv, b)
    cr = contact_request(a, b)
    token = b.recv_type("Chat")["Data"]["Chat"]["Status"]["ContactRequest"]["Token"]
    b.send(m_chat(a.id, {"Message": "", "NoEcho": True,
                         "Status": {"ContactRequest": {"Id": cr["Id"], "Success": False, "Token": token}}}))
    dec = a.recv_type("Chat")["Data"]["Chat"]["Status"]["ContactRequest"]
    assert dec["Success"] is False and "Token" not in dec


def test_106_forged_or_misused_accept_dropped(srv, clients):
    a, b, c = clients(srv), clients(srv), clients(srv)
    login(srv, a), login(srv, b), login(srv, c)
    contact_request(a, b)
    token = b.recv_type("Chat")["Data"]["Chat"]["Status"]["ContactRequest"]["Token"]
    # garbage token, tampered token
    for t in ("garbage", token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")):
        b.send(m_chat(a.id, {"Message": "", "NoEcho": True,
                             "Status": {"ContactRequest": {"Id": "x", "Success": True, "Token": t}}}))
    # a third user replays the real token towards A
    c.send(m_chat(a.id, {"Message": "", "NoEcho": True,
                         "Status": {"ContactRequest": {"Id": "x", "Success": True, "Token": token}}}))
    # A (the requester) "accepts" its own request towards B: A is token.B, not token.A
    a.send(m_chat(b.id, {"Message": "", "NoEcho": True,
                         "Status": {"ContactRequest": {"Id": "x", "Success": True, "Token": token}}}))
    a.expect_nothing(0.5)
    b.expect_nothing(0.1)
    for x in (a, b, c):
        x.alive_ok()


def test_107_unauthenticated_contact_requests_dropped(srv, clients):
    a, b, c = clients(srv), clients(srv), clients(srv)
    login(srv, b)
    contact_request(a, b)       # unauthenticated sender
    contact_request(b, c)       # unauthenticated recipient
    d = clients(srv)
    login(srv, d)
    contact_request(d, d)       # to itself (same user id)
    for x in (b, c, d):
        x.expect_nothing(0.4)
    a.expect_nothing(0.1)
    for x in (a, b, c, d):
        x.alive_ok()


def test_108_contacts_disabled(nocontacts, clients):
    a, b = clients(nocontacts), clients(nocontacts)
    login(nocontacts, a), login(nocontacts, b)
    d = a.request(m_sessions("contact", "whatever"))["Data"]
    assert d["Type"] == "Error" and d["Code"] == "contacts_not_enabled"
    contact_request(a, b)
    b.expect_nothing(0.5)


def test_110_offline_contact_placeholder(srv, clients):
    a, b = clients(srv), clients(srv)
    ua, ub = login(srv, a), login(srv, b)
    contact_request(a, b)
    token = b.recv_type("Chat")["Data"]["Chat"]["Status"]["ContactRequest"]["Token"]
    b.close()
    time.sleep(0.3)

    def lookup():
        return a.request(m_sessions("contact", token))["Data"]

    d = poll(lambda: (lambda x: x if x["Users"][0]["Id"] != b.id else None)(lookup()), 3)
    assert d, "B still listed after disconnect"
    assert len(d["Users"]) == 1
    u = d["Users"][0]
    assert u["Type"] == "" and u["Userid"] == ub and u["Prio"] == 100 and u["Id"]
    assert set(u) <= {"Type", "Id", "Userid", "Prio"}, u
    assert lookup()["Users"][0]["Id"] == u["Id"]  # stable


def test_111_invalid_contact_token(srv, clients):
    a, b, c = clients(srv), clients(srv), clients(srv)
    login(srv, a), login(srv, b), login(srv, c)
    d = a.request(m_sessions("contact", "garbage"))["Data"]
    assert d["Type"] == "Error" and d["Code"] == "bad_request"
    contact_request(a, b)
    token = b.recv_type("Chat")["Data"]["Chat"]["Status"]["ContactRequest"]["Token"]
    d = c.request(m_sessions("contact", token))["Data"]  # token not involving C
    assert d["Type"] == "Error" and d["Code"] == "bad_request"
    u = clients(srv)  # unauthenticated requester
    d = u.request(m_sessions("contact", token))["Data"]
    assert d["Type"] == "Error" and d["Code"] == "bad_request"
    for x in (a, b, c, u):
        x.alive_ok()


def test_106_contact_lookup_lists_all_sessions_of_user(srv, clients):
    a, b1 = clients(srv), clients(srv)
    login(srv, a)
    doc = reg(srv, b1)
    assert b1.request(m_auth(doc["userid"], doc["nonce"]))["Data"]["Userid"] == doc["userid"]
    b2 = clients(srv)  # the same user on a second device
    combo, secret = sharedsecret_combo(doc["userid"], int(time.time()) + 3600)
    r = patch_session(srv, b2.id, {"id": b2.id, "sid": b2.sid, "useridcombo": combo, "secret": secret})
    assert r.status_code == 200, r.text
    assert b2.request(m_auth(doc["userid"], r.json()["nonce"]))["Data"]["Userid"] == doc["userid"]
    contact_request(a, b1)
    token = b1.recv_type("Chat")["Data"]["Chat"]["Status"]["ContactRequest"]["Token"]
    d = a.request(m_sessions("contact", token))["Data"]
    assert [u["Id"] for u in d["Users"]] == [b1.id, b2.id]
    b2.close()
    assert a.recv_type("Left")["Data"] == {"Type": "Left", "Id": b2.id, "Status": "hard"}
    b1.close()
    assert a.recv_type("Left")["Data"] == {"Type": "Left", "Id": b1.id, "Status": "hard"}


def test_contact_subscription_survives_target_resume(srv, clients):
    a, b = clients(srv), clients(srv)
    login(srv, a), login(srv, b)
    contact_request(a, b)
    token = b.recv_type("Chat")["Data"]["Chat"]["Status"]["ContactRequest"]["Token"]
    assert [u["Id"] for u in a.request(m_sessions("contact", token))["Data"]["Users"]] == [b.id]
    b2 = clients(srv, token=b.me["Token"])  # B resumes while its old socket is open
    assert b2.id == b.id and b2.me["Userid"] == b.me["Userid"]
    a.expect_nothing(1.0)  # no Left for the replaced connection
    b2.close()
    assert a.recv_type("Left")["Data"] == {"Type": "Left", "Id": b.id, "Status": "hard"}


def test_rev_starts_at_one_for_token_authenticated_session(srv, clients):
    a = clients(srv)
    login(srv, a)
    token = a.me["Token"]
    a.close()
    a2, b = clients(srv, token=token), clients(srv)
    room = rn()
    b.join(room)
    a2.join(room)
    entry = [u for u in b.users()["Users"] if u["Id"] == a2.id][0]
    assert entry["Userid"] == a2.me["Userid"] and entry["Rev"] == 2, entry  # 1 (authenticated) + Hello


def test_subscriber_in_same_room_gets_left(srv, clients):
    """A contact subscriber that shares the room gets B's Left hard (the original sends it twice: quirk)."""
    a, b = clients(srv), clients(srv)
    login(srv, a), login(srv, b)
    room = rn()
    a.join(room)
    b.join(room)
    a.recv_type("Joined")
    contact_request(a, b)
    token = b.recv_type("Chat")["Data"]["Chat"]["Status"]["ContactRequest"]["Token"]
    a.request(m_sessions("contact", token))
    b.close()
    frames = a.drain(1.0)
    lefts = [f for f in frames if f["Data"].get("Type") == "Left"]
    assert lefts and all(f["Data"] == {"Type": "Left", "Id": b.id, "Status": "hard"} for f in lefts), frames
    assert len(lefts) in (1, 2), frames
