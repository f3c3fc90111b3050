"""Helpers for the channeling WebSocket end-to-end tests (channeling-api.md; conformance 52-119).

Message shapes follow the original client: most payloads are typed documents nested under the message type, e.g.
`{"Type":"Offer","Offer":{"Type":"Offer","To":<Id>,"Offer":{sdp…}}}`.  Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import time
import zlib
from typing import Any, Callable

from conftest import (
    HOST,
    ws_connect,
    ws_expect_nothing,
    ws_recv,
    ws_recv_until,
    ws_send,
)

HEX64 = "00112233445566778899aabbccddeeff" * 2


# ---------------------------------------------------------------------------------------------------------------------
# message builders


def m_hello(room: str, iid: str | None = "h", room_type: str = "", credentials: Any = "absent", ua: str = "e2e-ua",
            legacy_id: bool = False) -> dict:
    h: dict[str, Any] = {"Version": "1.0", "Ua": ua, "Type": room_type}
    if legacy_id:
        h["Id"] = room
    else:
        h["Name"] = room
    if credentials != "absent":
        h["Credentials"] = credentials
    doc: dict[str, Any] = {"Type": "Hello", "Hello": h}
    if iid is not None:
        doc["Iid"] = iid
    return doc


def m_signal(kind: str, to: str, inner: Any = "absent") -> dict:
    payload: dict[str, Any] = {"Type": kind, "To": to}
    if inner != "absent":
        payload[kind] = inner
    return {"Type": kind, kind: payload}


def m_chat(to: str, chat: dict | None) -> dict:
    payload: dict[str, Any] = {"To": to, "Type": "Chat"}
    if chat is not None:
        payload["Chat"] = chat
    return {"Type": "Chat", "Chat": payload}


def m_status(status: Any, iid: str | None = None) -> dict:
    doc: dict[str, Any] = {"Type": "Status", "Status": {"Type": "Status", "Status": status}}
    if iid is not None:
        doc["Iid"] = iid
    return doc


def m_alive(n: int, iid: str | None = None) -> dict:
    doc: dict[str, Any] = {"Type": "Alive", "Alive": {"Type": "Alive", "Alive": n}}
    if iid is not None:
        doc["Iid"] = iid
    return doc


def m_sessions(kind: str, token: str, iid: str = "ss") -> dict:
    return {"Type": "Sessions", "Sessions": {"Type": "Sessions", "Sessions": {"Type": kind, "Token": token}},
            "Iid": iid}


def m_room(name: str, credentials: Any = "absent", room_type: str = "", iid: str = "rm") -> dict:
    r: dict[str, Any] = {"Type": room_type, "Name": name}
    if credentials != "absent":
        r["Credentials"] = credentials
    return {"Type": "Room", "Room": r, "Iid": iid}


def m_conference(ids: list[str], conf_id: str = "myconf") -> dict:
    return {"Type": "Conference", "Conference": {"Id": conf_id, "Type": "Conference", "Conference": ids}}


def m_auth(userid: str, nonce: str, iid: str | None = None) -> dict:
    doc: dict[str, Any] = {"Type": "Authentication",
                           "Authentication": {"Type": "Authentication",
                                              "Authentication": {"Userid": userid, "Nonce": nonce}}}
    if iid is not None:
        doc["Iid"] = iid
    return doc


# ---------------------------------------------------------------------------------------------------------------------
# a client session


def data_type(t: str) -> Callable[[dict], bool]:
    return lambda e: e["Data"].get("Type") == t


class Client:
    """One channeling session: the connection plus its first `Self`."""

    _iid = 0

    def __init__(self, url: str, token: str | None = None, headers: dict | None = None):
        self.url = url
        self.conn = ws_connect(url, token, headers)
        try:
            env = ws_recv(self.conn, 5)
        except BaseException:
            self.conn.close()
            raise
        assert env["Data"].get("Type") == "Self", f"first frame is not Self: {env}"
        self.self_env = env
        self.me = env["Data"]
        self.id = self.me["Id"]
        self.sid = self.me["Sid"]
        self.token = self.me["Token"]

    # -- raw I/O
    def send(self, doc: dict):
        ws_send(self.conn, doc)

    def send_text(self, text: str):
        self.conn.send(text)

    def recv(self, timeout: float = 5.0) -> dict:
        return ws_recv(self.conn, timeout)

    def recv_until(self, pred: Callable[[dict], bool], timeout: float = 5.0) -> dict:
        return ws_recv_until(self.conn, pred, timeout)

    def recv_type(self, t: str, timeout: float = 5.0) -> dict:
        return self.recv_until(data_type(t), timeout)

    def expect_nothing(self, timeout: float = 0.5):
        ws_expect_nothing(self.conn, timeout)

    def request(self, doc: dict, timeout: float = 5.0) -> dict:
        """Send a request carrying a fresh Iid and return the reply envelope (the frame with that Iid)."""
        Client._iid += 1
        iid = f"i{Client._iid}"
        doc = dict(doc)
        doc["Iid"] = iid
        self.send(doc)
        env = self.recv_until(lambda e: e.get("Iid") == iid, timeout)
        return env

    # -- protocol shortcuts
    def hello(self, room: str, **kw) -> dict:
        return self.request(m_hello(room, **kw))["Data"]

    def join(self, room: str, sync: bool = True, **kw) -> dict:
        d = self.hello(room, **kw)
        assert d.get("Type") == "Welcome", d
        if sync:
            # The server sends Welcome before it broadcasts Joined; one more round trip on this connection (handled
            # strictly in order) makes sure the Joined broadcast is done before another session acts.
            self.alive_ok(1)
        return d

    def users(self) -> dict:
        return self.request({"Type": "Users", "Users": {}})["Data"]

    def alive_ok(self, n: int = 4242, timeout: float = 5.0):
        """The session still works: an Alive with an Iid is answered."""
        env = self.request(m_alive(n), timeout)
        assert env["Data"] == {"Type": "Alive", "Alive": n}, env
        return env

    def drain(self, quiet: float = 0.3) -> list[dict]:
        """Read frames until none arrives for `quiet` seconds."""
        out = []
        while True:
            try:
                out.append(ws_recv(self.conn, quiet))
            except TimeoutError:
                return out

    def close(self):
        try:
            self.conn.close()
        except Exception:
            pass

    def closed_code(self, timeout: float = 5.0):
        """Wait for the server to close the connection; return the close code it sent (None if none)."""
        from websockets.exceptions import ConnectionClosed
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.conn.recv(timeout=max(0.01, deadline - time.monotonic()))
            except ConnectionClosed as e:
                return e.rcvd.code if e.rcvd is not None else None
            except TimeoutError:
                break
        raise AssertionError("connection was not closed by the server")


class Clients:
    """Factory that closes every client at teardown."""

    def __init__(self):
        self.all: list[Client] = []

    def __call__(self, srv, token: str | None = None, headers: dict | None = None) -> Client:
        c = Client(srv.url, token, headers)
        self.all.append(c)
        return c

    def close(self):
        for c in self.all:
            c.close()


def session_ids(users: list[dict]) -> list[str]:
    return [u["Id"] for u in users]


# ---------------------------------------------------------------------------------------------------------------------
# images


def make_png(width: int, height: int, rgb=(200, 30, 90)) -> bytes:
    """A valid 8-bit RGB PNG of the given size."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    row = bytes([0]) + bytes(rgb) * width
    raw = row * height
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    assert data[12:16] == b"IHDR", data[:32]
    return struct.unpack(">II", data[16:24])


def data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


# ---------------------------------------------------------------------------------------------------------------------
# a raw WebSocket client that never answers pings


class RawWS:
    """Minimal RFC 6455 client on a plain socket.  It never answers Ping frames (unlike `websockets`)."""

    def __init__(self, port: int, path: str = "/ws"):
        self.sock = socket.create_connection((HOST, port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(req.encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            assert chunk, "connection closed during handshake"
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("socket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self, timeout: float) -> tuple[int, bytes]:
        """(opcode, payload); raises EOFError on close of the TCP stream, socket.timeout on timeout."""
        self.sock.settimeout(timeout)
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._read(8))[0]
        if b1 & 0x80:
            self._read(4)
        return b0 & 0x0F, self._read(n)

    def send_frame(self, opcode: int, payload: bytes):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send_text(self, text: str):
        self.send_frame(0x1, text.encode())

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def pad_to(doc: dict, size: int, pad_key: str = "Pad") -> str:
    """JSON text of `doc` plus an ignored string member, exactly `size` bytes long (ASCII)."""
    base = json.dumps({**doc, pad_key: ""}, separators=(",", ":"))
    missing = size - len(base.encode())
    assert missing >= 0
    text = json.dumps({**doc, pad_key: "x" * missing}, separators=(",", ":"))
    assert len(text.encode()) == size
    return text
