"""Conference scheduling: the MX-style API under /api/mx/ (docs/conferences.md) against the real binary."""

import base64
import hashlib
import hmac
import json
import re
import socket
import sqlite3
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from conftest import (
    HOST,
    assert_names_line,
    build_conf,
    error_json,
    get,
    hello,
    line_of,
    poll,
    request,
    start_expect_failure,
    ws_self,
)

CLIENT = ("e2e-client", "e2e-secret")
ALICE = ("alice@example.com", "alice-pw")
BOB = ("bob", "bob-pw")
BOB_HASH = hashlib.sha256(BOB[1].encode()).hexdigest()

START = int(time.time()) + 3600  # an hour from now


def conf(**extra) -> str:
    keys = {"apps": f"{CLIENT[0]}:{CLIENT[1]}, other-app:other-secret",
            "users": f"{ALICE[0]}:{ALICE[1]}, {BOB[0]}:sha256:{BOB_HASH}"}
    keys.update(extra)
    return build_conf({"conferences": keys})


@pytest.fixture(scope="module")
def srv(rooms_module):
    return rooms_module(conf(did="15125550136", ext="3044"))


# -- helpers ------------------------------------------------------------------------------------------------------------

def mx(srv, path: str) -> str:
    return srv.u("api/mx/" + path)


def login(srv, user=ALICE, client=CLIENT, **form):
    data = {"username": user[0], "password": user[1], "grant_type": "password"}
    data.update(form)
    return request("POST", mx(srv, "auth"), auth=client, data=data)


def token(srv, user=ALICE) -> str:
    r = login(srv, user)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()["access_token"]


def bearer(tok: str) -> dict:
    return {"Authorization": "Bearer " + tok}


def call(srv, method: str, path: str, tok: str, **kw):
    return request(method, mx(srv, path), headers={**bearer(tok), **kw.pop("headers", {})}, **kw)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(tok: str):
    h, p, s = tok.split(".")
    return json.loads(unb64url(h)), json.loads(unb64url(p)), s


def seed_conference(**changes) -> dict:
    body = {"Id": "", "ownerId": 0, "name": "Test Conf", "accessId": 47281964, "type": "Once",
            "startDate": START, "duration": 30, "waitForOwner": False, "delOnOwnerLeave": False,
            "ws": "None", "wsType": "Undefined"}
    body.update(changes)
    return body


def create(srv, tok, **changes):
    return call(srv, "POST", "conferences", tok, json=seed_conference(**changes))


def assert_401_token(r, code="invalid_token"):
    assert r.status_code == 401, (r.status_code, r.text)
    doc = error_json(r)
    assert doc["code"] == code, doc
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer"), r.headers
    return doc


def raw_exchange(port: int, data: bytes) -> bytes:
    """Send raw bytes; return what came back before EOF (the server may answer before reading everything)."""
    chunks = []
    with socket.create_connection((HOST, port), timeout=10) as s:
        try:
            s.sendall(data)
        except OSError:
            pass
        try:
            while c := s.recv(65536):
                chunks.append(c)
        except OSError:
            pass
    return b"".join(chunks)


def unique_pin() -> int:
    unique_pin.n += 1
    return 50_000_000 + unique_pin.n


unique_pin.n = int(time.time()) % 1_000_000 * 10


# -- auth ---------------------------------------------------------------------------------------------------------------

def test_password_grant_issues_an_es256_jwt(srv):
    r = login(srv)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers.get("Cache-Control") == "no-store"
    doc = r.json()
    assert doc["token_type"] == "Bearer" and doc["expires_in"] == 3600
    header, claims, _ = jwt_parts(doc["access_token"])
    assert header["alg"] == "ES256" and header["kid"]
    assert set(claims) == {"exp", "iat", "iss", "jti", "sub"}
    assert claims["sub"] == ALICE[0]
    assert claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - time.time()) < 60
    assert token(srv) != doc["access_token"], "every token has its own jti"


def test_sha256_password_accounts(srv):
    assert login(srv, BOB).status_code == 200
    assert login(srv, (BOB[0], BOB_HASH)).status_code == 400, "the hash is not the password"


def test_bad_client_is_401_invalid_client(srv):
    for client in (None, ("e2e-client", "wrong"), ("nobody", "e2e-secret"), ("e2e-client", "")):
        r = login(srv, client=client)
        assert r.status_code == 401, (client, r.status_code, r.text)
        doc = error_json(r)
        assert doc["code"] == "invalid_client" and doc["error"] == "invalid_client", doc
        assert r.headers.get("WWW-Authenticate", "").startswith("Basic"), r.headers
    r = request("POST", mx(srv, "auth"), headers={"Authorization": "Basic %%%"}, data={"grant_type": "password"})
    assert r.status_code == 401 and error_json(r)["code"] == "invalid_client"


def test_bad_user_or_password_is_400_invalid_grant(srv):
    for user in ((ALICE[0], "nope"), ("mallory", "alice-pw"), (ALICE[0].upper(), ALICE[1])):
        r = login(srv, user)
        assert r.status_code == 400, (user, r.status_code)
        doc = error_json(r)
        assert doc["error"] == "invalid_grant" and doc["code"] == "invalid_grant", doc
        assert "access_token" not in r.text


def test_wrong_grant_type(srv):
    r = login(srv, grant_type="client_credentials")
    assert r.status_code == 400 and error_json(r)["error"] == "unsupported_grant_type"
    r = request("POST", mx(srv, "auth"), auth=CLIENT, data={"username": ALICE[0], "password": ALICE[1]})
    assert r.status_code == 400 and error_json(r)["error"] == "invalid_request"


def test_missing_or_wrong_body_is_invalid_request(srv):
    r = request("POST", mx(srv, "auth"), auth=CLIENT)
    assert r.status_code == 400 and error_json(r)["error"] == "invalid_request", r.text
    r = request("POST", mx(srv, "auth"), auth=CLIENT, json={"username": ALICE[0], "password": ALICE[1], "grant_type": "password"})
    assert r.status_code == 400 and error_json(r)["error"] == "invalid_request", r.text
    r = request("POST", mx(srv, "auth"), auth=CLIENT, data={"grant_type": "password", "username": ALICE[0]})
    assert r.status_code == 400 and error_json(r)["error"] == "invalid_request", r.text
    r = request("POST", mx(srv, "auth"), auth=CLIENT, data=b"grant_type=%zz",
                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and error_json(r)["error"] == "invalid_request", r.text


def test_get_auth_returns_stable_user_info(srv):
    r = call(srv, "GET", "auth", token(srv))
    assert r.status_code == 200, r.text
    me = r.json()
    assert list(me) == ["mx", "ext", "jid", "softPhonePwd"]
    assert re.fullmatch(r"\d{5}", me["mx"]) and re.fullmatch(r"\d{4}", me["ext"]) and re.fullmatch(r"\d{17}", me["jid"])
    assert re.fullmatch(r"[A-Za-z0-9]{32}", me["softPhonePwd"])
    assert call(srv, "GET", "auth", token(srv)).json() == me, "the same user gets the same values"
    bob = call(srv, "GET", "auth", token(srv, BOB)).json()
    assert bob["jid"] != me["jid"] and bob["softPhonePwd"] != me["softPhonePwd"] and bob["mx"] == me["mx"]


def test_endpoints_require_a_bearer_token(srv):
    for method, path in (("GET", "auth"), ("DELETE", "auth/logout"), ("GET", "conferences"), ("POST", "conferences"),
                         ("GET", "conferences/info"), ("PUT", "conferences/x"), ("DELETE", "conferences/x"),
                         ("POST", "conferences/x")):
        r = request(method, mx(srv, path), json={})
        assert_401_token(r, "missing_token")
        r = request(method, mx(srv, path), headers={"Authorization": "Bearer not-a-jwt"})
        assert_401_token(r)
        r = request(method, mx(srv, path), headers={"Authorization": "Basic " + b64url(b"a:b")})
        assert_401_token(r, "missing_token")


def test_unknown_paths_and_methods(srv):
    tok = token(srv)
    r = call(srv, "GET", "nothing", tok)
    assert r.status_code == 404 and error_json(r)["code"] == "not_found"
    r = call(srv, "PATCH", "conferences", tok)
    assert r.status_code == 405 and "POST" in r.headers.get("Allow", "")


# -- conferences --------------------------------------------------------------------------------------------------------

def test_conference_info(srv):
    r = call(srv, "GET", "conferences/info", token(srv))
    assert r.status_code == 200
    info = r.json()["conferences"]
    assert list(info) == ["ext", "did", "subject", "body", "meeting"]
    assert info["did"] == "15125550136" and info["ext"] == "3044"
    assert info["subject"] == "Conference Call: %Date% @ %Time% - %Subject%"
    assert "If prompted, enter the following Conference ID: %ID%, followed by # key." in info["body"]
    assert "%URL%" in info["meeting"]


def test_create_list_update_join_delete(srv):
    tok = token(srv)
    jid = int(call(srv, "GET", "auth", tok).json()["jid"])
    pin = unique_pin()
    r = create(srv, tok, accessId=pin)
    assert r.status_code == 201, r.text
    conf = r.json()
    cid = conf["Id"]
    assert re.fullmatch(r"[a-z0-9]{12}", cid)
    assert r.headers["Location"] == f"/api/mx/conferences/{cid}"
    assert conf["ownerId"] == jid and conf["accessId"] == pin and conf["type"] == "Once"
    assert conf["startDate"] == START and conf["duration"] == 30 and conf["ws"] == "None" and conf["wsType"] == "Undefined"
    assert conf["room"] == f"conf-{cid}"
    assert conf["meeting"] == f"{srv.url}/conf-{cid}"
    assert conf["participants"] == [] and conf["participantCount"] == 0
    # The meeting link is a Rooms room page.
    assert get(conf["meeting"]).status_code == 200

    listed = call(srv, "GET", "conferences", tok).json()["conferences"]
    assert [c for c in listed if c["Id"] == cid] == [conf]
    assert call(srv, "GET", f"conferences/{cid}", tok).json() == conf

    new_pin = unique_pin()
    r = call(srv, "PUT", f"conferences/{cid}", tok,
             json=seed_conference(Id=cid, name="Renamed", accessId=new_pin, type="Weekly", duration=60, waitForOwner=True))
    assert r.status_code == 200, r.text
    updated = r.json()
    assert (updated["Id"], updated["name"], updated["accessId"], updated["type"], updated["waitForOwner"]) == \
        (cid, "Renamed", new_pin, "Weekly", True)
    assert updated["room"] == conf["room"], "renaming keeps the room"
    assert [c for c in call(srv, "GET", "conferences", tok).json()["conferences"] if c["Id"] == cid] == [updated]

    assert call(srv, "POST", f"conferences/{cid}", tok, json={"accessId": new_pin}).status_code == 204
    assert call(srv, "POST", f"conferences/{cid}", tok, json={"accessId": str(new_pin)}).status_code == 204
    # The seed's own example body has a trailing comma.
    r = call(srv, "POST", f"conferences/{cid}", tok, data=f'{{"accessId": {new_pin},}}',
             headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 204, r.text
    r = call(srv, "POST", f"conferences/{cid}", tok, json={"accessId": pin})
    assert r.status_code == 403 and error_json(r)["code"] == "wrong_access_id"

    r = call(srv, "DELETE", f"conferences/{cid}", tok)
    assert r.status_code == 204 and r.content == b""
    for method in ("DELETE", "PUT", "GET", "POST"):
        r = call(srv, method, f"conferences/{cid}", tok, json=seed_conference(accessId=pin))
        assert r.status_code == 404 and error_json(r)["code"] == "not_found", (method, r.text)
    assert cid not in [c["Id"] for c in call(srv, "GET", "conferences", tok).json()["conferences"]]


def test_access_id_clash_is_409(srv):
    alice, bob = token(srv), token(srv, BOB)
    pin = unique_pin()
    assert create(srv, alice, accessId=pin).status_code == 201
    for tok in (alice, bob):
        r = create(srv, tok, accessId=pin)
        assert r.status_code == 409, r.text
        doc = error_json(r)
        assert doc["code"] == "access_id_taken" and doc["field"] == "accessId"
    other = create(srv, alice, accessId=unique_pin()).json()
    r = call(srv, "PUT", f"conferences/{other['Id']}", alice, json=seed_conference(accessId=pin))
    assert r.status_code == 409
    assert call(srv, "GET", f"conferences/{other['Id']}", alice).json()["accessId"] == other["accessId"]


def test_another_users_conference_is_403(srv):
    alice, bob = token(srv), token(srv, BOB)
    pin = unique_pin()
    conf = create(srv, alice, accessId=pin).json()
    for method in ("PUT", "DELETE", "GET"):
        r = call(srv, method, f"conferences/{conf['Id']}", bob, json=seed_conference(accessId=unique_pin()))
        assert r.status_code == 403 and error_json(r)["code"] == "forbidden", (method, r.text)
    assert conf["Id"] not in [c["Id"] for c in call(srv, "GET", "conferences", bob).json()["conferences"]]
    assert call(srv, "GET", f"conferences/{conf['Id']}", alice).json()["name"] == "Test Conf", "unchanged"
    # Anyone who knows the access id may join.
    assert call(srv, "POST", f"conferences/{conf['Id']}", bob, json={"accessId": pin}).status_code == 204
    # Nobody creates conferences in another user's name.
    bob_jid = int(call(srv, "GET", "auth", bob).json()["jid"])
    r = create(srv, alice, accessId=unique_pin(), ownerId=bob_jid)
    assert r.status_code == 403, r.text
    assert create(srv, bob, accessId=unique_pin(), ownerId=bob_jid).status_code == 201
    assert create(srv, bob, accessId=unique_pin(), ownerId=str(bob_jid)).status_code == 201


@pytest.mark.parametrize("changes,field", [
    ({"accessId": None}, "accessId"),
    ({"accessId": 999}, "accessId"),
    ({"accessId": 1234567890123}, "accessId"),
    ({"accessId": "12ab"}, "accessId"),
    ({"accessId": 12345.5}, "accessId"),
    ({"type": "Monthly"}, "type"),
    ({"type": None}, "type"),
    ({"startDate": "tomorrow"}, "startDate"),
    ({"startDate": 0}, "startDate"),
    ({"duration": 0}, "duration"),
    ({"duration": "30"}, "duration"),
    ({"type": "Daily", "duration": 1441}, "duration"),
    ({"name": ""}, "name"),
    ({"name": ["x"]}, "name"),
    ({"waitForOwner": "yes"}, "waitForOwner"),
    ({"ws": 1}, "ws"),
])
def test_validation_errors_name_the_field(srv, changes, field):
    r = create(srv, token(srv), **changes)
    assert r.status_code == 400, r.text
    doc = error_json(r)
    assert doc["code"] == "invalid_field" and doc["field"] == field, doc
    assert doc["message"].startswith(field), doc


def test_malformed_bodies_are_400_json_and_the_server_stays_up(srv):
    tok = token(srv)
    for body in (b"{", b"not json", b"", b"\xff\xfe", b'{"name": "x"' + b" " * 1000):
        r = call(srv, "POST", "conferences", tok, data=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and error_json(r)["code"] == "invalid_json", (body[:20], r.text)
    for body in ([], 42, "x", None):
        r = call(srv, "POST", "conferences", tok, data=json.dumps(body), headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and error_json(r)["field"] == "body", r.text
    head = (f"POST /api/mx/conferences HTTP/1.1\r\nHost: {HOST}:{srv.port}\r\nAuthorization: Bearer {tok}\r\n"
            f"Content-Type: application/json\r\nConnection: close\r\n").encode()
    big = b"{" + b" " * (2 << 20) + b"}"
    chunked = b"".join(f"{65536:x}\r\n".encode() + b" " * 65536 + b"\r\n" for _ in range(3)) + b"0\r\n\r\n"
    for raw in (head + f"Content-Length: {len(big)}\r\n\r\n".encode() + big,
                head + b"Transfer-Encoding: chunked\r\n\r\n" + chunked):
        answer = raw_exchange(srv.port, raw)
        assert answer and answer.startswith(b"HTTP/1.1 413"), (answer or b"")[:300]
        assert b"request_too_large" in answer
    r = call(srv, "POST", "conferences/whatever", tok, data=b"[1,2", headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 404), r.text
    assert srv.healthy() and srv.alive()
    assert create(srv, tok, accessId=unique_pin()).status_code == 201


def test_participants_come_from_the_room(srv):
    tok = token(srv)
    conf = create(srv, tok, accessId=unique_pin()).json()
    conn, me = ws_self(srv.url)
    try:
        welcome = hello(conn, conf["room"])
        assert welcome["Type"] == "Welcome", welcome

        def mine():
            docs = call(srv, "GET", "conferences", tok).json()["conferences"]
            return next(c for c in docs if c["Id"] == conf["Id"])

        listed = poll(lambda: mine() if mine()["participantCount"] == 1 else None)
        assert listed, mine()
        assert [p["id"] for p in listed["participants"]] == [me["Id"]]
    finally:
        conn.close()


# -- tokens -------------------------------------------------------------------------------------------------------------

def test_forged_tokens_are_401(srv):
    tok = token(srv)
    h, p, s = tok.split(".")
    header, claims, _ = jwt_parts(tok)
    forged_claims = dict(claims, sub=BOB[0])
    # One payload character changed, signature kept.
    flipped = p[:10] + ("A" if p[10] != "A" else "B") + p[11:]
    # alg none (with and without signature).
    none = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": header["kid"]}).encode()) + "." + \
        b64url(json.dumps(forged_claims).encode())
    # HS256 keyed with the server's public key, which the test reads from the data folder.
    db = sqlite3.connect(str(srv.data_dir / "rooms.sqlite"))
    raw = db.execute("SELECT privateKey FROM mx_signing_keys WHERE kid = ?", (header["kid"],)).fetchone()[0]
    db.close()
    private = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    hs_input = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": header["kid"]}).encode()) + "." + \
        b64url(json.dumps(forged_claims).encode())
    hs = hs_input + "." + b64url(hmac.new(pem, hs_input.encode(), hashlib.sha256).digest())
    # ES256 by a stranger's key under the server's kid.
    stranger = ec.generate_private_key(ec.SECP256R1())
    es_input = h + "." + b64url(json.dumps(forged_claims).encode())
    r_s = utils.decode_dss_signature(stranger.sign(es_input.encode(), ec.ECDSA(hashes.SHA256())))
    es = es_input + "." + b64url(r_s[0].to_bytes(32, "big") + r_s[1].to_bytes(32, "big"))
    # Sanity: the same construction with the server's own key is accepted, so the forgeries fail for the right reason.
    r_o = utils.decode_dss_signature(private.sign(es_input.encode(), ec.ECDSA(hashes.SHA256())))
    genuine = es_input + "." + b64url(r_o[0].to_bytes(32, "big") + r_o[1].to_bytes(32, "big"))
    assert call(srv, "GET", "auth", genuine).status_code == 200

    for forged in (flipped, none, none + ".", hs, es, h + "." + p, h + "." + p + "." + s[:-4], tok + "x", "a.b.c"):
        r = call(srv, "GET", "auth", forged)
        doc = assert_401_token(r)
        assert "sub" not in doc, doc
    assert call(srv, "GET", "auth", tok).status_code == 200
    assert srv.alive()


def test_logout_revokes_only_that_token(srv):
    first, second = token(srv), token(srv)
    r = call(srv, "DELETE", "auth/logout", first)
    assert r.status_code == 204
    doc = assert_401_token(call(srv, "GET", "auth", first))
    assert "logged out" in doc["message"]
    assert_401_token(call(srv, "DELETE", "auth/logout", first))
    assert call(srv, "GET", "auth", second).status_code == 200


def test_expired_tokens_are_401(rooms):
    s = rooms(conf(), extra_args=["--set", "conferences.tokenTTL=2s"])
    r = login(s)
    assert r.json()["expires_in"] == 2
    tok = r.json()["access_token"]
    assert call(s, "GET", "auth", tok).status_code == 200
    time.sleep(2.2)
    doc = assert_401_token(call(s, "GET", "auth", tok))
    assert "expired" in doc["message"]


def test_signing_keys_rotate_and_old_tokens_stay_valid(rooms):
    s = rooms(conf(signKeyTTL="1s"))
    first = token(s)
    time.sleep(1.2)
    second = token(s)
    assert jwt_parts(first)[0]["kid"] != jwt_parts(second)[0]["kid"]
    for tok in (first, second):
        assert call(s, "GET", "auth", tok).status_code == 200


def test_restart_keeps_conferences_and_tokens(rooms):
    s = rooms(conf())
    tok, revoked = token(s), token(s)
    conf_doc = create(s, tok, accessId=unique_pin()).json()
    assert call(s, "DELETE", "auth/logout", revoked).status_code == 204
    s.restart()
    r = call(s, "GET", "conferences", tok)
    assert r.status_code == 200, r.text
    assert [c["Id"] for c in r.json()["conferences"]] == [conf_doc["Id"]]
    assert_401_token(call(s, "GET", "auth", revoked))
    assert create(s, tok, accessId=conf_doc["accessId"]).status_code == 409, "the PIN is still taken"


# -- configuration ------------------------------------------------------------------------------------------------------

def test_no_apps_configured_is_503(rooms):
    s = rooms(build_conf({"conferences": {"users": "alice@example.com:alice-pw"}}))
    r = login(s)
    assert r.status_code == 503
    doc = error_json(r)
    assert doc["code"] == "no_apps_configured" and "apps" in doc["message"]
    assert "no OAuth2 apps configured" in s.log()


def test_disabled_api_is_404(rooms):
    s = rooms(conf(enabled="false"))
    r = login(s)
    assert r.status_code == 404 and error_json(r)["code"] == "not_found"


def test_environment_overrides(rooms):
    s = rooms(conf(), env={"ROOMS_CONFERENCES_TOKENTTL": "5m", "ROOMS_CONFERENCES_DID": "4930123456"})
    assert login(s).json()["expires_in"] == 300
    assert call(s, "GET", "conferences/info", token(s)).json()["conferences"]["did"] == "4930123456"


def test_config_errors_name_file_and_line():
    text = "[http]\nlisten = 127.0.0.1:@PORT@\n" + conf(tokenTTL="soon")
    err = start_expect_failure(text, add_listen=False)
    assert "server.conf" in err and "tokenTTL" in err, err
    assert_names_line(err, line_of(text, "tokenTTL"))
    text = "[http]\nlisten = 127.0.0.1:@PORT@\n[conferences]\nusers = lonely\n"
    err = start_expect_failure(text, add_listen=False)
    assert_names_line(err, line_of(text, "lonely"))
