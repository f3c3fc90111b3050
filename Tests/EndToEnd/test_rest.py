"""REST API (conformance 32-43, rest-api.md §7)."""

import os
import re
import time

import pytest
from websockets.exceptions import InvalidStatus

from conftest import (
    SHARED_SECRET,
    TURN_SECRET,
    authenticate,
    default_conf,
    error_json,
    get,
    hello,
    poll,
    register,
    request,
    stats,
    ws_connect,
    ws_recv_until,
    ws_self,
    ws_send,
)

CONFIG_KEYS = ["Title", "S", "B", "Token", "Renegotiation", "StunURIs", "TurnURIs", "Tokens", "Version",
               "UsersEnabled", "UsersAllowRegistration", "UsersMode", "DefaultRoomEnabled", "Plugin",
               "AuthorizeRoomCreation", "AuthorizeRoomJoin", "Modules"]


@pytest.fixture(scope="module")
def srv(rooms_module):
    return rooms_module(default_conf())


@pytest.fixture(scope="module")
def tok(rooms_module):
    conf = default_conf({"app": {"tokenFile": "@DIR@/tokens.txt"}})
    return rooms_module(conf, files={"tokens.txt": "# access codes\nAbC123:first\n"})


# -- 32, 33, 34 ---------------------------------------------------------------------------------------------------------

def test_32_config(srv):
    r = get(srv.url + "/api/v1/config")
    assert r.status_code == 200
    assert r.headers.get("Content-Type", "").lower().replace(" ", "") == "application/json;charset=utf-8"
    cfg = r.json()
    assert list(cfg.keys()) == CONFIG_KEYS
    assert cfg["Title"] == "Spreed WebRTC"
    assert re.fullmatch(r"static/ver=[^/]+", cfg["S"]), cfg["S"]
    assert cfg["B"] == "/"
    assert cfg["Token"] == "i-did-not-change-the-public-token-boo"
    assert cfg["Renegotiation"] is False
    assert cfg["StunURIs"] == [] and cfg["TurnURIs"] == []
    assert cfg["Tokens"] is False
    assert isinstance(cfg["Version"], str) and cfg["Version"]
    assert cfg["UsersEnabled"] is True
    assert cfg["UsersAllowRegistration"] is True
    assert cfg["UsersMode"] == "sharedsecret"
    assert cfg["DefaultRoomEnabled"] is True
    assert cfg["Plugin"] == ""
    assert cfg["AuthorizeRoomCreation"] is False and cfg["AuthorizeRoomJoin"] is False
    assert sorted(cfg["Modules"]) == ["contacts", "presentation", "screensharing", "youtube"]
    assert SHARED_SECRET not in r.text and TURN_SECRET not in r.text


def test_32_config_version_matches_self(srv):
    conn, me = ws_self(srv.url)
    conn.close()
    assert me["Version"] == srv.config()["Version"]


def test_33_wrong_methods_are_405_empty(srv):
    for method, path in (("POST", "/api/v1/config"), ("GET", "/api/v1/rooms"), ("GET", "/api/v1/tokens"),
                         ("PUT", "/api/v1/config"), ("DELETE", "/api/v1/rooms")):
        r = request(method, srv.url + path)
        assert r.status_code == 405, (method, path, r.status_code)
        assert r.content == b"", (method, path, r.content)
        assert "Content-Type" not in r.headers, (method, path, r.headers)


def test_34_rooms(srv):
    r1 = request("POST", srv.url + "/api/v1/rooms")
    r2 = request("POST", srv.url + "/api/v1/rooms")
    for r in (r1, r2):
        assert r.status_code == 200
        assert r.headers.get("Content-Type", "").startswith("application/json")
        doc = r.json()
        assert set(doc.keys()) == {"name", "url"}, doc
        assert re.fullmatch(r"[a-zA-Z0-9]{11}", doc["name"]), doc
        assert doc["url"] == "/" + doc["name"], doc
    assert r1.json()["name"] != r2.json()["name"]


# -- 35, 36, 37, 38, 39 -------------------------------------------------------------------------------------------------

def test_35_token_ok(tok):
    assert tok.config()["Tokens"] is True
    r = request("POST", tok.url + "/api/v1/tokens", data={"a": "ABC123"})
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.headers.get("Content-Type", "").startswith("application/json")
    assert r.json() == {"token": "abc123", "success": True}


def test_36_token_errors(tok):
    r = request("POST", tok.url + "/api/v1/tokens", data={"a": "wrong"})
    assert r.status_code == 403
    assert r.json() == {"code": "invalid_token", "message": "Invalid token", "success": False}
    r = request("POST", tok.url + "/api/v1/tokens", data={"a": "x" * 101})
    assert r.status_code == 413
    assert r.json() == {"code": "auth_too_large", "message": "Auth too large", "success": False}
    r = request("POST", tok.url + "/api/v1/tokens", data={"a": ""})
    assert r.status_code == 403
    assert error_json(r)["code"] == "invalid_token"
    r = request("POST", tok.url + "/api/v1/tokens?a=abc123")
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.json() == {"token": "abc123", "success": True}
    # the comment is not a code
    r = request("POST", tok.url + "/api/v1/tokens", data={"a": "first"})
    assert r.status_code == 403


def test_36_token_gzip(tok):
    r = request("POST", tok.url + "/api/v1/tokens", data={"a": "abc123"}, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers.get("Content-Encoding") == "gzip"
    assert r.json()["success"] is True


def test_37_token_file_reload(tok):
    path = tok.workdir / "tokens.txt"
    r = request("POST", tok.url + "/api/v1/tokens", data={"a": "NewCode9"})
    assert r.status_code == 403
    path.write_text("# access codes\nAbC123:first\nnewcode9:second\n")
    st = os.stat(path)
    os.utime(path, (st.st_atime + 5, st.st_mtime + 5))
    r = poll(lambda: request("POST", tok.url + "/api/v1/tokens", data={"a": "NewCode9"}).status_code == 200, 3)
    assert r, "new code not accepted after the token file changed"
    # a broken edit keeps the last good list
    path.write_text("abc123:first\nbroken:line:extra\n")
    os.utime(path, (st.st_atime + 10, st.st_mtime + 10))
    time.sleep(0.2)
    r = request("POST", tok.url + "/api/v1/tokens", data={"a": "newcode9"})
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.json() == {"token": "newcode9", "success": True}
    assert tok.healthy()


def test_38_tokens_disabled(srv):
    r = request("POST", srv.url + "/api/v1/tokens", data={"a": "abc"})
    assert r.status_code == 404
    doc = error_json(r)
    assert doc["code"] == "tokens_disabled"
    assert list(doc.keys()) == ["code", "message", "success"]
    assert srv.healthy()


def test_39_ws_requires_access_cookie(tok):
    with pytest.raises(InvalidStatus) as exc:
        ws_connect(tok.url)
    assert exc.value.response.status_code == 403
    r = request("POST", tok.url + "/api/v1/tokens", data={"a": "abc123"})
    assert r.status_code == 200
    cookies = r.cookies
    assert len(cookies) >= 1, f"no cookie set: {r.headers}"
    cookie_header = "; ".join(f"{c.name}={c.value}" for c in cookies)
    set_cookie = r.headers.get("Set-Cookie", "")
    assert "httponly" in set_cookie.lower(), set_cookie
    conn, me = ws_self(tok.url, headers={"Cookie": cookie_header})
    conn.close()
    assert me["Id"]
    # a forged cookie value is refused
    forged = "; ".join(f"{c.name}={c.value[:-4]}AAAA" for c in cookies)
    with pytest.raises(InvalidStatus) as exc:
        ws_connect(tok.url, headers={"Cookie": forged})
    assert exc.value.response.status_code == 403


def test_39_failed_token_sets_no_cookie(tok):
    r = request("POST", tok.url + "/api/v1/tokens", data={"a": "wrong"})
    assert r.status_code == 403
    assert "Set-Cookie" not in r.headers


# -- 40, 41, 42, 43 -----------------------------------------------------------------------------------------------------

def test_40_stats_shape(srv):
    r = get(srv.url + "/api/v1/stats")
    assert r.status_code == 200
    assert r.headers.get("Access-Control-Allow-Origin") == "*"
    assert r.headers.get("Content-Type", "").lower().replace(" ", "") == "application/json;charset=utf-8"
    doc = r.json()
    assert {"runtime", "hub"} <= set(doc.keys())
    for k in ("rooms", "connections", "sessions", "users", "count", "broadcastchatmessages",
              "unicastchatmessages"):
        assert isinstance(doc["hub"].get(k), int), (k, doc["hub"])
    for k in ("goroutines", "alloc", "mallocs", "frees", "pauses", "heap", "stack"):
        assert k in doc["runtime"], (k, doc["runtime"])
    r = get(srv.url + "/api/v1/stats", headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("Content-Encoding") == "gzip"
    assert "hub" in r.json()


@pytest.fixture
def fresh(rooms):
    return rooms(default_conf())


def test_41_stats_connection_counts(fresh):
    h0 = stats(fresh)["hub"]
    assert h0["connections"] == 0 and h0["sessions"] == 0
    a, ida = ws_self(fresh.url)
    h1 = stats(fresh)["hub"]
    assert h1["count"] == h0["count"] + 1
    assert h1["connections"] == 1 and h1["sessions"] == 1
    b, idb = ws_self(fresh.url)
    h2 = stats(fresh)["hub"]
    assert h2["count"] == h0["count"] + 2
    assert h2["connections"] == 2 and h2["sessions"] == 2
    a.close()
    assert poll(lambda: stats(fresh)["hub"]["connections"] == 1, 5), stats(fresh)
    b.close()
    assert poll(lambda: stats(fresh)["hub"]["connections"] == 0, 5), stats(fresh)
    assert stats(fresh)["hub"]["count"] == h0["count"] + 2
    # a resume is a new accepted connection as well
    c, _ = ws_self(fresh.url, token=ida["Token"])
    c.close()
    assert stats(fresh)["hub"]["count"] == h0["count"] + 3


def test_41_stats_chat_counts(fresh):
    a, ida = ws_self(fresh.url)
    b, idb = ws_self(fresh.url)
    try:
        assert hello(a, "r")["Type"] == "Welcome"
        assert hello(b, "r")["Type"] == "Welcome"
        before = stats(fresh)["hub"]
        assert before["rooms"] >= 1
        ws_send(a, {"Type": "Chat", "Chat": {"To": "", "Type": "Chat",
                                             "Chat": {"Message": "hello room", "Mid": "m1", "NoEcho": True}}})
        env = ws_recv_until(b, lambda e: e["Data"].get("Type") == "Chat")
        assert env["Data"]["Chat"]["Message"] == "hello room"
        after = stats(fresh)["hub"]
        assert after["broadcastchatmessages"] == before["broadcastchatmessages"] + 1
        assert after["unicastchatmessages"] == before["unicastchatmessages"]
        ws_send(a, {"Type": "Chat", "Chat": {"To": idb["Id"], "Type": "Chat",
                                             "Chat": {"Message": "hello b", "Mid": "m2", "NoEcho": True}}})
        ws_recv_until(b, lambda e: e["Data"].get("Type") == "Chat" and e["Data"]["Chat"]["Message"] == "hello b")
        assert stats(fresh)["hub"]["unicastchatmessages"] == before["unicastchatmessages"] + 1
    finally:
        a.close()
        b.close()


def test_42_stats_details_sessions_and_users(fresh):
    a, ida = ws_self(fresh.url)
    b, idb = ws_self(fresh.url)
    try:
        reg = register(fresh, ida)
        assert reg.status_code == 200, reg.text
        creds = reg.json()
        me = authenticate(a, creds["userid"], creds["nonce"])
        assert me["Type"] == "Self" and me["Userid"] == creds["userid"], me
        doc = stats(fresh, details=True)["hub"]  # the detail maps are part of the hub object (HubStat)
        assert set(doc["sessionsbyid"].keys()) >= {ida["Id"], idb["Id"]}
        assert doc["sessionsbyid"][ida["Id"]]["Id"] == ida["Id"]
        assert set(doc["connectionsbyidx"].values()) >= {ida["Id"], idb["Id"]}
        assert all(k.isdigit() for k in doc["connectionsbyidx"]), doc["connectionsbyidx"]
        assert creds["userid"] in doc.get("usersbyid", {}), doc.get("usersbyid")
        assert doc["users"] == 1
        # the plain view does not carry the details
        plain = stats(fresh)["hub"]
        assert "sessionsbyid" not in plain and "usersbyid" not in plain
    finally:
        a.close()
        b.close()


def test_42_stats_details_ids_in_room(fresh):
    a, ida = ws_self(fresh.url)
    b, idb = ws_self(fresh.url)
    try:
        assert hello(a, "r")["Type"] == "Welcome"
        assert hello(b, "r")["Type"] == "Welcome"
        doc = stats(fresh, details=True)["hub"]
        assert set(doc["idsinroom"]["Room:r"]) == {ida["Id"], idb["Id"]}, doc.get("idsinroom")
        assert "idsinroom" not in stats(fresh)["hub"]
    finally:
        a.close()
        b.close()


def test_43_stats_disabled(rooms):
    s = rooms(default_conf({"http": {"stats": "false"}}))
    r = get(s.url + "/api/v1/stats")
    assert "Access-Control-Allow-Origin" not in r.headers
    try:
        doc = r.json()
    except ValueError:
        doc = None
    assert not (isinstance(doc, dict) and "hub" in doc), r.text[:200]


# -- Rooms extensions ---------------------------------------------------------------------------------------------------

def test_unknown_api_path_is_json_404(srv):
    r = get(srv.url + "/api/v1/nothing")
    assert r.status_code == 404
    assert error_json(r)["code"] == "not_found"


def test_metrics(srv):
    r = get(srv.url + "/metrics")
    assert r.status_code == 200
    assert "# TYPE" in r.text


def test_healthz(srv):
    r = get(srv.url + "/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
