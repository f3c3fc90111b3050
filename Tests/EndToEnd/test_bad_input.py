"""Hostile and malformed input: every case gets a clear status (and a JSON error where the API is JSON), and the
server keeps serving (checked after every test)."""

import http.client
import io
import json
import socket
import time

import pytest

from conftest import (
    HOST,
    SHARED_SECRET,
    b64hmac,
    default_conf,
    error_json,
    get,
    patch_session,
    raw_request,
    request,
    sharedsecret_combo,
    ws_self,
)

MIB = 1024 * 1024
PATCH_FAILED = {"code": "session_patch_failed", "message": "Failed to patch session", "success": False}


@pytest.fixture(scope="module")
def srv(rooms_module):
    return rooms_module(default_conf())


@pytest.fixture(autouse=True)
def still_serving(srv):
    yield
    r = get(srv.url + "/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}, "server stopped serving"
    assert srv.alive(), f"server process died\n{srv.log()}"


@pytest.fixture
def session(srv):
    conn, me = ws_self(srv.url)
    yield conn, me
    conn.close()


def raw_exchange(port: int, data: bytes, timeout: float = 10) -> bytes | None:
    """Send raw bytes and return what the server answered (None when nothing came back).  Reading stops at EOF,
    at `timeout`, or 0.5 s after the last received data."""
    chunks = []
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:  # the server may answer and stop reading before everything was sent
            pass
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                chunks.append(c)
                s.settimeout(0.5)
        except OSError:
            pass
    return b"".join(chunks) or None


class _FakeSock:
    def __init__(self, raw: bytes):
        self.raw = raw

    def makefile(self, *a, **kw):
        return io.BytesIO(self.raw)


def parse_raw(raw: bytes) -> tuple[int, http.client.HTTPMessage, bytes]:
    assert raw.startswith(b"HTTP/1."), raw[:200]
    resp = http.client.HTTPResponse(_FakeSock(raw))
    resp.begin()
    try:
        body = resp.read()
    except http.client.IncompleteRead as e:
        body = e.partial
    return resp.status, resp.headers, body


def status_of(raw: bytes) -> int:
    return parse_raw(raw)[0]


def body_of(raw: bytes) -> bytes:
    return parse_raw(raw)[2]


# -- malformed JSON / forms ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", ["{", "nul", "[1,2", '{"id": "x", "sid": }', "\xff\xfe", '{"id": 5, "sid": []}'])
def test_users_malformed_json(srv, body):
    r = request("POST", srv.url + "/api/v1/users", data=body.encode("latin-1"),
                headers={"Content-Type": "application/json"})
    assert r.status_code == 400, (r.status_code, r.text)
    assert error_json(r)["code"] == "users_bad_request"


@pytest.mark.parametrize("body", ["{", "not json", "[]", '"string"', '{"id": 5}', "", "null"])
def test_sessions_patch_malformed_json(srv, session, body):
    conn, me = session
    r = request("PATCH", srv.url + f"/api/v1/sessions/{me['Id']}/", data=body,
                headers={"Content-Type": "application/json"})
    assert r.status_code == 403, (r.status_code, r.text)
    assert r.json() == PATCH_FAILED


def test_form_parse_failure(srv):
    r = request("POST", srv.url + "/api/v1/tokens", data="a=%zz",
                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400, (r.status_code, r.text)
    if r.content:
        error_json(r)
    # requests would re-quote "%zz" as "%25zz": send the query exactly as written.
    r = raw_request(srv.port, "POST", "/api/v1/rooms?x=%zz")
    assert r.status == 400, (r.status, r.body[:200])


def test_users_form_parse_failure(srv):
    r = request("POST", srv.url + "/api/v1/users", data="id=%zz&sid=%",
                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400, (r.status_code, r.text)
    if r.content:
        error_json(r)


# -- wrong methods, unknown resources -----------------------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("DELETE", "/api/v1/config"), ("PUT", "/api/v1/config"), ("PATCH", "/api/v1/config"),
    ("PUT", "/api/v1/rooms"), ("GET", "/api/v1/rooms"),
    ("GET", "/api/v1/tokens"), ("DELETE", "/api/v1/tokens"),
    ("GET", "/api/v1/users"), ("PUT", "/api/v1/users"),
    ("GET", "/api/v1/sessions/abc/"), ("POST", "/api/v1/sessions/abc/"), ("DELETE", "/api/v1/sessions/abc/"),
    ("DELETE", "/ws"), ("PUT", "/ws"),
])
def test_wrong_method_is_405_with_empty_body(srv, method, path):
    r = request(method, srv.url + path)
    assert r.status_code == 405, (method, path, r.status_code, r.text[:200])
    assert r.content == b""


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v1/config/extra", "/api/v1/sessions", "/api/v1/x/y/z"])
def test_unknown_api_path(srv, path):
    r = get(srv.url + path)
    if r.status_code == 301:  # e.g. /api/v1/sessions -> /api/v1/sessions/ is allowed routing behaviour
        return
    assert r.status_code == 404, (path, r.status_code, r.text[:200])
    assert error_json(r)["code"] == "not_found"


# -- oversized bodies ---------------------------------------------------------------------------------------------------

def oversized_request(port: int, method: str, path: str, size: int, content_type: str) -> bytes | None:
    head = (f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {size}\r\nConnection: close\r\n\r\n").encode()
    return raw_exchange(port, head + b"a" * size)


@pytest.mark.parametrize("method,path,ctype", [
    ("POST", "/api/v1/users", "application/json"),
    ("POST", "/api/v1/users", "application/x-www-form-urlencoded"),
    ("POST", "/api/v1/tokens", "application/x-www-form-urlencoded"),
    ("PATCH", "/api/v1/sessions/abc/", "application/json"),
    ("POST", "/api/v1/rooms", "application/json"),
])
def test_oversized_body_is_413_json(srv, method, path, ctype):
    raw = oversized_request(srv.port, method, path, MIB + 1, ctype)
    assert raw is not None, "connection reset without any response (expected 413)"
    assert status_of(raw) == 413, raw[:300]
    status, headers, body = parse_raw(raw)
    assert "json" in headers.get("Content-Type", ""), headers
    doc = json.loads(body)
    assert doc["success"] is False and doc["code"], doc


def test_body_of_exactly_one_mib_is_accepted(srv, session):
    conn, me = session
    prefix = json.dumps({"id": me["Id"], "sid": "x" * 32, "pad": ""})[:-2]
    body = prefix + "a" * (MIB - len(prefix) - 2) + '"}'
    assert len(body) == MIB
    json.loads(body)
    r = request("POST", srv.url + "/api/v1/users", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 403, (r.status_code, r.text[:200])  # parsed: forged pair, not 413
    assert error_json(r)["code"] == "users_invalid_session"


def test_oversized_chunked_body_is_413(srv):
    chunk = b"a" * 65536
    parts = [f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for _ in range(17)]  # 1.0625 MiB
    head = (f"POST /api/v1/users HTTP/1.1\r\nHost: {HOST}:{srv.port}\r\nContent-Type: application/json\r\n"
            f"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()
    raw = raw_exchange(srv.port, head + b"".join(parts) + b"0\r\n\r\n")
    assert raw is not None, "connection reset without any response (expected 413)"
    assert status_of(raw) == 413, raw[:300]


# -- bad sharedsecret credentials ---------------------------------------------------------------------------------------

def test_bad_sharedsecret_credentials(srv, session):
    conn, me = session
    now = int(time.time())
    combos = [
        ("abc:bob", b64hmac(SHARED_SECRET.encode(), "abc:bob")),                     # expiry not a number
        ("-1:bob", b64hmac(SHARED_SECRET.encode(), "-1:bob")),                       # in the past
        ("0:bob", b64hmac(SHARED_SECRET.encode(), "0:bob")),
        ("99999999999999999999999999:bob",
         b64hmac(SHARED_SECRET.encode(), "99999999999999999999999999:bob")),         # overflows 64 bits
        (f"{now - 1}:bob", b64hmac(SHARED_SECRET.encode(), f"{now - 1}:bob")),       # just expired
        (f"{now + 600}:bob", "not base64 at all!"),
        (f"{now + 600}:bob", ""),
        (f"{now + 600}:bob", b64hmac(SHARED_SECRET.encode(), f"{now + 600}:bob")[:-4]),  # truncated
        ("", ""),
        (f" {now + 600}:bob", b64hmac(SHARED_SECRET.encode(), f" {now + 600}:bob")),  # not decimal
        (f"{now + 600}:bob", b64hmac(SHARED_SECRET.upper().encode(), f"{now + 600}:bob")),
    ]
    for combo, secret in combos:
        r = patch_session(srv, me["Id"], {"id": me["Id"], "sid": me["Sid"], "useridcombo": combo, "secret": secret})
        assert r.status_code == 403, (combo, secret, r.status_code, r.text)
        assert r.json() == PATCH_FAILED
    # wrong JSON types for the proof
    r = patch_session(srv, me["Id"], {"id": me["Id"], "sid": me["Sid"], "useridcombo": 5, "secret": None})
    assert r.status_code == 403 and r.json() == PATCH_FAILED
    # and the good one still works afterwards
    combo, secret = sharedsecret_combo("bob", now + 600)
    r = patch_session(srv, me["Id"], {"id": me["Id"], "sid": me["Sid"], "useridcombo": combo, "secret": secret})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("path_id", ["garbage", "a" * 5000, "%00", "..%2f..%2f", "%zz"])
def test_bad_session_ids_in_path(srv, path_id):
    combo, secret = sharedsecret_combo("bob", int(time.time()) + 600)
    r = request("PATCH", srv.url + f"/api/v1/sessions/{path_id}/",
                data=json.dumps({"id": path_id, "sid": "x" * 32, "useridcombo": combo, "secret": secret}))
    assert r.status_code in (400, 403, 404, 301), (path_id, r.status_code)
    if r.status_code == 403:
        assert r.json() == PATCH_FAILED


# -- garbage tokens on the WebSocket ------------------------------------------------------------------------------------

@pytest.mark.parametrize("token", ["garbage", "A" * 4000, "%zz", "..", "a%00b", "eyJhbGciOiJub25lIn0.e30."])
def test_garbage_tokens_give_new_session(srv, token):
    conn, me = ws_self(srv.url, token=token)
    conn.close()
    assert me["Id"] and me["Sid"] and me["Userid"] == ""


def test_tampered_token_gives_new_session(srv, session):
    conn, me = session
    t = me["Token"]
    flipped = t[:len(t) // 2] + ("A" if t[len(t) // 2] != "A" else "B") + t[len(t) // 2 + 1:]
    c2, me2 = ws_self(srv.url, token=flipped)
    c2.close()
    assert me2["Id"] != me["Id"]


def test_ws_garbage_upgrade_headers(srv):
    req = (f"GET /ws HTTP/1.1\r\nHost: {HOST}:{srv.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: not-a-valid-key\r\nSec-WebSocket-Version: 99\r\n\r\n").encode()
    raw = raw_exchange(srv.port, req)
    assert raw is not None
    assert 400 <= status_of(raw) < 500, raw[:200]


# -- huge or broken requests --------------------------------------------------------------------------------------------

def test_large_but_acceptable_header(srv):
    r = get(srv.url + "/api/v1/config", headers={"X-Filler": "a" * 32 * 1024})
    assert r.status_code == 200


def test_header_below_the_1_mib_limit_is_accepted(srv):
    # server-conf §3 [http]: the maximum request header size is 1 MiB
    req = (f"GET /api/v1/config HTTP/1.1\r\nHost: {HOST}:{srv.port}\r\n"
           f"X-Filler: {'a' * (256 * 1024)}\r\nConnection: close\r\n\r\n").encode()
    raw = raw_exchange(srv.port, req, timeout=5)
    assert raw is not None, "no answer within 5 s to a request with a 256 KiB header"
    assert status_of(raw) == 200, raw[:200]


def test_huge_header_is_refused(srv):
    req = (f"GET /api/v1/config HTTP/1.1\r\nHost: {HOST}:{srv.port}\r\n"
           f"X-Huge: {'a' * (2 * MIB)}\r\nConnection: close\r\n\r\n").encode()
    raw = raw_exchange(srv.port, req, timeout=5)
    assert raw is not None, "no answer within 5 s to a request with a 2 MiB header (expected 431/400)"
    assert status_of(raw) in (400, 413, 431), raw[:200]


def test_many_headers(srv):
    lines = "".join(f"X-H{i}: v\r\n" for i in range(20000))
    req = f"GET /api/v1/config HTTP/1.1\r\nHost: {HOST}:{srv.port}\r\n{lines}Connection: close\r\n\r\n".encode()
    raw = raw_exchange(srv.port, req, timeout=5)
    assert raw is not None, "no answer within 5 s to a request with 20000 headers"
    assert status_of(raw) in (200, 400, 413, 431), raw[:200]


@pytest.mark.parametrize("data", [
    b"GARBAGE\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    b"POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
])
def test_malformed_http_requests_get_400(srv, data):
    raw = raw_exchange(srv.port, data, timeout=3)
    assert raw is not None, f"no answer within 3 s to malformed request {data!r} (expected 400)"
    assert raw.startswith(b"HTTP/1."), raw[:200]
    assert 400 <= status_of(raw) < 500 or status_of(raw) == 505, raw[:200]


def test_tls_client_hello_on_plain_port(srv):
    raw = raw_exchange(srv.port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64, timeout=5)
    if raw is not None:  # closing the connection is fine; an answer must be an HTTP error
        assert raw.startswith(b"HTTP/1.") and 400 <= status_of(raw) < 500, raw[:200]


@pytest.mark.parametrize("path", ["/%00", "/%zz", "/%C0%AE%C0%AE/", "/" + "x" * 8000, "/static/%00.js",
                                  "/sandbox/%00:/x/pdfcanvas.html", "/api/v1/sessions/%2F/"])
def test_odd_paths_never_5xx(srv, path):
    r = raw_request(srv.port, "GET", path)
    assert r.status < 500, (path, r.status)


def test_slow_client_does_not_block_others(srv):
    s = socket.create_connection((HOST, srv.port), timeout=5)
    try:
        s.sendall(b"GET /api/v1/config HTTP/1.1\r\nHost: x\r\n")  # never finished
        r = get(srv.url + "/api/v1/config")
        assert r.status_code == 200
    finally:
        s.close()


def test_many_parallel_connections(srv):
    socks = []
    try:
        for _ in range(50):
            socks.append(socket.create_connection((HOST, srv.port), timeout=5))
        r = get(srv.url + "/healthz")
        assert r.status_code == 200
    finally:
        for s in socks:
            s.close()


def test_read_timeout_closes_stalled_request(rooms):
    # server-conf §3 [http] readtimeout: a client that stops mid-request is disconnected after the timeout
    s = rooms(default_conf({"http": {"readtimeout": "2"}}))
    sock = socket.create_connection((HOST, s.port), timeout=8)
    try:
        sock.sendall(b"GET /api/v1/config HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        try:
            while sock.recv(65536):
                pass
            closed = True
        except socket.timeout:
            closed = False
        except ConnectionResetError:
            closed = True
        elapsed = time.monotonic() - start
    finally:
        sock.close()
    assert closed, "stalled request still open 8 s after it stopped (readtimeout = 2)"
    assert elapsed < 6, elapsed
    assert s.healthy()
