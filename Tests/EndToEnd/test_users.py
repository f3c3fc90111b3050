"""Users: registration and session PATCH (conformance 44-51, 57 header part; rest-api.md §7.4, §7.5)."""

import base64
import hashlib
import hmac
import re
import subprocess
import time

import pytest

from conftest import (
    SHARED_SECRET,
    authenticate,
    b64hmac,
    default_conf,
    error_json,
    location_path,
    patch_session,
    poll,
    register,
    request,
    sharedsecret_combo,
    ws_self,
)

UUID_USER_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}@local")
PATCH_FAILED = {"code": "session_patch_failed", "message": "Failed to patch session", "success": False}
HEX64 = "00112233445566778899aabbccddeeff" * 2


@pytest.fixture(scope="module")
def srv(rooms_module):
    return rooms_module(default_conf())


@pytest.fixture
def session(srv):
    conn, me = ws_self(srv.url)
    yield conn, me
    conn.close()


def check_registration(r, me=None):
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.headers.get("Content-Type", "").startswith("application/json")
    doc = r.json()
    assert set(doc.keys()) == {"nonce", "userid", "useridcombo", "secret", "timestamp", "success"}, doc
    assert doc["success"] is True
    assert isinstance(doc["nonce"], str) and doc["nonce"]
    assert UUID_USER_RE.fullmatch(doc["userid"]), doc["userid"]
    assert isinstance(doc["timestamp"], int)
    assert abs(doc["timestamp"] - (time.time() + 372 * 86400)) < 60, doc["timestamp"]
    assert doc["useridcombo"] == f"{doc['timestamp']}:{doc['userid']}"
    assert doc["secret"] == b64hmac(SHARED_SECRET.encode(), doc["useridcombo"])
    return doc


# -- 44, 45 -------------------------------------------------------------------------------------------------------------

def test_44_register_json(srv, session):
    conn, me = session
    doc = check_registration(register(srv, me))
    # registering does not authenticate the session: the nonce is usable over the socket
    self_doc = authenticate(conn, doc["userid"], doc["nonce"])
    assert self_doc["Type"] == "Self", self_doc
    assert self_doc["Userid"] == doc["userid"]
    assert self_doc["Id"] == me["Id"] and self_doc["Sid"] == me["Sid"]
    assert self_doc["Suserid"]


def test_44_two_registrations_differ(srv, session):
    conn, me = session
    d1 = check_registration(register(srv, me))
    d2 = check_registration(register(srv, me))
    assert d1["userid"] != d2["userid"]


def test_44_json_content_type_with_charset(srv, session):
    conn, me = session
    import json as _json
    r = request("POST", srv.url + "/api/v1/users", data=_json.dumps({"id": me["Id"], "sid": me["Sid"]}),
                headers={"Content-Type": "application/json; charset=utf-8"})
    check_registration(r)


def test_45_register_form(srv, session):
    conn, me = session
    check_registration(register(srv, me, form=True))


# -- 46, 47, 48 ---------------------------------------------------------------------------------------------------------

def users_post(srv, body, content_type):
    return request("POST", srv.url + "/api/v1/users", data=body, headers={"Content-Type": content_type})


def test_46_registration_errors(srv, session):
    conn, me = session
    r = users_post(srv, "id=x&sid=y", "text/plain")
    assert r.status_code == 400
    assert error_json(r) == {"code": "users_invalid_request", "message": "Invalid request type", "success": False}
    r = users_post(srv, "{", "application/json")
    assert r.status_code == 400
    assert error_json(r) == {"code": "users_bad_request", "message": "Failed to parse request", "success": False}
    r = users_post(srv, "{}", "application/json")
    assert r.status_code == 400
    assert error_json(r) == {"code": "users_bad_request", "message": "Incomplete request", "success": False}
    r = users_post(srv, f"id={me['Id']}", "application/x-www-form-urlencoded")
    assert r.status_code == 400
    assert error_json(r)["code"] == "users_bad_request"


def test_46_forged_pair(srv):
    a, ida = ws_self(srv.url)
    b, idb = ws_self(srv.url)
    try:
        r = register(srv, {"Id": ida["Id"], "Sid": idb["Sid"]})
        assert r.status_code == 403
        assert error_json(r)["code"] == "users_invalid_session"
        r = register(srv, {"Id": "garbage-id", "Sid": ida["Sid"]})
        assert r.status_code == 403
        assert error_json(r)["code"] == "users_invalid_session"
    finally:
        a.close()
        b.close()


def test_46_already_authenticated(srv, session):
    conn, me = session
    doc = check_registration(register(srv, me))
    assert authenticate(conn, doc["userid"], doc["nonce"])["Userid"] == doc["userid"]
    r = register(srv, me)
    assert r.status_code == 400
    err = error_json(r)
    assert err["code"] == "users_request_failed"
    assert err["message"].startswith("Error: "), err


def test_46_disconnected_session(srv):
    conn, me = ws_self(srv.url)
    conn.close()

    def refused():
        r = register(srv, me)
        return [r] if r.status_code == 400 else None

    res = poll(refused, 5)  # (a Response with status >= 400 is falsy, hence the list)
    assert res, "registration for a disconnected session must fail with 400"
    assert error_json(res[0])["code"] == "users_request_failed"


def test_47_registration_disabled(rooms):
    s = rooms(default_conf({"users": {"allowRegistration": "false"}}))
    assert s.config()["UsersAllowRegistration"] is False
    conn, me = ws_self(s.url)
    try:
        r = register(s, me)
        assert r.status_code != 200
        assert r.status_code in (404, 405), r.status_code
        assert "success" not in r.text
        # PATCH still works without registration
        combo, secret = sharedsecret_combo("carol", int(time.time()) + 3600)
        r = patch_session(s, me["Id"], {"id": me["Id"], "sid": me["Sid"], "useridcombo": combo, "secret": secret})
        assert r.status_code == 200, r.text
        assert r.json()["userid"] == "carol"
    finally:
        conn.close()


@pytest.fixture(scope="module")
def hdr(rooms_module):
    conf = default_conf({"users": {"mode": "httpheader", "sharedsecret_secret": None},
                         "app": {"encryptionSecret": HEX64}})
    return rooms_module(conf)


def test_48_httpheader_registration_fails(hdr):
    conn, me = ws_self(hdr.url)
    try:
        r = register(hdr, me)
        assert r.status_code == 400
        assert error_json(r)["code"] == "users_create_failed"
    finally:
        conn.close()


# -- 57 (header part) ---------------------------------------------------------------------------------------------------

def test_57_httpheader_upgrade_authenticates(hdr):
    conn, me = ws_self(hdr.url, headers={"X-Users": "alice"})
    try:
        assert me["Userid"] == "alice"
        expected = base64.b64encode(hmac.new(bytes.fromhex(HEX64), b"alice", hashlib.sha256).digest()).decode()
        assert me["Suserid"] == expected
    finally:
        conn.close()


def test_57_httpheader_patch(hdr):
    conn, me = ws_self(hdr.url)
    try:
        assert me["Userid"] == ""
        r = patch_session(hdr, me["Id"], {"id": me["Id"], "sid": me["Sid"]}, headers={"x-users": "bob"})
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc["userid"] == "bob" and doc["success"] is True and doc["nonce"]
        # without the header there is no user id
        r = patch_session(hdr, me["Id"], {"id": me["Id"], "sid": me["Sid"]})
        assert r.status_code == 403
        assert r.json() == PATCH_FAILED
        # a fresh nonce for bob authenticates the socket
        r = patch_session(hdr, me["Id"], {"id": me["Id"], "sid": me["Sid"]}, headers={"X-Users": "bob"})
        doc = r.json()
        self_doc = authenticate(conn, "bob", doc["nonce"])
        assert self_doc["Type"] == "Self" and self_doc["Userid"] == "bob", self_doc
    finally:
        conn.close()


# -- 49, 50, 51 ---------------------------------------------------------------------------------------------------------

def patch_body(me, combo, secret):
    return {"id": me["Id"], "sid": me["Sid"], "useridcombo": combo, "secret": secret}


def test_49_patch_with_registered_credentials(srv, session):
    conn, me = session
    reg = check_registration(register(srv, me))
    r = patch_session(srv, me["Id"], patch_body(me, reg["useridcombo"], reg["secret"]))
    assert r.status_code == 200, r.text
    assert r.headers.get("Content-Type", "").startswith("application/json")
    doc = r.json()
    assert set(doc.keys()) == {"nonce", "userid", "success"}
    assert doc["userid"] == reg["userid"] and doc["success"] is True and doc["nonce"]
    # the registration nonce was superseded by the PATCH nonce
    err = authenticate(conn, reg["userid"], reg["nonce"])
    if err["Type"] == "Self":  # identical nonces are allowed by the spec (deterministic within a second)
        assert reg["nonce"] == doc["nonce"]
        return
    assert err["Type"] == "Error" and err["Code"] == "invalid_session_token", err
    assert authenticate(conn, reg["userid"], doc["nonce"])["Userid"] == reg["userid"]


def test_49_patch_with_own_combo(srv, session):
    conn, me = session
    combo, secret = sharedsecret_combo("bob", int(time.time()) + 600)
    r = patch_session(srv, me["Id"], patch_body(me, combo, secret))
    assert r.status_code == 200, r.text
    assert r.json()["userid"] == "bob"
    # a third part is covered by the HMAC and otherwise ignored; unknown keys are ignored
    combo, secret = sharedsecret_combo("dave", int(time.time()) + 600, extra="whatever")
    body = patch_body(me, combo, secret)
    body["unknown"] = 1
    r = patch_session(srv, me["Id"], body)
    assert r.status_code == 200, r.text
    assert r.json()["userid"] == "dave"
    # Content-Type is not checked
    import json as _json
    r = request("PATCH", srv.url + f"/api/v1/sessions/{me['Id']}/", data=_json.dumps(body),
                headers={"Content-Type": "text/plain"})
    assert r.status_code == 200, r.text


def test_50_patch_failures(srv):
    a, me = ws_self(srv.url)
    b, other = ws_self(srv.url)
    try:
        now = int(time.time())
        good_combo, good_secret = sharedsecret_combo("bob", now + 600)
        cases = {
            "expired": patch_body(me, *sharedsecret_combo("bob", now - 10)),
            "wrong secret": patch_body(me, good_combo, b64hmac(b"not-the-secret", good_combo)),
            "secret of other combo": patch_body(me, good_combo, sharedsecret_combo("eve", now + 600)[1]),
            "wrong sid": {**patch_body(me, good_combo, good_secret), "sid": other["Sid"]},
            "empty sid": {**patch_body(me, good_combo, good_secret), "sid": ""},
            "body id differs": {**patch_body(me, good_combo, good_secret), "id": other["Id"]},
            "one part combo": patch_body(me, "bob", b64hmac(SHARED_SECRET.encode(), "bob")),
            "empty user": patch_body(me, *sharedsecret_combo("", now + 600)),
        }
        for name, body in cases.items():
            r = patch_session(srv, me["Id"], body)
            assert r.status_code == 403, (name, r.status_code, r.text)
            assert r.json() == PATCH_FAILED, (name, r.text)
        # URL Id differs from the body id (other's own valid pair in the body)
        r = patch_session(srv, me["Id"], patch_body(other, good_combo, good_secret))
        assert r.status_code == 403 and r.json() == PATCH_FAILED
        # sanity: the good request works
        r = patch_session(srv, me["Id"], patch_body(me, good_combo, good_secret))
        assert r.status_code == 200, r.text
    finally:
        a.close()
        b.close()


def test_50_patch_disconnected_session(srv):
    conn, me = ws_self(srv.url)
    conn.close()
    combo, secret = sharedsecret_combo("bob", int(time.time()) + 600)

    def failed():
        r = patch_session(srv, me["Id"], patch_body(me, combo, secret))
        return [r] if r.status_code == 403 else None

    res = poll(failed, 5)
    assert res, "PATCH for a disconnected session must fail with 403"
    assert res[0].json() == PATCH_FAILED


def test_50_patch_authenticated_session(srv, session):
    conn, me = session
    combo, secret = sharedsecret_combo("frank", int(time.time()) + 600)
    r = patch_session(srv, me["Id"], patch_body(me, combo, secret))
    assert r.status_code == 200
    assert authenticate(conn, "frank", r.json()["nonce"])["Userid"] == "frank"
    r = patch_session(srv, me["Id"], patch_body(me, combo, secret))
    assert r.status_code == 403
    assert r.json() == PATCH_FAILED


def test_51_patch_without_trailing_slash_redirects(srv, session):
    conn, me = session
    r = request("PATCH", srv.url + f"/api/v1/sessions/{me['Id']}", json={})
    assert r.status_code == 301, r.status_code
    assert location_path(r.headers.get("Location")) == f"/api/v1/sessions/{me['Id']}/"


# -- restart: generated secrets are persisted ---------------------------------------------------------------------------

def test_registration_survives_restart(rooms):
    s = rooms(default_conf())  # no sessionSecret/encryptionSecret in the file: generated into the data dir
    conn, me = ws_self(s.url)
    reg = check_registration(register(s, me))
    token = me["Token"]
    conn.close()
    s.restart()
    conn, me2 = ws_self(s.url)
    try:
        r = patch_session(s, me2["Id"], patch_body(me2, reg["useridcombo"], reg["secret"]))
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc["userid"] == reg["userid"] and doc["success"] is True
        assert authenticate(conn, reg["userid"], doc["nonce"])["Userid"] == reg["userid"]
    finally:
        conn.close()
    # the resume Token of the first run is still valid: the session secrets were persisted
    conn, me3 = ws_self(s.url, token=token)
    conn.close()
    assert me3["Id"] == me["Id"] and me3["Sid"] == me["Sid"]


def test_fresh_data_dir_gets_fresh_secrets(rooms):
    s1 = rooms(default_conf())
    conn, me = ws_self(s1.url)
    conn.close()
    s2 = rooms(default_conf())  # other data dir
    conn, me2 = ws_self(s2.url, token=me["Token"])
    conn.close()
    assert me2["Id"] != me["Id"], "a Token from a server with other secrets must not be accepted"


# -- certificate mode (rest-api §7.5) -----------------------------------------------------------------------------------

def openssl(*args, cwd):
    p = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, (args, p.stdout, p.stderr)
    return p.stdout


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
            "-subj", "/CN=E2E Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    openssl("genrsa", "-out", "key.pem", "2048", cwd=d)
    out = openssl("spkac", "-key", "key.pem", "-challenge", "x", cwd=d)
    spkac = out.strip()
    assert spkac.startswith("SPKAC=")
    return d, spkac[len("SPKAC="):].replace("\n", "")


@pytest.fixture(scope="module")
def certsrv(rooms_module, pki):
    d, _ = pki
    conf = default_conf({"users": {
        "mode": "certificate",
        "sharedsecret_secret": None,
        "certificate_certificate": str(d / "ca.pem"),
        "certificate_key": str(d / "ca.key"),
        "certificate_organization": "E2E Org",
        "certificate_validForDays": "10",
        "certificate_verifiedHeader": "X-SSL-Verified",
        "certificate_verifiedHeaderValue": "SUCCESS",
        "certificate_certificateHeader": "X-SSL-Cert",
    }})
    return rooms_module(conf)


def register_certificate(srv, me, pubkey):
    return request("POST", srv.url + "/api/v1/users", data={"id": me["Id"], "sid": me["Sid"], "pubkey": pubkey})


def test_certificate_registration(certsrv, pki, tmp_path):
    d, pubkey = pki
    conn, me = ws_self(certsrv.url)
    try:
        r = register_certificate(certsrv, me, pubkey)
    finally:
        conn.close()
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers.get("Content-Type") == "application/x-x509-user-cert"
    assert r.headers.get("Content-Length") == str(len(r.content))
    assert r.headers.get("Accept-Ranges") == "bytes"
    assert "Last-Modified" in r.headers
    der = tmp_path / "cert.der"
    der.write_bytes(r.content)
    openssl("x509", "-inform", "DER", "-in", "cert.der", "-out", "cert.pem", cwd=tmp_path)
    out = openssl("verify", "-CAfile", str(d / "ca.pem"), "-purpose", "sslclient", "cert.pem", cwd=tmp_path)
    assert "cert.pem: OK" in out
    subject = openssl("x509", "-in", "cert.pem", "-noout", "-subject", "-nameopt", "RFC2253", cwd=tmp_path)
    cn = re.search(r"CN=([^,\n]+)", subject).group(1)
    assert UUID_USER_RE.fullmatch(cn), subject
    assert re.search(r"O=E2E Org\b", subject), subject
    issuer = openssl("x509", "-in", "cert.pem", "-noout", "-issuer", "-nameopt", "RFC2253", cwd=tmp_path)
    assert "CN=E2E Test CA" in issuer
    text = openssl("x509", "-in", "cert.pem", "-noout", "-text", cwd=tmp_path)
    assert "TLS Web Client Authentication" in text
    assert "Digital Signature" in text and "Key Encipherment" in text
    # the certificate carries the registering client's public key
    pub_cert = openssl("x509", "-in", "cert.pem", "-noout", "-pubkey", cwd=tmp_path)
    pub_key = openssl("rsa", "-in", str(d / "key.pem"), "-pubout", cwd=tmp_path)
    assert pub_cert.strip() == pub_key.strip()
    # valid for about 10 days
    check = subprocess.run(["openssl", "x509", "-in", "cert.pem", "-noout", "-checkend", str(9 * 86400)],
                           cwd=tmp_path, capture_output=True)
    assert check.returncode == 0, "certificate expires before 9 days"
    check = subprocess.run(["openssl", "x509", "-in", "cert.pem", "-noout", "-checkend", str(11 * 86400)],
                           cwd=tmp_path, capture_output=True)
    assert check.returncode != 0, "certificate valid for more than 11 days"

    # proxy mode: the PEM certificate in a header authenticates PATCH and the WebSocket upgrade
    pem = (tmp_path / "cert.pem").read_text().strip()
    header_value = " ".join(pem.splitlines())
    conn, me2 = ws_self(certsrv.url)
    try:
        hdrs = {"X-SSL-Cert": header_value, "X-SSL-Verified": "SUCCESS"}
        p = patch_session(certsrv, me2["Id"], {"id": me2["Id"], "sid": me2["Sid"]}, headers=hdrs)
        assert p.status_code == 200, p.text
        assert p.json()["userid"] == cn
        p = patch_session(certsrv, me2["Id"], {"id": me2["Id"], "sid": me2["Sid"]},
                          headers={"X-SSL-Cert": header_value, "X-SSL-Verified": "FAILED"})
        assert p.status_code == 403 and p.json() == PATCH_FAILED
        p = patch_session(certsrv, me2["Id"], {"id": me2["Id"], "sid": me2["Sid"]},
                          headers={"X-SSL-Cert": header_value})
        assert p.status_code == 403 and p.json() == PATCH_FAILED
    finally:
        conn.close()
    conn, me3 = ws_self(certsrv.url, headers={"X-SSL-Cert": header_value, "X-SSL-Verified": "SUCCESS"})
    conn.close()
    assert me3["Userid"] == cn


def test_certificate_registration_errors(certsrv):
    conn, me = ws_self(certsrv.url)
    try:
        r = request("POST", certsrv.url + "/api/v1/users", data={"id": me["Id"], "sid": me["Sid"]})
        assert r.status_code == 400
        assert error_json(r)["code"] == "users_create_failed"
        r = register_certificate(certsrv, me, "bm90IGFuIFNQS0FD")
        assert r.status_code == 400
        assert error_json(r)["code"] == "users_create_failed"
        r = register_certificate(certsrv, me, "!!!not base64!!!")
        assert r.status_code == 400
        assert error_json(r)["code"] == "users_create_failed"
    finally:
        conn.close()
    assert certsrv.healthy()
