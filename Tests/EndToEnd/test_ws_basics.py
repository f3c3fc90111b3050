"""WebSocket basics (conformance 59, 62, 63, 64; channeling-api.md §1, §3, §7.1)."""

import base64
import hashlib
import hmac
import json
import re
import time

import pytest

from conftest import TURN_SECRET, default_conf, ws_connect, ws_recv_raw, ws_self, ws_self_env

TURN_URIS = ["turn:127.0.0.1:3478?transport=udp", "turns:127.0.0.1:5349?transport=tcp"]
STUN_URIS = ["stun:127.0.0.1:3478", "stun:127.0.0.2:3478"]
SELF_KEYS = {"Type", "Id", "Sid", "Userid", "Suserid", "Token", "Version", "ApiVersion", "Turn", "Stun"}


@pytest.fixture(scope="module")
def srv(rooms_module):
    return rooms_module(default_conf({"app": {
        "turnURIs": " ".join(TURN_URIS + TURN_URIS[:1]),
        "stunURIs": " ".join(STUN_URIS),
    }}))


@pytest.fixture(scope="module")
def noturn(rooms_module):
    return rooms_module(default_conf({"app": {"turnSecret": None, "turnURIs": " ".join(TURN_URIS)}}))


# -- 59 -----------------------------------------------------------------------------------------------------------------

def test_59_first_frame_is_self(srv):
    conn = ws_connect(srv.url)
    try:
        frame = ws_recv_raw(conn, 5)
    finally:
        conn.close()
    assert isinstance(frame, str), "Self must be a text frame"
    assert frame.endswith("\n") and not frame.endswith("\n\n"), repr(frame[-5:])
    env = json.loads(frame)
    assert set(env.keys()) == {"Data", "From"}, env.keys()  # no Iid, no To, no A
    me = env["Data"]
    assert me["Type"] == "Self"
    assert set(me.keys()) == SELF_KEYS, set(me.keys()) ^ SELF_KEYS
    assert env["From"] == me["Id"]
    assert isinstance(me["Id"], str) and me["Id"] and "/" not in me["Id"]
    assert re.fullmatch(r"[A-Za-z0-9_\-=]+", me["Id"]), me["Id"]
    assert re.fullmatch(r"[a-zA-Z0-9]{32}", me["Sid"]), me["Sid"]
    assert me["Userid"] == "" and me["Suserid"] == ""
    assert isinstance(me["Token"], str) and me["Token"]
    assert re.fullmatch(r"[A-Za-z0-9_\-.~=]+", me["Token"]), "Token must be URL-query-safe"
    assert me["Version"] == srv.config()["Version"]
    assert me["ApiVersion"] == 1.4
    assert isinstance(me["Turn"], dict)
    assert me["Stun"] == STUN_URIS


def test_59_sessions_are_distinct(srv):
    a, ma = ws_self(srv.url)
    b, mb = ws_self(srv.url)
    a.close()
    b.close()
    assert ma["Id"] != mb["Id"] and ma["Sid"] != mb["Sid"] and ma["Token"] != mb["Token"]


# -- 62 -----------------------------------------------------------------------------------------------------------------

def test_62_turn_credentials(srv):
    conn, me = ws_self(srv.url)
    now = time.time()
    conn.close()
    turn = me["Turn"]
    assert set(turn.keys()) == {"username", "password", "ttl", "urls"}, turn
    exp, _, hashed = turn["username"].partition(":")
    assert abs(int(exp) - (now + 3600)) <= 5, (exp, now)
    assert hashed == base64.b64encode(hashlib.sha256(me["Id"].encode()).digest()).decode()
    expected_pw = base64.b64encode(hmac.new(TURN_SECRET.encode(), turn["username"].encode(), hashlib.sha1)
                                   .digest()).decode()
    assert turn["password"] == expected_pw
    assert turn["ttl"] == 3600
    assert turn["urls"] == TURN_URIS  # de-duplicated, in order
    assert srv.config()["TurnURIs"] == TURN_URIS


# -- 63 -----------------------------------------------------------------------------------------------------------------

def test_63_no_turn_secret(noturn):
    conn, me = ws_self(noturn.url)
    conn.close()
    turn = me["Turn"]
    assert isinstance(turn, dict)
    assert turn.get("ttl") == 0
    assert not turn.get("urls"), turn
    assert turn.get("username", "") == "" and turn.get("password", "") == ""
    log = noturn.wait_log(r"turn")
    assert re.search(r"turn\s*(uris|secret)", log, re.I), log


# -- 64 -----------------------------------------------------------------------------------------------------------------

def test_64_resume_with_token(srv):
    conn, me = ws_self(srv.url)
    conn.close()
    c2, me2 = ws_self(srv.url, token=me["Token"])
    try:
        assert me2["Id"] == me["Id"] and me2["Sid"] == me["Sid"]
        assert me2["Userid"] == ""
        assert me2["Token"]
    finally:
        c2.close()
    # the token minted on resume works as well
    c3, me3 = ws_self(srv.url, token=me2["Token"])
    c3.close()
    assert me3["Id"] == me["Id"]


def test_64_garbage_token(srv):
    conn, me = ws_self(srv.url)
    conn.close()
    c2, env = ws_self_env(srv.url, token="garbage")
    c2.close()
    other = env["Data"]
    assert other["Type"] == "Self"
    assert other["Id"] and other["Id"] != me["Id"] and other["Sid"] != me["Sid"]
    assert env["From"] == other["Id"]
